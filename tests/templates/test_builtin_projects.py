"""Every built-in template renders with its defaults and with a varied answer set, and the project's own tests pass.

The generated test suites run in subprocesses with this environment's Python, in parallel (they start their
own fake gateway on a free port), which keeps the whole check well under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import copier
import pytest
import yaml

from templates.registry import BUILTIN_DIR
from templates.render import pinned_copier_settings
from templates.source import read_template

VARIED = {
    "rag-chatbot": {"project_name": "HR handbook bot", "package_name": "hr_bot", "model": "gpt-4o-mini",
                    "embedding_model": "text-embedding-3-small", "chunk_size": 300, "top_k": 2,
                    "temperature": 0.0, "answer_style": "detailed", "cite_sources": False, "file_types": [".txt"]},
    "batch-summariser": {"project_name": "Contract digest", "model": "gpt-4o-mini", "max_words": 40,
                         "tone": "executive", "output_format": "txt", "input_price_per_mtok": 3.0,
                         "output_price_per_mtok": 15.0},
    "extraction-service": {"project_name": "CV parser", "package_name": "cv_parser", "strict": False,
                           "fields": {"full_name": "string", "years_experience": "integer", "remote": "boolean"},
                           "max_input_chars": 500, "port": 9000},
    "streamlit-tool": {"project_name": "Translator", "actions": ["translate"], "max_output_tokens": 64,
                       "show_usage": False},
}
BUILTINS = sorted(p.name for p in BUILTIN_DIR.iterdir() if p.is_dir())


def render(name: str, answers: dict, into: Path) -> Path:
    copier.run_copy(str(BUILTIN_DIR / name), into, data=answers, defaults=True, unsafe=False, quiet=True,
                    settings=pinned_copier_settings())
    return into


def run_generated_tests(project: Path) -> subprocess.CompletedProcess:
    # The generated project stands alone: none of the portal's settings, path or pytest options leak in.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PORTAL_", "GATEWAY_", "PYTEST_")) and k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=180)


def test_there_are_four_builtins_and_each_has_a_varied_answer_set() -> None:
    assert BUILTINS == sorted(VARIED)


def test_every_builtin_project_passes_its_own_tests_with_default_and_varied_answers(tmp_path: Path) -> None:
    jobs = [(name, label, answers) for name in BUILTINS
            for label, answers in (("defaults", {}), ("varied", VARIED[name]))]
    projects = [render(name, answers, tmp_path / f"{name}-{label}") for name, label, answers in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run_generated_tests, projects))
    failures = [f"{name} ({label}):\n{r.stdout[-3000:]}{r.stderr[-2000:]}"
                for (name, label, _), r in zip(jobs, results, strict=True) if r.returncode != 0]
    assert failures == []
    assert all(" passed" in r.stdout for r in results)


@pytest.mark.parametrize("name", BUILTINS)
def test_generated_project_reads_the_gateway_from_the_environment_and_ships_readme_and_dockerfile(
        name: str, tmp_path: Path) -> None:
    project = render(name, VARIED[name], tmp_path / "p")
    assert (project / "README.md").is_file() and (project / "Dockerfile").is_file()
    sources = "\n".join(p.read_text() for p in project.rglob("*.py") if "tests" not in p.parts)
    for variable in ("GATEWAY_URL", "GATEWAY_API_KEY", "GATEWAY_MODEL"):
        assert variable in sources, f"{name} does not read {variable}"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["model"] == VARIED[name].get("model", answers["model"])
    assert "{{" not in (project / "README.md").read_text()


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_metadata_is_complete_and_safe(name: str) -> None:
    info = read_template(BUILTIN_DIR / name)
    assert info.display_name and info.summary and info.category and info.tags and info.owner
    assert info.tech_stack and info.recommended_models and info.readme.startswith("# ")
    assert info.unsafe_features == []
    assert any(q.model_kind == "chat" for q in info.questions)


def test_the_generated_projects_share_one_fake_gateway() -> None:
    # Each generated project must stand alone, so each template ships its own copy of the test server (copier
    # cannot include files from a sibling template); this keeps the copies one file, so a fix reaches them all.
    copies = {name: (BUILTIN_DIR / name / "project" / "tests" / "fake_gateway.py").read_bytes() for name in BUILTINS}
    assert len(copies) == 4 and len(set(copies.values())) == 1
