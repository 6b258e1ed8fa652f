"""Render bombs: a template that wants too much time, memory or disk is stopped with a message naming the limit."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlmodel import select

from templates.forks import fork_template, preview_fork
from templates.models import ForkDestination, TemplateFork
from templates.registry import TemplateStore, register_template
from templates.render import OutputTooLarge
from templates.sandbox import RenderLimitExceeded
from templates.updates import update_fork
from tests.templates.conftest import ANSWERS_FILE, SIMPLE, git_repo, write_template

HUGE = "{{ 'x' * 3000000000 }}"  # 3 GB in one string
LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"  # 10^10 turns
MEMORY = "more than 100 MB of memory to render (PORTAL_TEMPLATES_RENDER_MEMORY_MB)"
TIME = "longer than 3 s to render (PORTAL_TEMPLATES_RENDER_TIMEOUT_S)"


@pytest.fixture
def tight(store: TemplateStore, tmp_path: Path, monkeypatch) -> TemplateStore:
    """Limits small enough to hit quickly; the render's temporary folders go where the test can count them."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return dataclasses.replace(store, render_timeout_s=3.0, render_memory_mb=100)


def bomb(session, store, make_user, tmp_path: Path, copier_yml: str = SIMPLE, files: dict | None = None) -> str:
    folder = git_repo(write_template(tmp_path / "bomb", copier_yml, files or {"a.txt": "a"}), tag="1.0.0")
    register_template(session=session, actor=make_user("admin"), store=store, url=str(folder))
    session.commit()
    return "bomb"


def nothing_left(store: TemplateStore, tmp_path: Path) -> bool:
    """No scratch folder, no temporary render folder, no fork recorded."""
    scratch = list(store.repos_dir.iterdir()) if store.repos_dir.exists() else []
    return scratch == [] and list((tmp_path / "tmp").glob("portal-render-*")) == []


CASES = {
    "huge default": (SIMPLE + f"big:\n  type: str\n  default: \"{HUGE}\"\n", None, RenderLimitExceeded, MEMORY),
    "huge file": (SIMPLE, {"big.txt.jinja": HUGE}, RenderLimitExceeded, MEMORY),
    "looping validator": (SIMPLE + f"slow:\n  type: str\n  default: x\n  validator: \"{LOOPS}\"\n", None,
                          RenderLimitExceeded, TIME),
    "looping file": (SIMPLE, {"slow.txt.jinja": LOOPS}, RenderLimitExceeded, TIME),
    "one big file": (SIMPLE, {"big.txt.jinja": "{% for i in range(5000) %}{{ 'x' * 1000 }}{% endfor %}"},
                     OutputTooLarge, "more than 2,000,000 bytes of output"),
    "many files": (SIMPLE, {"{% yield i from range(30) %}f{{ i }}{% endyield %}.txt.jinja": "{{ 'y' * 100000 }}"},
                   OutputTooLarge, "2,000,000-byte limit"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("action", ["preview", "fork"])
def test_a_render_bomb_is_stopped_with_the_limit_named(session, tight, make_user, tmp_path, case, action):
    copier_yml, files, error, message = CASES[case]
    name = bomb(session, tight, make_user, tmp_path, copier_yml, files)
    user = make_user("contributor")
    started = time.monotonic()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        if action == "preview":
            preview_fork(session=session, actor=user, store=tight, template_name=name, answers={})
        else:
            fork_template(session=session, actor=user, store=tight, template_name=name, answers={},
                          destination=ForkDestination.GIT)
    assert time.monotonic() - started < 10
    assert nothing_left(tight, tmp_path) and session.exec(select(TemplateFork)).all() == []


def test_an_update_to_a_bomb_version_is_stopped_and_leaves_the_fork_as_it_was(session, tight, make_user, tmp_path):
    admin = make_user("admin")
    folder = git_repo(write_template(tmp_path / "greeter", SIMPLE, {**ANSWERS_FILE, "hello.txt.jinja": "hi\n"}),
                      tag="1.0.0")
    register_template(session=session, actor=admin, store=tight, url=str(folder))
    fork = fork_template(session=session, actor=admin, store=tight, template_name="greeter", answers={},
                         destination=ForkDestination.GIT).fork
    session.commit()
    (folder / "project" / "hello.txt.jinja").write_text(HUGE)
    for args in (["commit", "-qam", "bomb"], ["tag", "2.0.0"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=folder, check=True)
    register_template(session=session, actor=admin, store=tight, url=str(folder))
    session.commit()
    with pytest.raises(RenderLimitExceeded, match="100 MB of memory"):
        update_fork(session=session, actor=admin, store=tight, fork_id=fork.id)
    repo = Path(fork.repo_path)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                            check=True).stdout
    branches = subprocess.run(["git", "branch", "--list"], cwd=repo, capture_output=True, text=True,
                              check=True).stdout
    assert status == "" and branches.split() == ["*", "main"] and (repo / "hello.txt").read_text() == "hi\n"
    assert list((tmp_path / "tmp").glob("portal-render-*")) == []


def spin() -> None:
    """Runs in the render process: a loop with no end."""
    while True:
        pass


def test_a_render_left_alone_is_ended_by_the_kernel_after_its_cpu_time(tmp_path):
    from templates.render_server import confine
    from templates.sandbox import RenderLimits

    started = time.monotonic()
    child = os.fork()
    if child == 0:  # what a render child does, as if the portal that would stop it were gone
        try:
            confine(RenderLimits(timeout_s=1.0), str(tmp_path))
            spin()
        finally:
            os._exit(1)  # never back into pytest
    _, status = os.waitpid(child, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
    assert time.monotonic() - started < 30
