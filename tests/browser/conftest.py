"""Browser fixtures: Debian's chromium, the fake gateway, a local OpenID provider, and running portals."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import free_port

from tests.fake_gateway import DEFAULT_MODELS, FakeGateway

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
# Streamlit reruns and page switches finish well within this on the 2-core build machines.
EXPECT_TIMEOUT_MS = 20_000
MAX_SHOT_HEIGHT = 4000


def coe_portal_command() -> list[str]:
    """The `coe-portal` console script next to this interpreter (the project's venv)."""
    script = Path(sys.executable).parent / "coe-portal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "portal.cli"]


def portal_env(workdir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any PORTAL_* variable, plus the given settings (PORTAL_<NAME>)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    # A private HOME: no ~/.streamlit/secrets.toml or config.toml of the machine leaks into the portal.
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    # Run this checkout's code: the venv's editable install may point at another worktree.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update({f"PORTAL_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class RunningPortal:
    """A `coe-portal run --seed` subprocess serving on 127.0.0.1."""

    url: str
    port: int
    workdir: Path
    database: Path
    output: Path
    process: subprocess.Popen

    def users(self) -> dict[str, dict]:
        """The portal_user table, by e-mail, read straight from the SQLite file."""
        with sqlite3.connect(self.database) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT email, name, department, team, role, active FROM portal_user").fetchall()
        return {row["email"]: dict(row) for row in rows}

    def output_tail(self, lines: int = 40) -> str:
        """The end of the portal's stdout/stderr, for failure messages."""
        text = self.output.read_text(encoding="utf-8", errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def wait_until_healthy(portal: RunningPortal, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll /_stcore/health until it answers "ok"; fail with the portal's output if it exits or times out."""
    health = f"{portal.url}/_stcore/health"
    attempts = int(timeout_s / 0.25)
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            # Doubles as the poll interval and notices a portal that exited instead of serving.
            code = portal.process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"coe-portal exited with {code} before serving:\n{portal.output_tail()}")
    pytest.fail(f"coe-portal did not answer {health} within {timeout_s:.0f} s:\n{portal.output_tail()}")


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the portal's process group (coe-portal and its streamlit child); SIGKILL whatever lingers.

    Waiting for coe-portal alone is not enough: streamlit has been seen to outlive it after one SIGTERM.
    """
    pgid = process.pid  # started with start_new_session=True, so it leads its own group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if _wait_for_group_exit(pgid, STOP_TIMEOUT_S):
            break
    process.wait(timeout=STOP_TIMEOUT_S)


def _wait_for_group_exit(pgid: int, timeout_s: float) -> bool:
    """Poll /proc until no live (non-zombie) process is left in the group; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while _live_group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling for processes to exit, not timing the app
    return True


def _live_group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def auth_secrets_toml(*, portal_port: int, issuer: str, client_id: str, client_secret: str) -> str:
    """The `[auth]` section st.login needs, pointing at the local OpenID provider."""
    auth = {
        "redirect_uri": f"http://127.0.0.1:{portal_port}/oauth2callback",
        "cookie_secret": secrets.token_hex(16),
        "client_id": client_id,
        "client_secret": client_secret,
        "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
    }
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in auth.items())


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/, where the journeys save screenshots for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Screenshots of the browser journeys; regenerated by every run.\n*\n")
    return ARTIFACTS


@pytest.fixture
def screenshot(page: Page, artifacts: Path) -> Callable[[str], Path]:
    """Save a full-page screenshot of the current page as tests/artifacts/<name>.png."""

    def save(name: str) -> Path:
        path = artifacts / f"{name}.png"
        viewport = page.viewport_size
        # Streamlit scrolls inside <main>, so a "full page" shot would stop at the viewport: grow the
        # viewport to the content for the shot.
        height = page.evaluate(
            "() => Math.max(document.documentElement.scrollHeight, ...Array.from("
            "document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]'),"
            " e => e.scrollHeight))"
        )
        if viewport and height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": min(height, MAX_SHOT_HEIGHT)})
        try:
            page.screenshot(path=path, full_page=True)
        finally:
            if viewport:
                page.set_viewport_size(viewport)
        return path

    return save


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, shared by every journey."""
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def fake_gateway() -> Iterator[FakeGateway]:
    """The deterministic OpenAI-compatible fake the portals use as their central gateway."""
    with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
def gateway(fake_gateway: FakeGateway) -> FakeGateway:
    """The fake gateway with no failures queued and its default models."""
    fake_gateway.reset()
    return fake_gateway


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report ends with its portals' logs: their folders are gone when a CI log is read."""
    report = yield
    if report.when == "call" and report.failed:
        for portal in getattr(item, "started_portals", ()):
            report.sections.append((f"portal {portal.url}", portal_log_tail(portal)))
    return report


def portal_log_tail(portal: RunningPortal, lines: int = 80) -> str:
    """The end of a portal's log and console output: what a failed browser test needs to say why."""
    parts = []
    for path in (portal.workdir / "portal.log", portal.output):
        if path.exists():
            tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts)


@pytest.fixture
def start_portal(request, tmp_path: Path, gateway: FakeGateway) -> Iterator[Callable[..., RunningPortal]]:
    """Factory: run `coe-portal run --seed` in its own working directory; every portal is stopped afterwards.

    `start_portal(auth_mode="oidc", secrets_toml=...)` writes .streamlit/secrets.toml first; extra
    keyword arguments become PORTAL_* settings.
    """
    started: list[RunningPortal] = []
    request.node.started_portals = started  # for the report of a failed test (pytest_runtest_makereport)

    def start(*, auth_mode: str = "dev", secrets_toml: str | None = None, port: int | None = None,
              **settings: str) -> RunningPortal:
        workdir = tmp_path / f"portal-{len(started) + 1}"
        workdir.mkdir()
        if secrets_toml is not None:
            (workdir / ".streamlit").mkdir()
            (workdir / ".streamlit" / "secrets.toml").write_text(secrets_toml, encoding="utf-8")
        port = port or free_port()
        database = workdir / "portal.db"
        env = portal_env(
            workdir,
            database_url=f"sqlite:///{database}",
            server_address="127.0.0.1",
            server_port=str(port),
            gateway_url=gateway.url,
            auth_mode=auth_mode,
            log_file=str(workdir / "portal.log"),
            chroma_path=str(workdir / "chroma"),
            **settings,
        )
        output = workdir / "output.txt"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*coe_portal_command(), "run", "--seed"], cwd=workdir, env=env,
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )
        portal = RunningPortal(url=f"http://127.0.0.1:{port}", port=port, workdir=workdir, database=database,
                               output=output, process=process)
        started.append(portal)
        wait_until_healthy(portal)
        return portal

    yield start
    for portal in started:
        stop_process_group(portal.process)


