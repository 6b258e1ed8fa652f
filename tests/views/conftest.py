"""AppTest fixtures: a migrated, seeded portal on the fake gateway, and a way to open it as any role."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlmodel import Session, select
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.cli import apply_streamlit_options
from portal.core.db import make_engine, session_scope
from portal.core.migrations import upgrade_to_head
from portal.core.seed import seed_demo_users
from portal.core.users import User
from portal.deps import DEV_SIGN_IN_KEY
from tests.conftest import REPO_ROOT
from tests.fake_gateway import FakeGateway
from tests.views.support import SANDBOX

APP = str(REPO_ROOT / "portal" / "app.py")
PAGE_TIMEOUT_S = 30
C = DataClassification


def listen_on(address: str) -> None:
    """Apply the options `coe-portal run` passes to Streamlit, listening on the given address."""
    apply_streamlit_options(**{"server.address": address})


@pytest.fixture(autouse=True)
def restore_server_address() -> Iterator[None]:
    before = streamlit_config.get_option("server.address")
    yield
    listen_on(before)


@pytest.fixture
def portal_db(isolated_portal, monkeypatch: pytest.MonkeyPatch, fake_gateway: FakeGateway):
    """A migrated database with the demo users; the pages talk to the fake gateway on loopback."""
    monkeypatch.setenv("PORTAL_GATEWAY_URL", fake_gateway.url)
    # The development sign-in runs only when Streamlit listens on loopback, as `coe-portal run` makes it.
    listen_on("127.0.0.1")
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        seed_demo_users(session)
    yield engine
    engine.dispose()


@pytest.fixture
def user_with_role(portal_db) -> Callable[[str], User]:
    def find(role: str) -> User:
        with Session(portal_db) as session:
            return session.exec(select(User).where(User.role == role).order_by(User.email)).first()

    return find


@pytest.fixture
def open_portal(portal_db) -> Callable[..., AppTest]:
    """Open the portal signed in through the development sign-in as the given user (or signed out)."""

    def open_(user: User | None = None, script: str = APP) -> AppTest:
        at = AppTest.from_file(script, default_timeout=PAGE_TIMEOUT_S)
        if user is not None:
            at.session_state[DEV_SIGN_IN_KEY] = user.id
        return at.run()

    return open_


@pytest.fixture
def open_page(open_portal, user_with_role):
    """Open the portal as a role (or user) and switch to one of its pages, with query parameters."""

    def open_(role_or_user, page: str, **query: str):
        user = user_with_role(role_or_user) if isinstance(role_or_user, str) else role_or_user
        at = open_portal(user)
        at.switch_page(page)
        at.query_params.update(query)
        at.run()
        assert not at.exception, at.exception
        return at

    return open_


@pytest.fixture
def served_models(portal_db) -> dict[str, CatalogModel]:
    """Cards for the fake gateway's two models: Fake Small is cleared up to internal data, Fake Large public only."""
    rows = {
        "fake-small": CatalogModel(name="fake-small", display_name="Fake Small", provider="Fake Labs",
                                   status=ModelStatus.APPROVED.value, served=True, risk_tier=1,
                                   max_classification=int(C.INTERNAL), max_output_tokens=1024,
                                   input_price_per_mtok=1.0, output_price_per_mtok=2.0),
        "fake-large": CatalogModel(name="fake-large", display_name="Fake Large", provider="Fake Labs",
                                   status=ModelStatus.APPROVED.value, served=True, risk_tier=1,
                                   max_classification=int(C.PUBLIC), input_price_per_mtok=3.0,
                                   output_price_per_mtok=6.0),
    }
    with Session(portal_db, expire_on_commit=False) as session:
        session.add_all(rows.values())
        session.commit()
    return rows


@pytest.fixture
def open_sandbox(open_portal, user_with_role, served_models):
    """Open the portal as a role and switch to the sandbox."""

    def open_(role: str = "viewer"):
        at = open_portal(user_with_role(role))
        at.switch_page(SANDBOX).run()
        assert not at.exception, at.exception
        return at

    return open_
