"""Forking: zip and git outputs, the record and audit event, the preview, and every refusal."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from catalog.models import ModelStatus
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from templates.forks import fork_template, model_options_for, preview_fork
from templates.models import ForkDestination, TemplateFork
from templates.questions import InvalidAnswers
from templates.registry import approve_trust, register_template, request_trust
from templates.render import OutputTooLarge, check_output
from templates.source import NotATemplate, UnsafeTemplate
from tests.templates.conftest import CHAT_MODEL, SIMPLE, git_repo, write_template

ZIP, GIT = ForkDestination.ZIP, ForkDestination.GIT


def fork(session, user, store, name="batch-summariser", answers=None, destination=ZIP):
    result = fork_template(session=session, actor=user, store=store, template_name=name, answers=answers or {},
                           destination=destination)
    session.commit()
    return result


def leftovers(store) -> list[str]:
    return sorted(p.name for p in store.repos_dir.iterdir()) if store.repos_dir.exists() else []


def test_fork_to_zip_holds_the_rendered_project_and_is_recorded_and_audited(session, builtins, store, make_user):
    user = make_user("contributor", team="Claims", department="Insurance")
    result = fork(session, user, store, answers={"project_name": "Claims digest", "max_words": 60})
    names = zipfile.ZipFile(io.BytesIO(result.zip_bytes)).namelist()
    assert "claims-digest/claims_digest/summarise.py" in names and "claims-digest/Dockerfile" in names
    assert result.file_name == "claims-digest.zip"
    row = session.exec(select(TemplateFork)).one()
    assert (row.team, row.department, row.user_id, row.destination) == ("Claims", "Insurance", user.id, "zip")
    assert row.answers["max_words"] == 60 and row.answers["model"] == CHAT_MODEL
    assert len(row.template_version) == 12
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "template.forked")).one()
    assert event.actor_email == user.email and event.after["answers"]["project_name"] == "Claims digest"
    assert leftovers(store) == []


def test_fork_to_git_creates_a_repository_with_an_initial_commit(session, builtins, store, make_user):
    user = make_user("contributor")
    first = fork(session, user, store, destination=GIT)
    second = fork(session, user, store, destination=GIT)
    assert first.repo_path == store.repos_dir / "report-summariser"
    assert second.repo_path == store.repos_dir / "report-summariser-2"
    log = subprocess.run(["git", "log", "--oneline"], cwd=first.repo_path, capture_output=True, text=True).stdout
    assert "Generated from template batch-summariser" in log and len(log.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=first.repo_path, capture_output=True, text=True)
    assert status.stdout == ""
    assert session.exec(select(TemplateFork.repo_path)).all() == [str(first.repo_path), str(second.repo_path)]


def test_preview_shows_files_and_their_text_and_leaves_nothing(session, builtins, store, make_user):
    files = preview_fork(session=session, actor=make_user("contributor"), store=store,
                         template_name="extraction-service", answers={"fields": "name: string\nage: integer"})
    by_path = {f.path: f for f in files}
    assert '"age": {"type": ["integer", "null"]}' in by_path["invoice_extractor/schema.json"].text
    assert "README.md" in by_path and by_path["README.md"].size > 0
    assert leftovers(store) == [] and session.exec(select(TemplateFork)).all() == []


def test_bad_answers_are_refused_per_field_and_nothing_is_written(session, builtins, store, make_user):
    with pytest.raises(InvalidAnswers) as caught:
        fork(session, make_user("contributor"), store, answers={"max_words": "lots", "tone": "angry"})
    assert set(caught.value.errors) == {"max_words", "tone"}
    assert leftovers(store) == [] and session.exec(select(TemplateFork)).all() == []


def test_viewers_may_not_fork(session, builtins, store, make_user):
    with pytest.raises(PermissionDenied, match="fork templates"):
        fork(session, make_user("viewer"), store)


def test_model_questions_offer_only_usable_models_available_to_the_user(session, builtins, store, make_user,
                                                                       make_model):
    make_model(ModelStatus.PROPOSED, name="not-yet")
    make_model(ModelStatus.RESTRICTED, name="other-team-only", restricted_teams=["Elsewhere"])
    user = make_user("contributor")
    options = model_options_for(session=session, user=user)
    assert options["chat"] == [CHAT_MODEL] and options["embedding"] == ["BAAI/bge-m3"]
    with pytest.raises(InvalidAnswers) as caught:
        fork(session, user, store, answers={"model": "other-team-only"})
    assert caught.value.errors == {"model": "Pick an approved chat model; 'other-team-only' is not one."}


def register(session, admin, store, folder: Path, name: str = ""):
    entry = register_template(session=session, actor=admin, store=store, url=str(folder), name=name)
    session.commit()
    return entry


TASKS = SIMPLE + "_tasks:\n  - \"touch task-ran\"\n"


def test_a_template_with_tasks_is_refused_until_an_admin_trusts_it(session, store, make_user, tmp_path):
    admin = make_user("admin")
    entry = register(session, admin, store, git_repo(write_template(tmp_path / "with-tasks", TASKS,
                                                                    {"hi.txt.jinja": "{{ greeting }}"})))
    assert entry.unsafe_features == ["tasks"] and not entry.trusted
    with pytest.raises(UnsafeTemplate, match="uses tasks.*an admin must mark it trusted"):
        fork(session, admin, store, name="with-tasks")
    assert leftovers(store) == []
    requested = request_trust(session=session, store=store, actor=admin, name="with-tasks", base_revision=entry.revision)
    approve_trust(session=session, store=store, actor=make_user("admin"), name="with-tasks", base_revision=requested.revision)
    result = fork(session, admin, store, name="with-tasks", destination=GIT)
    assert (result.repo_path / "task-ran").exists() and (result.repo_path / "hi.txt").read_text() == "hello"


def test_no_copier_settings_file_can_widen_trust(session, store, make_user, tmp_path, monkeypatch):
    admin = make_user("admin")
    register(session, admin, store, git_repo(write_template(tmp_path / "with-tasks", TASKS)))
    settings = tmp_path / "copier-settings.yml"
    settings.write_text(f"trust:\n  - {store.sources_dir}/\n  - /\n")
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    (tmp_path / "home" / ".config" / "copier").mkdir(parents=True)
    (tmp_path / "home" / ".config" / "copier" / "settings.yml").write_text(settings.read_text())
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(UnsafeTemplate):
        fork(session, admin, store, name="with-tasks")


@pytest.mark.parametrize(("key", "feature"), [("_migrations", "migrations"),
                                              ("_jinja_extensions", "jinja_extensions")])
def test_migrations_and_jinja_extensions_count_as_unsafe(session, store, make_user, tmp_path, key, feature):
    admin = make_user("admin")
    value = '[{"version": "1", "command": "true"}]' if key == "_migrations" else '["jinja2.ext.do"]'
    entry = register(session, admin, store, git_repo(write_template(tmp_path / "tpl", SIMPLE + f"{key}: {value}\n")))
    assert entry.unsafe_features == [feature]
    with pytest.raises(UnsafeTemplate):
        fork(session, admin, store, name="tpl")


@pytest.mark.parametrize("target", ["../../../escaped", "/tmp/escaped-absolute"])
def test_a_file_name_escaping_the_project_is_refused(session, store, make_user, tmp_path, target):
    admin = make_user("admin")
    escaping = SIMPLE + "target:\n  type: str\n  default: ok\n"
    register(session, admin, store, git_repo(write_template(tmp_path / "escape", escaping,
                                                            {"{{ target }}.txt": "x"})))
    with pytest.raises(UnsafeTemplate, match="outside the project"):
        fork(session, admin, store, name="escape", answers={"target": target})
    assert not list(tmp_path.rglob("escaped*.txt")) and leftovers(store) == []
    assert not Path("/tmp/escaped-absolute.txt").exists()


def test_a_template_with_a_symlink_out_of_itself_is_not_registered(session, store, make_user, tmp_path):
    folder = write_template(tmp_path / "linky", SIMPLE, {"ok.txt": "x"})
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", folder / "project" / "secret.txt")
    with pytest.raises(UnsafeTemplate, match="symlink"):
        register(session, make_user("admin"), store, git_repo(folder))


def test_rendered_symlinks_leaving_the_project_are_refused(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    os.symlink("../../etc/passwd", project / "passwd")
    with pytest.raises(UnsafeTemplate, match="passwd is a symlink"):
        check_output(project, max_bytes=10_000)
    os.unlink(project / "passwd")
    os.symlink("README.md", project / "inside")
    check_output(project, max_bytes=10_000)  # a link within the project is fine


def test_a_huge_rendered_output_is_refused(session, builtins, store, make_user):
    small = type(store)(sources_dir=store.sources_dir, repos_dir=store.repos_dir, max_output_bytes=10_000)
    with pytest.raises(OutputTooLarge, match="10,000-byte limit"):
        fork(session, make_user("contributor"), small, destination=GIT)
    assert leftovers(store) == [] and session.exec(select(TemplateFork)).all() == []


def test_a_repository_that_is_not_a_copier_template_is_refused(session, store, make_user, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "README.md").write_text("# not a template")
    with pytest.raises(NotATemplate, match="no copier.yml"):
        register(session, make_user("admin"), store, git_repo(folder))


def test_register_refuses_odd_urls(session, store, make_user):
    with pytest.raises(InvalidInput, match="https://"):
        register_template(session=session, actor=make_user("admin"), store=store, url="ext::sh -c touch% /tmp/x")
