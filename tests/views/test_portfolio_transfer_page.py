"""The portfolio page's CSV download for everyone, and the YAML export and import for admins (AppTest)."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portfolio.models import UseCase
from portfolio.portfolio_file import MAX_FILE_BYTES
from tests.views.support import errors, unescaped
from tests.views.test_pages import texts
from tests.views.test_portfolio_pages import BOARD, submitted, user

GOOD = (b"schema_version: 1\nuse_cases:\n  - {key: minutes, title: Meeting minutes, draft: true, stage: pilot}\n")


def upload(at, name: str, data: bytes):
    (widget,) = at.get("file_uploader")
    widget.set_value((name, data, "application/x-yaml")).run()
    at.button(key="pf_import").click().run()
    assert not at.exception, at.exception
    return at


def use_cases(portal_db) -> list[UseCase]:
    with Session(portal_db) as session:
        return list(session.exec(select(UseCase)).all())


def test_everyone_downloads_the_table_as_csv_and_only_admins_see_export_and_import(open_page, portal_db) -> None:
    submitted(portal_db, user(portal_db, "chen.contributor@example.com"), 1)
    viewer = open_page("viewer", BOARD)
    assert not [b for b in viewer.download_button] and not viewer.get("file_uploader")
    viewer.segmented_control(key="pf_view").set_value("Table").run()
    assert [b.key for b in viewer.download_button] == ["pf_csv"]
    assert list(viewer.dataframe[0].value["key"]) == ["invoice-matching"]
    for role in ("reviewer", "risk_reviewer"):
        assert not open_page(role, BOARD).get("file_uploader")
    admin = open_page("admin", BOARD)
    assert [b.key for b in admin.download_button] == ["pf_export"] and len(admin.get("file_uploader")) == 1


def test_an_admin_imports_a_file_and_reads_what_was_not_applied(open_page, portal_db) -> None:
    at = upload(open_page("admin", BOARD), "portfolio.yaml", GOOD)
    assert not errors(at), errors(at)
    said = unescaped(texts(at))
    assert "Imported portfolio.yaml: 1 created, 0 updated, 0 unchanged." in said
    assert "minutes: stage is pilot in the file, idea in the portal (stage moves go through the portal's " \
           "approvals)" in said
    (created,) = use_cases(portal_db)
    assert (created.key, created.stage, created.draft) == ("minutes", "idea", True)
    with Session(portal_db) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "portfolio.imported")).one()
    assert event.actor_email == "ada.admin@example.com"


def test_a_bad_file_is_refused_with_its_line_and_nothing_changes(open_page, portal_db) -> None:
    at = open_page("admin", BOARD)
    upload(at, "bad.yaml", GOOD + b"  - {key: broken, title: Broken, autnomy: decides}\n")
    assert errors(at) == ["bad.yaml, line 4: use_cases.1.autnomy: is not a field of a portfolio file; check the "
                          "spelling\nNothing was imported."]
    upload(at, "ghost.yaml", GOOD + b"  - {key: ghost, title: Ghost, draft: true, owner: nobody@example.com}\n")
    assert errors(at)[0].startswith("ghost.yaml, line 4: use_cases: ghost: Cannot save the draft: the owner "
                                    "nobody@example.com is not an active portal user")
    upload(at, "aliases.yaml", b"schema_version: 1\nuse_cases: &a []\nx: *a\n")
    assert "YAML anchors and aliases" in errors(at)[0]
    upload(at, "latin1.yaml", "schema_version: 1\nuse_cases: [{key: caf\u00e9, title: Caf\u00e9}]\n".encode("latin-1"))
    assert errors(at) == ["latin1.yaml is not UTF-8 text; export the portfolio again or save the file as UTF-8. "
                          "Nothing was imported."]
    upload(at, "huge.yaml", GOOD + b"#" * MAX_FILE_BYTES)
    assert errors(at)[0].startswith("huge.yaml is 8,388,") and "Nothing was imported." in errors(at)[0]
    assert use_cases(portal_db) == []
