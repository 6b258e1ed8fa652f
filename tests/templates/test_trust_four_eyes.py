"""Trust takes two admins, covers exactly the version and repository they looked at, and is audited."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, StaleEdit
from templates.registry import (
    approve_trust,
    get_template,
    last_trusted_features,
    register_template,
    request_trust,
    revoke_trust,
)
from tests.templates.conftest import SIMPLE, git_repo, write_template
from tests.templates.test_registry_and_updates import git

TASKS = SIMPLE + "_tasks:\n  - \"true\"\n"


@pytest.fixture
def tasks_repo(tmp_path: Path) -> Path:
    return git_repo(write_template(tmp_path / "greeter", TASKS, {"hi.txt.jinja": "{{ greeting }}"}), tag="1.0.0")


def register(session, admin, store, url) -> int:
    revision = register_template(session=session, actor=admin, store=store, url=str(url), name="greeter").revision
    session.commit()
    return revision


def trusted_by_two(session, store, make_user, url):
    """Register, request and approve; returns the two admins."""
    first, second = make_user("admin"), make_user("admin")
    seen = register(session, first, store, url)
    request_trust(session=session, store=store, actor=first, name="greeter", base_revision=seen)
    approve_trust(session=session, store=store, actor=second, name="greeter", base_revision=seen + 1)
    session.commit()
    assert get_template(session=session, name="greeter").trusted
    return first, second


def test_one_admin_cannot_trust_alone(session, store, make_user, tasks_repo) -> None:
    admin = make_user("admin")
    seen = register(session, admin, store, tasks_repo)
    entry = request_trust(session=session, store=store, actor=admin, name="greeter", base_revision=seen)
    assert not entry.trusted and entry.trust_requested_by_id == admin.id
    with pytest.raises(InvalidInput, match="You asked to trust 'greeter' yourself: a second admin must approve"):
        approve_trust(session=session, store=store, actor=admin, name="greeter", base_revision=entry.revision)
    session.rollback()
    assert not get_template(session=session, name="greeter").trusted


def test_approval_needs_a_request(session, store, make_user, tasks_repo) -> None:
    seen = register(session, make_user("admin"), store, tasks_repo)
    with pytest.raises(InvalidInput, match="Nobody has asked to trust 'greeter'"):
        approve_trust(session=session, store=store, actor=make_user("admin"), name="greeter", base_revision=seen)


def test_a_second_admin_approves_and_both_steps_are_audited(session, store, make_user, tasks_repo) -> None:
    first, second = trusted_by_two(session, store, make_user, tasks_repo)
    entry = get_template(session=session, name="greeter")
    assert entry.trusted_by_id == second.id and entry.trust_requested_by_id is None
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_email) for e in events[1:]] == [
        ("template.trust_requested", first.email), ("template.trust_changed", second.email)]
    assert "tasks" in events[1].summary


def test_a_stale_approval_is_refused(session, store, make_user, tasks_repo) -> None:
    first, second = make_user("admin"), make_user("admin")
    seen = register(session, first, store, tasks_repo)
    request_trust(session=session, store=store, actor=first, name="greeter", base_revision=seen)
    session.commit()
    register(session, first, store, tasks_repo)  # the same version registered again: revision moves, request stays
    latest = get_template(session=session, name="greeter").revision
    with pytest.raises(StaleEdit, match="'greeter' changed after trust was requested.*request trust again"):
        approve_trust(session=session, store=store, actor=second, name="greeter", base_revision=latest)
    session.rollback()
    with pytest.raises(StaleEdit):  # the approver's own page is older than the request
        request_trust(session=session, store=store, actor=first, name="greeter", base_revision=latest)
        session.commit()
        approve_trust(session=session, store=store, actor=second, name="greeter", base_revision=latest)
    session.rollback()
    assert not get_template(session=session, name="greeter").trusted


def test_a_new_version_drops_trust_and_the_pending_request(session, store, make_user, tasks_repo) -> None:
    first, _ = trusted_by_two(session, store, make_user, tasks_repo)
    (tasks_repo / "project" / "hi.txt.jinja").write_text("{{ greeting }}, again")  # no new unsafe feature
    git(tasks_repo, "commit", "-qam", "v2")
    entry = register_template(session=session, actor=first, store=store, url=str(tasks_repo), name="greeter")
    session.commit()
    assert entry.unsafe_features == ["tasks"] and not entry.trusted and entry.trusted_by_id is None
    update = session.exec(select(AuditEvent).where(AuditEvent.action == "template.updated")).one()
    assert update.before["trusted"] is True and update.after["trusted"] is False


def test_a_new_source_url_under_the_same_name_drops_trust(session, store, make_user, tasks_repo, tmp_path) -> None:
    first, _ = trusted_by_two(session, store, make_user, tasks_repo)
    elsewhere = shutil.copytree(tasks_repo, tmp_path / "elsewhere" / "greeter")  # same content, other repository
    entry = register_template(session=session, actor=first, store=store, url=str(elsewhere), name="greeter")
    assert entry.source_url == str(elsewhere) and not entry.trusted


def test_one_admin_may_always_remove_trust_and_a_request(session, store, make_user, tasks_repo) -> None:
    first, _ = trusted_by_two(session, store, make_user, tasks_repo)
    assert not revoke_trust(session=session, actor=first, name="greeter").trusted
    seen = get_template(session=session, name="greeter").revision
    request_trust(session=session, store=store, actor=first, name="greeter", base_revision=seen)
    entry = revoke_trust(session=session, actor=make_user("admin"), name="greeter")
    assert entry.trust_requested_by_id is None and not entry.trusted


def test_the_unsafe_features_of_the_last_trusted_version_are_known(session, store, make_user, tasks_repo) -> None:
    admin = make_user("admin")
    register(session, admin, store, tasks_repo)
    assert last_trusted_features(session=session, name="greeter") is None
    trusted_by_two(session, store, make_user, tasks_repo)
    (tasks_repo / "copier.yml").write_text(TASKS + "_migrations:\n  - \"true\"\n")
    git(tasks_repo, "commit", "-qam", "migrations")
    entry = register_template(session=session, actor=admin, store=store, url=str(tasks_repo), name="greeter")
    assert sorted(entry.unsafe_features) == ["migrations", "tasks"] and not entry.trusted
    assert last_trusted_features(session=session, name="greeter") == ["tasks"]
