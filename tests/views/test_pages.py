"""Every page as every role, the sign-in gate, and the admin page's refusals and changes (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.features import Audience, PageSpec, all_pages, pages_for
from portal.core.users import User
from portal.installed import INSTALLED_FEATURES
from tests.conftest import REPO_ROOT
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI
from tests.views.conftest import APP, listen_on

ADMIN_PAGE = str(REPO_ROOT / "portal" / "views" / "admin.py")
APP_DIR = Path(APP).parent


def texts(at) -> str:
    """Everything the page shows as text, for assertions a reader would make."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "text", "error", "warning",
                                  "success", "info") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_signed_out_visitor_sees_the_development_sign_in(open_portal) -> None:
    at = open_portal()
    assert not at.exception
    assert "Development sign-in" in texts(at)
    assert "Ada Admin — admin, AI Center of Excellence" in at.selectbox(key="dev_user").options


def test_signing_in_through_the_form_lands_on_home(open_portal, user_with_role) -> None:
    at = open_portal()
    reviewer = user_with_role("reviewer")
    at.selectbox(key="dev_user").set_value(reviewer.id)
    at.button(key="dev_sign_in").click().run()
    assert not at.exception
    assert f"Welcome, {reviewer.name}" in texts(at)


def test_dev_sign_in_is_refused_when_listening_on_every_interface(open_portal) -> None:
    listen_on("0.0.0.0")
    at = open_portal()
    assert "development sign-in is switched off" in texts(at)
    assert not at.selectbox


def page_path(page: PageSpec) -> str:
    """The page as AppTest's switch_page names it: relative to the app script's folder."""
    return str(page.path.relative_to(APP_DIR))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_page_runs_for_every_role(open_portal, user_with_role, portal_db, role: str) -> None:
    with Session(portal_db) as session:
        sync_courses(session=session, actor=SYSTEM_CLI)
        session.commit()
    user = user_with_role(role)
    at = open_portal(user)
    assert not at.exception, at.exception
    shown = texts(at)
    assert f"Welcome, {user.name}" in shown and f"**Role:** `{role}`" in shown
    assert "Reachable — serves 2 model(s)." in shown
    visible = [page for pages in pages_for(INSTALLED_FEATURES, user).values() for page in pages]
    at.session_state["training_course_slug"] = "prompt-engineering-basics"  # the course, quiz and lab pages open it
    for page in visible:
        at.switch_page(page_path(page)).run()
        assert not at.exception, f"{page.view} as {role}: {at.exception}"
        assert not at.error, f"{page.view} as {role}: {[e.value for e in at.error]}"
    for _, page in all_pages(INSTALLED_FEATURES):
        if page.audience == Audience.SIGNED_IN and page not in visible:
            with pytest.raises(ValueError):  # not in this role's navigation
                at.switch_page(page_path(page))


@pytest.mark.parametrize("role", ["viewer", "contributor", "reviewer"])
def test_admin_page_refuses_non_admins(open_portal, user_with_role, role: str) -> None:
    at = open_portal(user_with_role(role), script=ADMIN_PAGE)
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Your role ({role}) may not change users' roles, departments and teams; that needs the admin role. "
        "Ask a portal admin if you need it."]
    assert not at.dataframe


def test_home_says_when_the_gateway_is_unreachable(open_portal, user_with_role, monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_URL", "http://127.0.0.1:9/v1")
    at = open_portal(user_with_role("viewer"))
    assert not at.exception
    assert "Not reachable" in texts(at) and "Welcome," in texts(at)


def test_admin_changes_a_role_and_the_audit_log_shows_it(open_portal, user_with_role, portal_db) -> None:
    admin = user_with_role("admin")
    viewer = user_with_role("viewer")
    at = open_portal(admin, script=ADMIN_PAGE)
    at.selectbox(key="edit_user").set_value(viewer.id).run()
    at.selectbox(key=f"edit_role_{viewer.id}").set_value(Role.CONTRIBUTOR)
    at.text_input(key=f"edit_team_{viewer.id}").input("Brand")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert f"Saved {viewer.email}: contributor" in texts(at)
    users_table = at.dataframe[0].value
    assert users_table.loc[users_table["e-mail"] == viewer.email, "role"].tolist() == ["contributor"]
    with Session(portal_db) as session:
        assert session.get(User, viewer.id).role == "contributor"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).one()
    assert event.actor_email == admin.email
    at.session_state["admin_tab"] = "Audit log"
    at.run()
    at.selectbox(key="audit_action").set_value("user.role_changed").run()
    audit_table = at.dataframe[-1].value
    assert list(audit_table["actor"]) == [admin.email]


def test_admin_search_finds_users_by_name(open_portal, user_with_role) -> None:
    at = open_portal(user_with_role("admin"), script=ADMIN_PAGE)
    at.text_input(key="user_search").input("hana").run()
    assert list(at.dataframe[0].value["e-mail"]) == ["hana.hr@example.com"]


def test_demoting_the_last_admin_is_refused_and_the_form_keeps_its_values(open_portal, user_with_role,
                                                                         portal_db) -> None:
    admin = user_with_role("admin")
    at = open_portal(admin, script=ADMIN_PAGE)
    at.selectbox(key="edit_user").set_value(admin.id).run()
    at.selectbox(key=f"edit_role_{admin.id}").set_value(Role.VIEWER)
    at.text_input(key=f"edit_dept_{admin.id}").input("Platform Engineering")
    at.button[0].click().run()
    assert any("is the only admin" in e.value for e in at.error)
    assert at.text_input(key=f"edit_dept_{admin.id}").value == "Platform Engineering"
    with Session(portal_db) as session:
        stored = session.get(User, admin.id)
        assert (stored.role, stored.department) == ("admin", "AI Center of Excellence")


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_home_links_everyone_to_the_prompt_library_and_the_templates(open_portal, user_with_role, role) -> None:
    at = open_portal(user_with_role(role))
    labels = [link.value.split(" — ")[0] for link in at.get("page_link")]
    assert "Prompt library" in labels and "Solution templates" in labels


def test_each_run_looks_the_user_up_again_so_a_role_change_or_deactivation_applies_at_once(
        open_portal, user_with_role, portal_db) -> None:
    """The app shell hands its context to the page; the page must never act on an earlier run's user."""
    contributor = user_with_role("contributor")
    at = open_portal(contributor)
    at.switch_page("views/prompt_editor.py").run()
    assert at.title[0].value == "New prompt" and not at.exception
    with Session(portal_db) as session:
        user = session.get(User, contributor.id)
        user.role = Role.VIEWER.value
        session.add(user)
        session.commit()
    at.run()
    assert [t.value for t in at.title] == [f"Welcome, {contributor.name}"]  # back home: a viewer has no editor
    with pytest.raises(ValueError):
        at.switch_page("views/prompt_editor.py")
    with Session(portal_db) as session:
        user = session.get(User, contributor.id)
        user.active = False
        session.add(user)
        session.commit()
    at.run()
    assert [e.value for e in at.error] == [f"{contributor.name}'s account is deactivated; an admin can reactivate it."]
    assert at.selectbox(key="dev_user")  # signed out: the sign-in form again
