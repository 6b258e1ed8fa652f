"""Template fixtures: a store in the test's folder, the built-ins registered, and template folders to break."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from sqlmodel import Session

from catalog.models import Mode, ModelStatus
from templates.registry import TemplateStore, sync_builtin_templates

CHAT_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
EMBEDDING_MODEL = "BAAI/bge-m3"


@pytest.fixture
def store(tmp_path: Path) -> TemplateStore:
    return TemplateStore(sources_dir=tmp_path / "sources", repos_dir=tmp_path / "repos", max_output_bytes=2_000_000)


@pytest.fixture
def catalog_models(make_model) -> None:
    """The approved chat and embedding models the built-in templates default to."""
    make_model(ModelStatus.APPROVED, name=CHAT_MODEL)
    make_model(ModelStatus.APPROVED, name=EMBEDDING_MODEL, mode=Mode.EMBEDDING.value)


@pytest.fixture
def builtins(session: Session, store: TemplateStore, catalog_models) -> list[str]:
    names = sync_builtin_templates(session=session, store=store)
    session.commit()
    return names


def write_template(folder: Path, copier_yml: str, files: dict[str, str] | None = None) -> Path:
    """A small template folder: copier.yml plus files under project/."""
    folder.mkdir(parents=True)
    (folder / "copier.yml").write_text(copier_yml)
    (folder / "README.md").write_text(f"# {folder.name}\n\nA test template.\n")
    for name, text in (files or {}).items():
        path = folder / "project" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


SIMPLE = textwrap.dedent("""\
    _subdirectory: project
    _answers_file: .copier-answers.yml
    _templates_suffix: .jinja
    greeting:
      type: str
      default: hello
    """)
ANSWERS_FILE = {"{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"}


def git_repo(folder: Path, tag: str = "") -> Path:
    """Make the folder a git repository with one commit (and a tag)."""
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=folder, check=True)
    if tag:
        subprocess.run(["git", "tag", tag], cwd=folder, check=True)
    return folder
