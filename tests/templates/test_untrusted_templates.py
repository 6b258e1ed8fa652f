"""An untrusted template cannot read the server (environment, files) and secret answers stay out of the portal."""

from __future__ import annotations

import io
import json
import os
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput
from templates.forks import fork_template, preview_fork
from templates.models import ForkDestination, TemplateFork
from templates.questions import is_asked, parse_questions
from templates.registry import register_template
from templates.safe_jinja import REFUSED_FILTERS, SAFE_FILTERS
from templates.sandbox import RenderLimits, run_sandboxed
from tests.templates.conftest import ANSWERS_FILE, SIMPLE, git_repo, write_template

CANARY = "sk-canary-gateway-key-7f3a91"
EXPANDVARS = "{{ '$PORTAL_GATEWAY_API_KEY' | expandvars }}"


@pytest.fixture(autouse=True)
def gateway_key(monkeypatch) -> None:
    """The secret an untrusted template must not reach."""
    monkeypatch.setenv("PORTAL_GATEWAY_API_KEY", CANARY)


def registered(session, store, make_user, tmp_path: Path, copier_yml: str, files: dict[str, str]) -> str:
    """Register a template built here (a tagged git repository) as an admin would; returns its name."""
    folder = git_repo(write_template(tmp_path / "untrusted", copier_yml, files), tag="1.0.0")
    register_template(session=session, actor=make_user("admin"), store=store, url=str(folder))
    session.commit()
    return "untrusted"


def previewed(session, store, user, name: str, answers: dict | None = None) -> str:
    """What a person sees from a preview: every file's name and text, or the refusal."""
    try:
        files = preview_fork(session=session, actor=user, store=store, template_name=name, answers=answers or {})
    except InvalidInput as exc:
        return f"refused: {exc}"
    return "\n".join(f"{f.path}: {f.text}" for f in files)


LEAKS = {
    "validator": (SIMPLE + f"name:\n  type: str\n  default: x\n  validator: \"{EXPANDVARS}\"\n", {}),
    "default": (SIMPLE + f"leak:\n  type: str\n  default: \"{EXPANDVARS}\"\n", {"leak.txt.jinja": "{{ leak }}"}),
    "file name": (SIMPLE, {f"{EXPANDVARS}.txt": "x"}),
    "file body": (SIMPLE, {"body.txt.jinja": EXPANDVARS}),
}


@pytest.mark.parametrize("where", list(LEAKS))
def test_expandvars_cannot_read_the_servers_environment(session, store, make_user, tmp_path, where):
    copier_yml, files = LEAKS[where]
    name = registered(session, store, make_user, tmp_path, copier_yml, files)
    seen = previewed(session, store, make_user("contributor"), name)
    assert CANARY not in seen
    assert seen.startswith("refused:") and "the portal leaves out 'expandvars'" in seen


def test_the_key_is_not_in_a_forked_zip_either(session, store, make_user, tmp_path):
    name = registered(session, store, make_user, tmp_path, SIMPLE, {"body.txt.jinja": f"key={EXPANDVARS}"})
    with pytest.raises(InvalidInput, match="expandvars"):
        fork_template(session=session, actor=make_user("contributor"), store=store, template_name=name,
                      answers={}, destination=ForkDestination.ZIP)
    assert session.exec(select(TemplateFork)).all() == []


def test_a_when_cannot_test_the_servers_environment(monkeypatch):
    [question] = parse_questions({"q": {"default": "x", "when": "{{ " + EXPANDVARS[3:-3] + " == '' }}"}})
    with pytest.raises(InvalidInput, match="expandvars"):
        is_asked(question, {})


def test_fileglob_cannot_list_the_servers_files(session, store, make_user, tmp_path):
    files = {"listing.txt.jinja": "{{ '/etc/*' | fileglob | join('\\n') }}"}
    name = registered(session, store, make_user, tmp_path, SIMPLE, files)
    seen = previewed(session, store, make_user("contributor"), name)
    assert "/etc/passwd" not in seen and "the portal leaves out 'fileglob'" in seen


