"""`coe-portal portfolio export|import` end to end, acting as a named portal user."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from portal.cli import main
from portal.core.audit import AuditEvent
from portal.core.db import make_engine, session_scope
from portal.core.seed import seed_demo_users
from portfolio.models import UseCase

ADMIN, VIEWER = "ada.admin@example.com", "vera.viewer@example.com"


def stored(isolated_portal) -> Session:
    return Session(make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}"))


@pytest.fixture
def demo_users(isolated_portal):
    assert main(["migrate"]) == 0
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with session_scope(engine) as session:
        seed_demo_users(session)
    engine.dispose()


def test_the_seed_portfolio_round_trips_without_a_change(seeded, isolated_portal, capsys) -> None:
    exported = isolated_portal / "portfolio.yaml"
    assert main(["portfolio", "export", "--output", str(exported), "--as", ADMIN]) == 0
    with stored(isolated_portal) as session:
        use_cases = session.exec(select(func.count()).select_from(UseCase)).one()
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    capsys.readouterr()
    assert main(["portfolio", "import", str(exported), "--as", ADMIN]) == 0
    assert capsys.readouterr().out == f"Imported {exported}: 0 created, 0 updated, {use_cases} unchanged.\n"
    with stored(isolated_portal) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
    assert main(["portfolio", "export", "--as", ADMIN]) == 0
    assert capsys.readouterr().out == exported.read_text(encoding="utf-8")


def test_an_import_creates_use_cases_as_the_admin_and_reports_what_it_left(isolated_portal, demo_users,
                                                                           capsys) -> None:
    file = isolated_portal / "new.yaml"
    file.write_text("schema_version: 1\nuse_cases:\n  - {key: minutes, title: Meeting minutes, draft: true, "
                    "stage: pilot}\n", encoding="utf-8")
    assert main(["portfolio", "import", str(file), "--as", ADMIN]) == 0
    out = capsys.readouterr().out
    assert f"Imported {file}: 1 created, 0 updated, 0 unchanged." in out
    assert "  minutes: stage is pilot in the file, idea in the portal (stage moves go through the portal's " \
           "approvals)" in out
    with stored(isolated_portal) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "portfolio.imported")).one()
        assert (event.actor_email, event.after["created"]) == (ADMIN, ["minutes"])


@pytest.mark.parametrize("acting_as, refusal", [
    (VIEWER, "Only an admin may import a portfolio file; your role (viewer) may not."),
    ("nobody@example.com", "No active portal user has the e-mail nobody@example.com"),
])
def test_only_a_named_admin_imports(isolated_portal, demo_users, capsys, acting_as, refusal) -> None:
    file = isolated_portal / "new.yaml"
    file.write_text("schema_version: 1\nuse_cases:\n  - {key: minutes, title: Meeting minutes, draft: true}\n")
    assert main(["portfolio", "import", str(file), "--as", acting_as]) == 2
    assert refusal in capsys.readouterr().err
    with stored(isolated_portal) as session:
        assert session.exec(select(UseCase)).all() == []


def test_an_import_without_a_named_user_is_refused_by_the_parser(isolated_portal, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["portfolio", "import", "file.yaml"])
    assert exited.value.code == 2 and "--as" in capsys.readouterr().err


def test_a_bad_file_imports_nothing(isolated_portal, demo_users, capsys) -> None:
    bad = isolated_portal / "bad.yaml"
    bad.write_text("schema_version: 1\nuse_cases:\n  - {key: fine, title: Fine, draft: true}\n"
                   "  - {key: broken, title: Broken, autonomy: rules-the-world}\n")
    assert main(["portfolio", "import", str(bad), "--as", ADMIN]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, line 4: use_cases.1.autonomy" in err and "Nothing was imported." in err
    (isolated_portal / "binary.yaml").write_bytes(b"\xff\xfe\x00junk")
    assert main(["portfolio", "import", str(isolated_portal / "binary.yaml"), "--as", ADMIN]) == 2
    assert "Cannot read" in capsys.readouterr().err
    with stored(isolated_portal) as session:
        assert session.exec(select(UseCase)).all() == []
