"""The architecture contract ([tool.importlinter] in pyproject.toml) holds for this checkout, and it has teeth."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "catalog", "guardrails", "metering", "sandbox", "prompt_library", "templates", "training",
            "portfolio")
CONTRACTS = 4  # as many [[tool.importlinter.contracts]] as pyproject.toml declares
LAYERS = ("Layers, no cycles: shell > training > prompt_library | sandbox | templates > metering > guardrails > catalog "
          "> core")
STREAMLIT = "Streamlit only in the pages, portal.deps, portal.ui and portal.app"
DATABASE = "No sqlmodel or sqlalchemy in the pages (services query)"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the packages under `root` with its pyproject.toml, importing that checkout's code."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    # The packages under `root` must win over any installed copy of the portal.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
           "COLUMNS": "200"}  # one contract a line in the report
    return subprocess.run([*command, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def broken_contracts(output: str) -> list[str]:
    return re.findall(r"^(.+?) BROKEN\b", output, flags=re.MULTILINE)


def test_the_import_contract_is_kept() -> None:
    result = lint_imports(REPO_ROOT)
    report = result.stdout + result.stderr
    assert "No module named 'importlinter'" not in report, "import-linter is missing: install the `test` extra"
    assert result.returncode == 0, (f"Broken architecture contracts: {broken_contracts(report) or '(see below)'}\n"
                                    f"{report}")
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in report, report


@pytest.fixture
def checkout_copy(tmp_path: Path) -> Path:
    """The portal's Python packages and pyproject.toml, copied where a test may break them."""
    root = tmp_path / "checkout"
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "builtin", "courses", "static"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("module", "added_import", "contract"), [
    ("sandbox/sharing.py", "import training.unlocks", LAYERS),
    ("prompt_library/review.py", "import training.unlocks", LAYERS),
    ("portal/core/settings.py", "import catalog.models", LAYERS),
    ("metering/budgets.py", "import sandbox.chat", LAYERS),
    ("guardrails/text.py", "import metering.gateway", LAYERS),
    ("catalog/models.py", "import guardrails.text", LAYERS),
    ("prompt_library/runner.py", "import sandbox.chat", LAYERS),
    ("training/labs.py", "import templates.models", "No other feature imports templates"),
    ("training/learning.py", "import portfolio.models", LAYERS),  # the portfolio sits above what it links to
    ("catalog/service.py", "import streamlit", STREAMLIT),
    ("portal/views/catalog.py", "from sqlmodel import select", DATABASE),
])
def test_an_import_against_the_contract_is_reported(checkout_copy: Path, module: str, added_import: str,
                                                    contract: str) -> None:
    path = checkout_copy / module
    path.write_text(path.read_text() + f"\n{added_import}  # against the contract\n")
    result = lint_imports(checkout_copy)
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    assert broken_contracts(report) == [contract], report