@dataclass(frozen=True)
class OidcProvider:
    """oidc-provider-mock running in a thread on 127.0.0.1."""

    issuer: str

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """Register a confidential client for one redirect URI; returns (client_id, client_secret)."""
        body = _http_json("POST", f"{self.issuer}/oauth2/clients", {"redirect_uris": [redirect_uri]})
        return body["client_id"], body["client_secret"]

    def set_user(self, sub: str, claims: dict) -> None:
        """Set the claims the provider puts in the ID token of `sub` (a flat JSON object)."""
        _http_json("PUT", f"{self.issuer}/users/{sub}", claims)


def _http_json(method: str, url: str, body: dict) -> dict:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A local OpenID provider that only accepts registered clients and their exact redirect URIs."""
    # Importing authlib.deprecate installs an "always" filter for its warnings, so it comes first.
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        # oidc-provider-mock 0.3.4 imports authlib.jose, which Authlib 1.9 marks deprecated.
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=0, require_client_registration=True) as server:
        yield OidcProvider(issuer=f"http://127.0.0.1:{server.server_port}")


LOCAL_MODEL = "smollm2-135m-instruct"  # the seed catalog's approved local model


@pytest.fixture
def serving_the_local_model(gateway: FakeGateway) -> FakeGateway:
    """The fake gateway also serves the seed catalog's approved local model, so the start-up sync marks it served."""
    gateway.models = [LOCAL_MODEL, *DEFAULT_MODELS]
    return gateway
