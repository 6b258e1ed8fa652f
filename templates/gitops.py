"""The few git commands templates need, run with a fixed identity and no user hooks or templates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from portal.core.errors import PortalError

GIT_TIMEOUT_S = 120
IDENTITY = ("-c", "user.name=CoE Portal", "-c", "user.email=portal@localhost", "-c", "commit.gpgsign=false",
            "-c", "core.hooksPath=/dev/null", "-c", "init.templateDir=", "-c", "protocol.ext.allow=never")


class GitError(PortalError):
    """A git command failed; the message carries git's own words."""


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    """Run git and return its standard output; GitError with git's message when it fails."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT_S} s and was stopped.") from None
    if check and done.returncode != 0:
        raise GitError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()[:500]}")
    return done.stdout


def init_repository(folder: Path) -> None:
    git("init", "--quiet", "--initial-branch=main", str(folder))


def commit_all(folder: Path, message: str) -> bool:
    """Stage everything and commit; False when there was nothing to commit."""
    git("add", "--all", cwd=folder)
    if not git("status", "--porcelain", cwd=folder).strip():
        return False
    git("commit", "--quiet", "--no-verify", "-m", message, cwd=folder)
    return True


def current_branch(folder: Path) -> str:
    return git("rev-parse", "--abbrev-ref", "HEAD", cwd=folder).strip()
