"""Pages enforce the permission their manifest declares, and a new feature's manifest adds a page (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal import installed
from portal.core.auth import MINIMUM_ROLE, PERMISSION_DESCRIPTIONS, Permission, Role
from portal.core.features import Audience, FeatureManifest, PageSpec, Section, all_pages

SIGNED_IN_PAGES = [page for _, page in all_pages(installed.INSTALLED_FEATURES) if page.audience == Audience.SIGNED_IN]
# Every (page, role) pair where the manifest says the role may not see the page.
REFUSED = [(page, role) for page in SIGNED_IN_PAGES if page.permission is not None
           for role in Role if not role.includes(MINIMUM_ROLE[page.permission])]


def refusal(role: Role, permission: Permission) -> str:
    return (f"Your role ({role}) may not {PERMISSION_DESCRIPTIONS[permission]}; that needs the "
            f"{MINIMUM_ROLE[permission]} role. Ask a portal admin if you need it.")


@pytest.mark.parametrize("page, role", REFUSED, ids=[f"{p.view}-{r}" for p, r in REFUSED])
def test_a_page_opened_directly_refuses_the_roles_its_manifest_leaves_out(open_portal, user_with_role,
                                                                           page: PageSpec, role: Role) -> None:
    at = open_portal(user_with_role(role.value), script=str(page.path))
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [refusal(role, page.permission)]


def test_some_page_is_refused_to_each_role_below_admin() -> None:
    assert {role for _, role in REFUSED} == {Role.VIEWER, Role.CONTRIBUTOR, Role.REVIEWER, Role.RISK_REVIEWER}


@pytest.mark.parametrize("page", SIGNED_IN_PAGES, ids=[str(p.view) for p in SIGNED_IN_PAGES])
def test_a_page_takes_its_permission_from_its_manifest_only(page: PageSpec) -> None:
    """Declared once: the page asks deps.require_page, never names its own gate."""
    source = page.path.read_text(encoding="utf-8")
    assert source.count("deps.require_page(") == 1 and "__file__)" in source
    # A permission checked at the page's top level would be a second declaration of its gate.
    assert not re.search(r"^deps\.require_permission\(", source, re.MULTILINE)


PORTFOLIO_PAGE = '''
import streamlit as st

from portal import deps

context = deps.portal_context()
user = deps.require_user(context)
st.title("Use-case portfolio")
deps.require_page(user, __file__)
st.write("Every AI use case, its owner and its stage.")
'''


@pytest.fixture
def portfolio_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PageSpec:
    """A feature declared only here, its page outside portal/, installed next to the built-in features."""
    script = tmp_path / "use_cases.py"
    script.write_text(PORTFOLIO_PAGE, encoding="utf-8")
    page = PageSpec(script, title="Use-case portfolio", icon=":material/work:", section="Use cases",
                    permission=Permission.CONTRIBUTE)
    portfolio = FeatureManifest(name="use_case_portfolio", sections=(Section("Use cases", order=150),), pages=(page,))
    # The one list a real installation would edit; the app and deps read it on every run.
    monkeypatch.setattr(installed, "INSTALLED_FEATURES", (*installed.INSTALLED_FEATURES, portfolio))
    return page


def test_a_new_features_manifest_alone_puts_its_page_in_the_navigation(open_portal, user_with_role,
                                                                        portfolio_installed: PageSpec) -> None:
    at = open_portal(user_with_role("contributor"))
    at.switch_page(str(portfolio_installed.path)).run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Use-case portfolio"]
    viewer = open_portal(user_with_role("viewer"))
    with pytest.raises(ValueError):  # the manifest gives the page to contributors and up
        viewer.switch_page(str(portfolio_installed.path))


def test_a_new_features_page_enforces_its_manifests_permission(open_portal, user_with_role,
                                                                portfolio_installed: PageSpec) -> None:
    at = open_portal(user_with_role("viewer"), script=str(portfolio_installed.path))
    assert [e.value for e in at.error] == [refusal(Role.VIEWER, Permission.CONTRIBUTE)]
