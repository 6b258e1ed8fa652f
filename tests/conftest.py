"""Shared fixtures: an isolated working folder and settings per test, real databases, and factories."""

from __future__ import annotations

import io
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.auth import Role
from portal.core.db import make_engine
from portal.core.model_server import (
    ModelServerProcess,
    start_local_model_server,
    stop_local_model_server,
    wait_until_ready,
)
from portal.core.users import User
from portal.tables import metadata
from tests.failure_tracebacks import failed_portal_tracebacks
from tests.fake_gateway import FakeGateway

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL_VARIABLE = "PORTAL_TEST_POSTGRES_URL"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Repeat the portals' server-side tracebacks of failed browser tests after the run's last line, where a CI log
    cut in the middle still shows them."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    found = failed_portal_tracebacks(reporter.stats.get("failed", [])) if reporter is not None else []
    if found:
        reporter.section("tracebacks the portals under test logged")
        for nodeid, block in found:
            reporter.write_line(f"{nodeid}:\n{block}")


@pytest.fixture(autouse=True)
def isolated_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own folder, with no PORTAL_* setting leaking in from the machine."""
    return portal_in(tmp_path, monkeypatch)


def portal_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the portal's settings at `folder` (database, log, vectors under var/) and work there."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") and name != POSTGRES_URL_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{folder / 'var' / 'portal.db'}")
    monkeypatch.setenv("PORTAL_LOG_FILE", str(folder / "var" / "portal.log"))
    monkeypatch.setenv("PORTAL_CHROMA_PATH", str(folder / "var" / "chroma"))
    return folder


@dataclass(frozen=True)
class SeededPortal:
    folder: Path  # its var/ holds the database and vector store `coe-portal seed` made
    output: str  # what that seed printed


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> SeededPortal:
    """`coe-portal seed` once per worker (about 13 s each time): tests that start from the demo data copy it."""
    from portal.cli import main

    folder = tmp_path_factory.mktemp("seeded")
    with pytest.MonkeyPatch.context() as monkeypatch, redirect_stdout(io.StringIO()) as output:
        portal_in(folder, monkeypatch)
        assert main(["seed"]) == 0
    return SeededPortal(folder=folder, output=output.getvalue())


@pytest.fixture
def seeded(isolated_portal: Path, seeded_template: SeededPortal) -> Path:
    """This test's portal folder starts as `coe-portal seed` leaves it: a copy of the demo database and vectors."""
    shutil.copytree(seeded_template.folder / "var", isolated_portal / "var", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("portal.log"))
    return isolated_portal


def postgres_server_url() -> str:
    """The PostgreSQL server the tests may create databases on; scripts/test.sh starts one."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.fail(f"{POSTGRES_URL_VARIABLE} is not set: run the suite with scripts/test.sh, which starts "
                    "PostgreSQL, or deselect with -m 'not postgres'.")
    return url


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    server = make_engine(postgres_server_url())
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server_url()).set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend the portal supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'test.db'}"
    return request.getfixturevalue("postgres_database_url")


@pytest.fixture(scope="session")
def postgres_schema_engine() -> Iterator[Engine]:
    """One PostgreSQL database holding the whole schema for the session; tests empty it after use."""
    server = make_engine(postgres_server_url())
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(postgres_server_url()).set(database=name).render_as_string(hide_password=False))
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def sqlite_schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file holding the whole schema, made once per worker; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file, so the file alone is the schema
    return path


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database holding the whole schema (create_all: migrations are tested on their own)."""
    if request.param == "sqlite":
        # Copying a ready file takes ~10 ms where create_all takes ~150 ms, on every one of ~1,500 tests.
        database = tmp_path / "var" / "test.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_schema_file"), database)
        engine = make_engine(f"sqlite:///{database}")
        yield engine
        engine.dispose()
        return
    # Creating a PostgreSQL database per test costs ~0.2 s; emptying the tables costs a few milliseconds.
    engine = request.getfixturevalue("postgres_schema_engine")
    yield engine
    engine.pool.dispose()
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_user(session: Session):
    """Factory: a committed user with the given role, department and team."""

    def make(role: Role | str = Role.VIEWER, *, email: str | None = None, department: str = "Engineering",
             team: str = "Data Platform", name: str = "") -> User:
        email = email or f"{Role(role).value}-{uuid.uuid4().hex[:6]}@example.com"
        user = User(email=email, name=name or email.split("@")[0], role=Role(role).value,
                    department=department, team=team)
        session.add(user)
        session.commit()
        return user

    return make


@pytest.fixture(scope="session")
def _fake_gateway_server() -> Iterator[FakeGateway]:
    with FakeGateway() as server:
        yield server


@pytest.fixture
def fake_gateway(_fake_gateway_server: FakeGateway) -> Iterator[FakeGateway]:
    """The session's deterministic OpenAI-compatible server, with failures and recordings cleared per test."""
    _fake_gateway_server.reset()
    yield _fake_gateway_server
    _fake_gateway_server.reset()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def local_model_server() -> Iterator[tuple[str, ModelServerProcess]]:
    """The real local model (SmolLM2-135M behind llama_cpp.server), started once per session."""
    port = free_port()
    process = start_local_model_server(port=port)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        wait_until_ready(base_url, timeout_s=60, process=process)
        yield base_url, process
    finally:
        stop_local_model_server(process)


@pytest.fixture
def make_model(session: Session):
    """Factory: a committed model card with the given status and fields."""

    def make(status: ModelStatus | str = ModelStatus.APPROVED, *, name: str | None = None, **fields) -> CatalogModel:
        name = name or f"model-{uuid.uuid4().hex[:8]}"
        defaults = {"display_name": name, "provider": "Meta", "max_input_tokens": 8192,
                    "max_classification": int(DataClassification.INTERNAL), "risk_tier": 1}
        if ModelStatus(status) == ModelStatus.RESTRICTED:
            defaults["restricted_teams"] = ["Data Platform"]
        model = CatalogModel(name=name, status=ModelStatus(status).value, **{**defaults, **fields})
        session.add(model)
        session.commit()
        return model

    return make
