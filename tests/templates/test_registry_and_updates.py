"""Registering templates and their new versions, trust, and updating a git fork onto a branch."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from templates.forks import fork_template
from templates.lineage import list_templates, reuse_figures, template_forks
from templates.models import ForkDestination, TemplateEntry, TemplateFork
from templates.registry import (
    approve_trust,
    get_template,
    register_template,
    request_trust,
    sync_builtin_templates,
)
from templates.updates import update_fork
from tests.templates.conftest import ANSWERS_FILE, SIMPLE, git_repo, write_template

HELLO_V1 = "{{ greeting }} from version one\nmiddle line\nlast line\n"


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=folder, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    folder = write_template(tmp_path / "greeter", SIMPLE, {**ANSWERS_FILE, "hello.txt.jinja": HELLO_V1})
    return git_repo(folder, tag="1.0.0")


def register(session, admin, store, folder: Path) -> TemplateEntry:
    entry = register_template(session=session, actor=admin, store=store, url=str(folder))
    session.commit()
    return entry


def new_template_version(folder: Path, hello: str, tag: str) -> None:
    (folder / "project" / "hello.txt.jinja").write_text(hello)
    (folder / "project" / "added.txt").write_text("added in the new version\n")
    git(folder, "commit", "-qam", "new version")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "add file")
    git(folder, "tag", tag)


def git_fork(session, user, store) -> TemplateFork:
    result = fork_template(session=session, actor=user, store=store, template_name="greeter", answers={},
                           destination=ForkDestination.GIT)
    session.commit()
    return result.fork


def test_registering_reads_metadata_and_version_tag_and_is_audited(session, store, make_user, greeter):
    admin = make_user("admin")
    entry = register(session, admin, store, greeter)
    assert (entry.name, entry.version, entry.source, entry.mirror_ref) == ("greeter", "1.0.0", "git", "1")
    assert entry.display_name == "Greeter" and entry.summary == "A test template."
    assert entry.readme.startswith("# greeter") and entry.questions[0]["name"] == "greeting"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "template.registered")).one()
    assert event.entity_id == "greeter" and event.actor_email == admin.email


def test_an_untagged_repository_is_versioned_by_content_hash(session, store, make_user, tmp_path):
    entry = register(session, make_user("admin"), store, git_repo(write_template(tmp_path / "plain-tpl", SIMPLE)))
    assert len(entry.version) == 12 and int(entry.version, 16) >= 0


def test_only_admins_register_and_trust(session, store, make_user, greeter):
    with pytest.raises(PermissionDenied, match="register solution templates"):
        register(session, make_user("reviewer"), store, greeter)
    register(session, make_user("admin"), store, greeter)
    with pytest.raises(PermissionDenied):
        request_trust(session=session, store=store, actor=make_user("contributor"), name="greeter", base_revision=1)


def test_builtins_cannot_be_overwritten_by_a_registration(session, builtins, store, make_user, greeter):
    with pytest.raises(InvalidInput, match="built-in"):
        register_template(session=session, actor=make_user("admin"), store=store, url=str(greeter),
                          name="rag-chatbot")


def test_syncing_unchanged_builtins_changes_nothing(session, builtins, store):
    assert len(builtins) == 4
    assert sync_builtin_templates(session=session, store=store) == []
    assert get_template(session=session, name="rag-chatbot").mirror_ref == "1"


def test_trust_changes_are_audited_and_a_new_unsafe_feature_drops_trust(session, store, make_user, greeter):
    admin = make_user("admin")
    register(session, admin, store, greeter)
    request_trust(session=session, store=store, actor=admin, name="greeter", base_revision=1)
    approve_trust(session=session, store=store, actor=make_user("admin"), name="greeter", base_revision=2)
    session.commit()
    (greeter / "copier.yml").write_text(SIMPLE + "_tasks:\n  - \"true\"\n")
    git(greeter, "commit", "-qam", "tasks")
    git(greeter, "tag", "1.1.0")
    entry = register(session, admin, store, greeter)
    assert entry.unsafe_features == ["tasks"] and entry.trusted is False
    actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["template.registered", "template.trust_requested", "template.trust_changed",
                       "template.updated"]


def test_update_of_a_changed_fork_reports_the_conflict_on_a_new_branch(session, store, make_user, greeter):
    admin, user = make_user("admin"), make_user("contributor")
    register(session, admin, store, greeter)
    fork = git_fork(session, user, store)
    repo = Path(fork.repo_path)
    (repo / "hello.txt").write_text("hello from MY edit\nmiddle line\nlast line\n")
    git(repo, "commit", "-qam", "my change")
    new_template_version(greeter, "{{ greeting }} from version two\nmiddle line\nlast line\n", "1.1.0")
    entry = register(session, admin, store, greeter)
    assert entry.version == "1.1.0" and entry.mirror_ref == "2"
    [row] = template_forks(session=session, actor=user, template=entry)
    assert row.update_available and row.user_email == user.email

    result = update_fork(session=session, actor=user, store=store, fork_id=fork.id)
    session.commit()
    assert result.branch == "template-update-2" and result.base_branch == "main"
    assert result.conflicts == ["hello.txt"]
    assert "added.txt" in result.changed_files and "+added in the new version" in result.diff
    # The user's branch is untouched, checked out and clean; the conflict sits on the update branch.
    assert (repo / "hello.txt").read_text().startswith("hello from MY edit") and not (repo / "added.txt").exists()
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo, "status", "--porcelain") == ""
    on_branch = git(repo, "show", "template-update-2:hello.txt")
    assert "<<<<<<< " in on_branch and "MY edit" in on_branch and "version two" in on_branch
    assert session.get(TemplateFork, fork.id).update_branch == "template-update-2"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "template.fork_updated")).one()
    assert event.after["conflicts"] == ["hello.txt"]


def test_update_of_an_unchanged_fork_has_no_conflicts(session, store, make_user, greeter):
    admin = make_user("admin")
    register(session, admin, store, greeter)
    fork = git_fork(session, admin, store)
    new_template_version(greeter, "{{ greeting }} from version two\nmiddle line\nlast line\n", "1.1.0")
    register(session, admin, store, greeter)
    result = update_fork(session=session, actor=admin, store=store, fork_id=fork.id)
    assert result.conflicts == [] and "-hello from version one" in result.diff
    assert git(Path(fork.repo_path), "show", f"{result.branch}:hello.txt") == "hello from version two\nmiddle line\nlast line\n"


def test_update_refusals(session, store, make_user, greeter):
    admin, user, other = make_user("admin"), make_user("contributor"), make_user("contributor")
    register(session, admin, store, greeter)
    fork = git_fork(session, user, store)
    with pytest.raises(InvalidInput, match="already at the template's newest version"):
        update_fork(session=session, actor=user, store=store, fork_id=fork.id)
    new_template_version(greeter, "changed\n", "1.1.0")
    register(session, admin, store, greeter)
    with pytest.raises(PermissionDenied, match="Only the person who made the fork"):
        update_fork(session=session, actor=other, store=store, fork_id=fork.id)
    (Path(fork.repo_path) / "hello.txt").write_text("uncommitted")
    with pytest.raises(InvalidInput, match="uncommitted changes"):
        update_fork(session=session, actor=user, store=store, fork_id=fork.id)
    zipped = fork_template(session=session, actor=user, store=store, template_name="greeter", answers={},
                           destination=ForkDestination.ZIP).fork
    zipped.template_version = "old"
    with pytest.raises(InvalidInput, match="Only forks the portal created as a git repository"):
        update_fork(session=session, actor=user, store=store, fork_id=zipped.id)


def test_lineage_counts_forks_per_month_and_teams_in_sql(session: Session, builtins, store, make_user):
    users = [make_user("contributor", team=team, department=dept) for team, dept in
             (("A", "X"), ("B", "X"), ("C", "Y"))]
    entry = get_template(session=session, name="streamlit-tool")
    months = [datetime(2026, 9, 3, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 30, tzinfo=UTC)]
    for user, when in zip(users, months, strict=True):
        session.add(TemplateFork(template_id=entry.id, template_version="old", project_name="p", user_id=user.id,
                                 team=user.team, department=user.department, destination="zip", created_at=when))
    session.add(TemplateFork(template_id=entry.id, template_version=entry.version, project_name="p",
                             user_id=users[0].id, team="A", department="X", destination="zip",
                             created_at=datetime(2026, 10, 2, tzinfo=UTC)))
    session.commit()
    reuse = reuse_figures(session=session, actor=users[0], template=entry)
    assert (reuse.forks, reuse.teams, reuse.departments) == (4, 3, 2)
    assert reuse.per_month == [("2026-09", 1), ("2026-10", 3)]
    rows, total = list_templates(session=session, actor=users[0])
    assert total == 4 and rows[0].entry.name == "streamlit-tool" and (rows[0].forks, rows[0].teams) == (4, 3)
    assert [r.forks for r in rows[1:]] == [0, 0, 0]
    forks = template_forks(session=session, actor=users[0], template=entry)
    assert [f.update_available for f in forks] == [True, False, True, True]  # newest first
    assert list_templates(session=session, actor=users[0], search="streamlit")[1] == 1


def test_a_model_card_lists_the_templates_whose_forks_chose_it(session, builtins, store, make_user):
    from templates.lineage import template_dependents

    for team in ("A", "B", "A"):
        fork_template(session=session, actor=make_user("contributor", team=team), store=store,
                      template_name="rag-chatbot", answers={}, destination=ForkDestination.ZIP)
    session.commit()
    found = template_dependents(session=session, model_name="BAAI/bge-m3")
    assert [(d.kind, d.name, d.detail) for d in found] == [
        ("template", "RAG chatbot over a folder of documents", "3 fork(s) in 2 team(s)")]
    assert template_dependents(session=session, model_name="unused-model") == []


def test_bytecode_left_in_a_template_is_not_a_new_version(tmp_path):
    from templates.source import content_hash

    folder = write_template(tmp_path / "tpl", SIMPLE, {"a.py": "x = 1\n"})
    before = content_hash(folder)
    (folder / "project" / "__pycache__").mkdir()
    (folder / "project" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert content_hash(folder) == before
    (folder / "project" / "a.py").write_text("x = 2\n")
    assert content_hash(folder) != before


def test_builtins_are_registered_by_the_scheduler_principal(session, builtins):
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "template.registered")).all()
    assert len(events) == len(builtins) == 4
    assert {(e.actor_email, e.actor_id) for e in events} == {("system:scheduler", None)}
    assert {get_template(session=session, name=name).registered_by_id for name in builtins} == {None}
