"""Sign-in journeys in real Chromium: the development sign-in, OpenID Connect (granted and denied), sign-out."""

from __future__ import annotations

import re
import sqlite3
import subprocess

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from portal.core.seed import DEMO_USERS
from tests.browser.conftest import auth_secrets_toml, coe_portal_command, free_port, portal_env

OIDC_USER = {
    "email": "fiona.fischer@example.com",
    "name": "Fiona Fischer",
    "department": "Finance",
    "team": "FP&A",
    "groups": ["coe-reviewers"],
}


def settled(page: Page) -> None:
    """Wait until Streamlit has finished running the script for what is on screen."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    # Elements of the previous run that this run has not redrawn yet are marked stale; a click on one can be
    # lost when it is replaced, so wait until none is left.
    expect(page.locator("[data-stale=true]")).to_have_count(0)


def expect_no_error_box(page: Page) -> None:
    """No st.error / exception box anywhere on the page."""
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def expect_table_cell(page: Page, text: str) -> None:
    """st.dataframe draws on a canvas; its cells are mirrored in an accessible grid inside the canvas."""
    cells = page.get_by_test_id("stDataFrame").locator("[role=gridcell]")
    expect(cells.filter(has_text=re.compile(rf"^{re.escape(text)}$"))).to_have_count(1)


def expect_dev_sign_in_page(page: Page) -> None:
    expect(page.get_by_role("heading", name="Development sign-in")).to_be_visible()
    expect(page.get_by_role("combobox", name="Sign in as")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def expect_oidc_sign_in_page(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in with your company account")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_have_count(0)


@pytest.mark.browser
def test_development_sign_in_admin_page_and_sign_out(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")

    page.goto(portal.url)
    banner = page.get_by_role("alert").filter(has_text="Development sign-in")
    expect(banner).to_contain_text("demo users, no password")
    expect_dev_sign_in_page(page)
    settled(page)
    screenshot("dev-1-sign-in-page")

    page.get_by_role("combobox", name="Sign in as").click()
    page.get_by_role("option", name=re.compile(r"^Ada Admin")).click()
    expect(page.get_by_role("combobox", name="Sign in as")).to_have_value(re.compile(r"^Ada Admin"))
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Welcome, Ada Admin")).to_be_visible()
    expect(page.get_by_text("ada.admin@example.com").first).to_be_visible()
    expect(page.get_by_text("Reachable — serves 2 model(s).")).to_be_visible()
    expect_table_cell(page, "fake-small")
    expect_table_cell(page, "fake-large")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Admin")).to_be_visible()
    settled(page)
    expect_no_error_box(page)
    screenshot("dev-2-home-signed-in-as-ada-admin")

    nav.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{len(DEMO_USERS)} user(s)")).to_be_visible()
    for email in ("ada.admin@example.com", "ravi.reviewer@example.com", "vera.viewer@example.com"):
        expect_table_cell(page, email)
    settled(page)
    expect_no_error_box(page)
    screenshot("dev-3-admin-users-table")

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect_dev_sign_in_page(page)
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    settled(page)
    screenshot("dev-4-signed-out")


@pytest.mark.browser
def test_development_sign_in_is_off_behind_a_proxy_on_the_same_host(browser: Browser, start_portal, artifacts):
    """A reverse proxy on this machine connects from 127.0.0.1 too; its X-Forwarded-For gives it away."""
    portal = start_portal(auth_mode="dev")
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    try:
        page = context.new_page()
        page.goto(portal.url)
        expect(page.get_by_role("heading", name="Development sign-in is off")).to_be_visible()
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
            "this request came through a proxy (it carries X-Forwarded-For)")
        expect(page.get_by_role("combobox", name="Sign in as")).to_have_count(0)
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
        settled(page)
        page.screenshot(path=artifacts / "dev-5-off-behind-a-proxy.png", full_page=True)
    finally:
        context.close()


@pytest.fixture
def oidc_portal(start_portal, oidc_provider):
    """A portal in oidc mode whose [auth] secrets point at the local provider, as a registered client."""
    port = free_port()
    client_id, client_secret = oidc_provider.register_client(f"http://127.0.0.1:{port}/oauth2callback")
    toml = auth_secrets_toml(portal_port=port, issuer=oidc_provider.issuer, client_id=client_id,
                             client_secret=client_secret)
    return start_portal(auth_mode="oidc", secrets_toml=toml, port=port)


@pytest.mark.browser
def test_oidc_sign_in_creates_user_from_claims_and_sign_out_ends_session(
    page: Page, oidc_portal, oidc_provider, screenshot
):
    oidc_provider.set_user("fiona-fischer", OIDC_USER)

    page.goto(oidc_portal.url)
    expect_oidc_sign_in_page(page)
    expect(page.get_by_role("alert").filter(has_text="Development sign-in")).to_have_count(0)
    settled(page)
    screenshot("oidc-1-sign-in-page")

    page.get_by_role("button", name="Sign in with your company account").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert page.url.startswith(oidc_provider.issuer)
    page.get_by_placeholder("sub").fill("fiona-fischer")
    screenshot("oidc-2-provider-authorize-page")
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("heading", name="Welcome, Fiona Fischer")).to_be_visible()
    assert page.url.startswith(oidc_portal.url)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("fiona.fischer@example.com")
    expect(main).to_contain_text("Department: Finance")
    expect(main).to_contain_text("Team: FP&A")
    expect(main).to_contain_text("Role: reviewer")
    expect_table_cell(page, "fake-small")
    # A reviewer manages no users: no Admin page.
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin")).to_have_count(0)
    settled(page)
    expect_no_error_box(page)
    screenshot("oidc-3-home-signed-in-from-claims")

    row = oidc_portal.users()["fiona.fischer@example.com"]
    assert (row["name"], row["department"], row["team"], row["role"]) == (
        "Fiona Fischer", "Finance", "FP&A", "reviewer")

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    assert page.url.startswith(oidc_provider.issuer)
    screenshot("oidc-4-provider-end-session-page")
    page.get_by_role("button", name="End session").click()

    expect_oidc_sign_in_page(page)
    assert page.url.startswith(oidc_portal.url)
    settled(page)
    screenshot("oidc-5-signed-out")
    # The identity cookie is gone too: a reload stays signed out.
    page.reload()
    expect_oidc_sign_in_page(page)


@pytest.mark.browser
def test_denied_oidc_sign_in_stays_on_sign_in_page(page: Page, oidc_portal, oidc_provider, screenshot):
    oidc_provider.set_user("denise-denied", {**OIDC_USER, "email": "denise.denied@example.com",
                                             "name": "Denise Denied"})
    seeded = set(oidc_portal.users())

    page.goto(oidc_portal.url)
    page.get_by_role("button", name="Sign in with your company account").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_role("button", name="Deny").click()

    expect_oidc_sign_in_page(page)
    assert page.url.startswith(oidc_portal.url)
    expect(page.get_by_text("Denise Denied")).to_have_count(0)
    expect(page.get_by_text("it was cancelled or refused by the identity provider")).to_be_visible()
    settled(page)
    expect_no_error_box(page)
    screenshot("oidc-6-denied-back-on-sign-in-page")
    assert set(oidc_portal.users()) == seeded
    assert "denise.denied@example.com" not in seeded
    # The provider's reason, which Streamlit does not hand to the page, is in the portal's log for the CoE team.
    assert "access_denied" in (oidc_portal.workdir / "portal.log").read_text(encoding="utf-8")


def test_dev_sign_in_refuses_to_listen_on_every_interface(tmp_path):
    env = portal_env(tmp_path, auth_mode="dev", server_address="0.0.0.0", server_port=str(free_port()),
                     database_url=f"sqlite:///{tmp_path / 'portal.db'}", gateway_url="http://127.0.0.1:9/v1",
                     log_file=str(tmp_path / "portal.log"))

    result = subprocess.run([*coe_portal_command(), "run", "--seed"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "PORTAL_SERVER_ADDRESS" in message
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "portal.db").exists(), "refused before creating the database"


def oidc_sign_in(browser: Browser, portal_url: str, sub: str) -> tuple[BrowserContext, Page]:
    """A fresh browser (no cookies at the portal or the provider) that signs in at the provider as `sub`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(portal_url)
    page.get_by_role("button", name="Sign in with your company account").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    return context, page