@pytest.mark.parametrize("filter_name", sorted(REFUSED_FILTERS))
def test_every_filter_that_reads_the_host_is_left_out(session, store, make_user, tmp_path, filter_name):
    name = registered(session, store, make_user, tmp_path, SIMPLE, {"x.txt.jinja": f"{{{{ '.' | {filter_name} }}}}"})
    seen = previewed(session, store, make_user("contributor"), name)
    assert seen.startswith("refused:") and f"No filter named '{filter_name}'" in seen


def test_the_pure_ansible_filters_still_work(session, store, make_user, tmp_path):
    body = ("{{ {'a': [1]} | to_nice_yaml }}{{ 'a-b' | regex_replace('-', '_') }} {{ 'hi' | b64encode }} "
            "{{ '/x/y.txt' | basename }} {{ 'k' | hash('sha1') }}")
    name = registered(session, store, make_user, tmp_path, SIMPLE, {"ok.txt.jinja": body})
    seen = previewed(session, store, make_user("contributor"), name)
    assert "ok.txt: a:\n- 1\na_b aGk= y.txt 13fbd79c3d390e5d6585a21e11ff5ec1970cff0c" in seen



def test_the_allow_list_and_the_refusals_cover_every_ansible_filter():
    """A new Ansible filter (a newer package) fails here until someone reads it and files it."""
    from jinja2_ansible_filters.core_filters import FilterModule

    assert set(FilterModule().filters()) == SAFE_FILTERS | set(REFUSED_FILTERS)
    assert not SAFE_FILTERS & set(REFUSED_FILTERS)


def environment_names() -> list[str]:
    """Runs in the render process."""
    return sorted(os.environ)


def test_the_render_process_sees_none_of_the_portals_environment():
    names = run_sandboxed(environment_names, limits=RenderLimits())
    assert "PORTAL_GATEWAY_API_KEY" not in names and not [n for n in names if n.startswith("PORTAL_")]
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL",
                          "GIT_TERMINAL_PROMPT"}


SECRETS = SIMPLE + textwrap.dedent("""\
    _secret_questions: [db_password]
    api_token:
      type: str
      secret: true
      default: none
    db_password:
      type: str
      default: none
    """)
SECRET_FILES = {**ANSWERS_FILE, "config.env.jinja": "TOKEN={{ api_token }}\nDB={{ db_password }}\n"}
SECRET_ANSWERS = {"greeting": "hi", "api_token": "tok-SECRET-1", "db_password": "pw-SECRET-2"}


@pytest.mark.parametrize("destination", [ForkDestination.ZIP, ForkDestination.GIT])
def test_secret_answers_reach_the_project_but_not_the_fork_row_audit_or_answers_file(
        session, store, make_user, tmp_path, destination):
    name = registered(session, store, make_user, tmp_path, SECRETS, SECRET_FILES)
    result = fork_template(session=session, actor=make_user("contributor"), store=store, template_name=name,
                           answers=dict(SECRET_ANSWERS), destination=destination)
    session.commit()
    files = project_files(result)
    assert files["config.env"] == "TOKEN=tok-SECRET-1\nDB=pw-SECRET-2\n"  # the project needs them
    assert "SECRET" not in files[".copier-answers.yml"] and "greeting: hi" in files[".copier-answers.yml"]
    row = session.exec(select(TemplateFork)).one()
    assert row.answers == {"greeting": "hi"}
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "template.forked")).one()
    assert event.after["answers"] == {"greeting": "hi"}
    assert "SECRET" not in json.dumps([event.summary, event.before, event.after])


def project_files(result) -> dict[str, str]:
    if result.zip_bytes is not None:
        with zipfile.ZipFile(io.BytesIO(result.zip_bytes)) as archive:
            return {n.split("/", 1)[1]: archive.read(n).decode() for n in archive.namelist()}
    return {p.name: p.read_text() for p in result.repo_path.iterdir() if p.is_file()}


def test_a_when_that_runs_into_the_time_limit_costs_that_time_once(monkeypatch):
    monkeypatch.setattr("templates.questions.WHEN_LIMITS", RenderLimits(timeout_s=1.0))
    loops = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    [question] = parse_questions({"q": {"default": "x", "when": loops}})
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(InvalidInput, match="longer than 1 s"):
            is_asked(question, {"other": 1})
    assert time.monotonic() - started < 0.5  # the second asking is answered from the cache