def oidc_identities(portal) -> dict[str, tuple]:
    """e-mail -> (id, issuer, subject) of every portal user."""
    with sqlite3.connect(portal.database) as db:
        rows = db.execute("SELECT email, id, oidc_issuer, oidc_subject FROM portal_user").fetchall()
    return {email: (user_id, issuer, subject) for email, user_id, issuer, subject in rows}


@pytest.mark.browser
def test_oidc_accounts_follow_issuer_and_subject_not_the_email(browser: Browser, oidc_portal, oidc_provider,
                                                               artifacts):
    def shot(page, name: str) -> None:
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    oidc_provider.set_user("fiona-1", OIDC_USER)
    context, page = oidc_sign_in(browser, oidc_portal.url, "fiona-1")
    expect(page.get_by_role("heading", name="Welcome, Fiona Fischer")).to_be_visible()
    context.close()
    first = oidc_identities(oidc_portal)["fiona.fischer@example.com"]
    assert first[1:] == (oidc_provider.issuer, "fiona-1")

    # Her e-mail changes at the provider: the same account, now with the new address.
    oidc_provider.set_user("fiona-1", {**OIDC_USER, "email": "fiona.fox@example.com", "name": "Fiona Fox"})
    context, page = oidc_sign_in(browser, oidc_portal.url, "fiona-1")
    expect(page.get_by_role("heading", name="Welcome, Fiona Fox")).to_be_visible()
    expect(page.get_by_test_id("stMain")).to_contain_text("fiona.fox@example.com")
    settled(page)
    shot(page, "oidc-7-same-subject-new-email")
    context.close()
    identities = oidc_identities(oidc_portal)
    assert identities["fiona.fox@example.com"] == first and "fiona.fischer@example.com" not in identities

    # Another subject claiming her (verified) address does not get her account.
    oidc_provider.set_user("mallory", {**OIDC_USER, "email": "fiona.fox@example.com", "name": "Mallory"})
    context, page = oidc_sign_in(browser, oidc_portal.url, "mallory")
    expect(page.get_by_text("belongs to another sign-in identity")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    settled(page)
    shot(page, "oidc-8-other-subject-same-email-refused")
    context.close()

    # An unverified address never links to the seeded account that holds it.
    oidc_provider.set_user("eve", {"email": "ada.admin@example.com", "email_verified": False, "name": "Eve"})
    context, page = oidc_sign_in(browser, oidc_portal.url, "eve")
    expect(page.get_by_text("has not verified the e-mail address ada.admin@example.com")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Welcome"))).to_have_count(0)
    settled(page)
    shot(page, "oidc-9-unverified-email-refused")
    context.close()

    identities = oidc_identities(oidc_portal)
    assert identities["fiona.fox@example.com"] == first
    assert identities["ada.admin@example.com"][1:] == (None, None)
    assert not any(subject in ("mallory", "eve") for _, _, subject in identities.values())
