"""Browser navigation: click -> settled in headless Chromium, every page of the seeded portal vs a bare app.

The portal (`coe-portal run --seed` on demo data in a temporary folder, the fake gateway) and
bench/bare_app.py (a bare Streamlit app of the same navigation, sidebar, banner and one small table) are driven
by Playwright in Debian's Chromium, one session of each in turn: landing, development sign-in as Ada Admin,
then every page of the sidebar once (first visits) and REPEATS more times (repeat visits). Goal (issue 16):
every page's median within 1.5x the bare app's, p90 within 2x; landing and sign-in within 1.5x.

`--setting NAME=VALUE` starts the portal with PORTAL_<NAME>=VALUE (a NAME starting with STREAMLIT_ is set as it
is: a Streamlit option `coe-portal run` does not pass); `--also NAME=VALUE` runs a second portal with that setting
too, alternating with the first, and prints its ratio to the first (before/after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

ROUNDS = 3  # sessions of each app
REPEATS = 2  # repeat visits of every page per session, after the first
START_TIMEOUT_S = 240.0  # seeding and importing the portal on a loaded 2-core machine
QUIET_MS = 150  # how long "settled" must hold before a measurement counts (not part of the time)
GOAL_MEDIAN, GOAL_P90 = 1.5, 2.0
ADMIN = "Ada Admin"
BARE_APP = Path(__file__).resolve().parent / "bare_app.py"

# Installed before any page script: records, on the page's own clock (performance.now()), the pointer-down that
# starts a measurement and every event that can end one, and keeps `settledAt` — see settled() below.
PROBE_JS = """
(() => {
  const b = window.__bench = {clickAt: 0, base: 0, finished: 0, inflight: 0, settledAt: null};
  // A ForwardMsg is protobuf; script_finished is its top-level field 6 (varint), 0 = FINISHED_SUCCESSFULLY.
  function finishedOk(buffer) {
    const bytes = new Uint8Array(buffer); let i = 0;
    const varint = () => { let r = 0, s = 0, x; do { x = bytes[i++]; r += (x & 0x7f) * 2 ** s; s += 7; }
                           while (x & 0x80 && i < bytes.length); return r; };
    while (i < bytes.length) {
      const tag = varint(), wire = tag & 7;
      if (tag >>> 3 === 6 && wire === 0) return varint() === 0;
      if (wire === 0) varint(); else if (wire === 1) i += 8; else if (wire === 2) { const n = varint(); i += n; }
      else if (wire === 5) i += 4; else return false;
    }
    return false;
  }
  function check() {
    const app = document.querySelector('[data-testid="stApp"]');
    const ok = b.finished > b.base && b.inflight === 0 && !!app
      && app.getAttribute('data-test-script-state') === 'notRunning'
      && !document.querySelector('[data-stale="true"]');
    if (!ok) b.settledAt = null; else if (b.settledAt === null) b.settledAt = performance.now();
  }
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (e.data instanceof ArrayBuffer && finishedOk(e.data)) { b.finished++; check(); }
      });
    }
  };
  const nativeFetch = window.fetch;
  window.fetch = function (...args) {
    b.inflight++; check();
    return nativeFetch.apply(this, args).finally(() => { b.inflight--; check(); });
  };
  const nativeSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    b.inflight++; check();
    this.addEventListener('loadend', () => { b.inflight--; check(); });
    return nativeSend.apply(this, args);
  };
  window.addEventListener('pointerdown', () => {
    b.clickAt = performance.now(); b.base = b.finished; b.settledAt = null;
  }, true);
  new MutationObserver(check).observe(document, {subtree: true, attributes: true,
    attributeFilter: ['data-test-script-state', 'data-stale']});
})();
"""

# The settled moment: when check() last became true, or later if a script or style the run needed (Streamlit
# loads an element's code on first use) finished loading after it.
SETTLED_AT_JS = """() => {
  const b = window.__bench;
  const loads = performance.getEntriesByType('resource').filter(r => r.startTime >= b.clickAt)
    .map(r => r.responseEnd);
  return {settledAt: b.settledAt, finished: b.finished, clickAt: b.clickAt,
          end: Math.max(b.settledAt, ...loads)};
}"""

IDLE_JS = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state')
  === 'notRunning' && !document.querySelector('[data-stale="true"]') && window.__bench.inflight === 0"""


def settled(page, timeout_ms: float = 30_000) -> float:
    """Wait until the page has settled after the last click (or the load); return click -> settled in ms.

    Settled: a script run that started after the click finished successfully (its script-finished message came
    over the websocket), the app root's `data-test-script-state` is `notRunning`, no element is marked stale
    (left over from the previous run), no fetch or XHR is in flight, and all of that has held for QUIET_MS
    (a page that reruns itself is not settled until its last run is). The time runs from the pointer-down to
    the moment the state last became true, or the end of a script or style load the click started, whichever
    is later; the quiet wait is not counted.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_function("() => window.__bench.settledAt !== null", timeout=timeout_ms, polling=10)
        before = page.evaluate(SETTLED_AT_JS)
        page.wait_for_timeout(QUIET_MS)  # a confirmation window, not a measurement
        after = page.evaluate(SETTLED_AT_JS)
        if after["settledAt"] == before["settledAt"] and after["finished"] == before["finished"]:
            return after["end"] - after["clickAt"]
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not settle")


@dataclass
class App:
    """One app under test: its name, URL, the process serving it and its timings by step."""

    name: str
    url: str
    process: subprocess.Popen
    first: dict[str, list[float]] = field(default_factory=dict)
    repeat: dict[str, list[float]] = field(default_factory=dict)


def admin_navigation() -> dict[str, list[list]]:
    """The portal's navigation for an admin, from the installed manifests: section -> [[title, hidden]]."""
    from portal.core import features
    from portal.core.users import User
    from portal.installed import INSTALLED_FEATURES

    return {section: [[page.title, page.visibility == "hidden"] for page in pages]
            for section, pages in features.pages_for(INSTALLED_FEATURES, User(email="a@b", role="admin")).items()}


def start_portal(workdir: Path, gateway_url: str, settings: dict[str, str]) -> subprocess.Popen:
    """`coe-portal run --seed` as tests/browser start it: own folder, SQLite, the development sign-in."""
    from tests.browser.conftest import coe_portal_command, portal_env
    from tests.conftest import free_port

    workdir.mkdir()
    port = free_port()
    env = portal_env(workdir, database_url=f"sqlite:///{workdir / 'portal.db'}", server_address="127.0.0.1",
                     server_port=str(port), gateway_url=gateway_url, auth_mode="dev",
                     log_file=str(workdir / "portal.log"), chroma_path=str(workdir / "chroma"),
                     **{name: value for name, value in settings.items() if not name.startswith("STREAMLIT_")})
    # A Streamlit option the portal does not pass on its command line can be tried as its environment variable.
    env.update({name: value for name, value in settings.items() if name.startswith("STREAMLIT_")})
    return _serve([*coe_portal_command(), "run", "--seed"], workdir, env, port)


def start_bare_app(workdir: Path, navigation: dict) -> subprocess.Popen:
    """bench/bare_app.py under `streamlit run` with the Streamlit options `coe-portal run` passes by default."""
    from portal.commands import STREAMLIT_OPTIONS
    from tests.browser.conftest import portal_env
    from tests.conftest import free_port

    workdir.mkdir()
    port = free_port()
    env = {**portal_env(workdir), "BENCH_NAV": json.dumps(navigation)}
    # Like for like: the options the portal runs with in production, the file watcher off included.
    options = {**STREAMLIT_OPTIONS, "server.fileWatcherType": "none", "server.address": "127.0.0.1",
               "server.port": str(port)}
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    return _serve([sys.executable, "-m", "streamlit", "run", str(BARE_APP), *flags], workdir, env, port)


def _serve(command: list[str], workdir: Path, env: dict, port: int) -> subprocess.Popen:
    from tests.browser.conftest import RunningPortal, wait_until_healthy

    output = workdir / "output.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    wait_until_healthy(RunningPortal(url=process.url, port=port, workdir=workdir,  # type: ignore[attr-defined]
                                     database=workdir / "portal.db", output=output, process=process),
                       timeout_s=START_TIMEOUT_S)
    return process


def session(browser, app: App, titles: list[str]) -> None:
    """One fresh session: landing, sign-in, every page once, then REPEATS more times; timings into `app`."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(PROBE_JS)
    try:
        page = context.new_page()
        page.goto(app.url)
        app.first.setdefault("(landing)", []).append(settled(page))
        page.get_by_role("combobox", name="Sign in as").click()
        page.get_by_role("option", name=ADMIN).first.click()
        # The portal's sign-in is a form: picking a user runs no script, so wait for the value, not a run.
        expect(page.get_by_role("combobox", name="Sign in as")).to_have_value(re.compile(f"^{ADMIN}"))
        page.wait_for_function(IDLE_JS, polling=10)
        page.get_by_role("button", name="Sign in", exact=True).click()
        app.first.setdefault("(sign-in)", []).append(settled(page))
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name=titles[-1], exact=True)).to_be_visible()
        # Signed in on the first page: start with the second, end on the first.
        order = titles[1:] + titles[:1]
        for visit in range(1 + REPEATS):
            for title in order:
                nav.get_by_role("link", name=title, exact=True).click()
                (app.first if visit == 0 else app.repeat).setdefault(title, []).append(settled(page))
    finally:
        context.close()


def _p50_p90(values: list[float]) -> tuple[float, float]:
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    return statistics.median(values), p90


def report(apps: list[App], titles: list[str]) -> dict[str, float]:
    """Print per page p50/p90 of every app and the ratios to the bare app (the last); return the worst ratios."""
    bare = apps[-1]
    worst = {"p50": 0.0, "p90": 0.0}
    header = "  ".join(f"{app.name + ' p50/p90':>22}" for app in apps)
    ratios = "  ".join(f"{app.name + '/bare':>17}" for app in apps[:-1])
    for label, attr, steps in (("first visit", "first", ["(landing)", "(sign-in)", *titles]),
                               ("repeat visit", "repeat", titles)):
        if not bare.repeat and attr == "repeat":
            continue
        print(f"browser navigation, {label} (ms, click -> settled):")
        print(f"  {'page':<22}{header}  {ratios}")
        for step in steps:
            figures = [_p50_p90(getattr(app, attr)[step]) for app in apps]
            # Landing and sign-in are held to the bare app's first load (its landing).
            base = figures[-1] if not step.startswith("(") else _p50_p90(bare.first["(landing)"])
            cells = "  ".join(f"{p50:>10.0f} / {p90:>7.0f}    " for p50, p90 in figures)
            shares = "  ".join(f"{p50 / base[0]:>7.2f} / {p90 / base[1]:<7.2f}  " for p50, p90 in figures[:-1])
            print(f"  {step:<22}{cells}{shares}")
            worst["p50"] = max(worst["p50"], figures[0][0] / base[0])
            worst["p90"] = max(worst["p90"], figures[0][1] / base[1])
    print(f"browser navigation: worst page of {apps[0].name} vs bare: median {worst['p50']:.2f} "
          f"(goal <= {GOAL_MEDIAN}), p90 {worst['p90']:.2f} (goal <= {GOAL_P90}) -> "
          f"{'ok' if worst['p50'] <= GOAL_MEDIAN and worst['p90'] <= GOAL_P90 else 'above'}")
    if len(apps) > 2:
        _report_variant(apps[0], apps[1], titles)
    return worst


def _report_variant(portal: App, variant: App, titles: list[str]) -> None:
    """The median over pages of variant/portal per page median, first and repeat visits (a before/after)."""
    for attr in ("first", "repeat"):
        steps = [step for step in getattr(portal, attr) if step in titles]
        shares = [statistics.median(getattr(variant, attr)[step]) / statistics.median(getattr(portal, attr)[step])
                  for step in steps]
        print(f"browser navigation: {variant.name} / {portal.name}, {attr} visits: median of page ratios "
              f"{statistics.median(shares):.2f} (range {min(shares):.2f}-{max(shares):.2f})")


def run(settings: dict[str, str] | None = None, also: dict[str, str] | None = None) -> dict[str, float]:
    """Start the apps, alternate sessions ROUNDS times, print the table; returns the worst ratios."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, stop_process_group
    from tests.fake_gateway import FakeGateway

    navigation = admin_navigation()
    titles = [title for pages in navigation.values() for title, hidden in pages if not hidden]
    processes: list[subprocess.Popen] = []
    started = time.monotonic()
    with FakeGateway() as gateway, tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        try:
            apps = []
            variants = [("portal", settings or {})] + ([("variant", {**(settings or {}), **also})] if also else [])
            for name, values in variants:
                processes.append(start_portal(Path(tmp) / name, gateway.url, values))
                apps.append(App(name, processes[-1].url, processes[-1]))  # type: ignore[attr-defined]
            processes.append(start_bare_app(Path(tmp) / "bare", navigation))
            apps.append(App("bare", processes[-1].url, processes[-1]))  # type: ignore[attr-defined]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for round_ in range(ROUNDS):
                    for app in apps[round_ % len(apps):] + apps[:round_ % len(apps)]:
                        session(browser, app, titles)
                browser.close()
        finally:
            for process in processes:
                stop_process_group(process)
    print(f"browser navigation: {len(titles)} pages, {ROUNDS} sessions of each app, {REPEATS} repeat visits; "
          f"{', '.join(f'{k}={v}' for k, v in (settings or {}).items()) or 'default settings'}"
          f"{'; variant ' + ', '.join(f'{k}={v}' for k, v in also.items()) if also else ''}; "
          f"{time.monotonic() - started:.0f} s")
    return report(apps, titles)


def _pairs(values: list[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in values)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", action="append", default=[], help="NAME=VALUE: PORTAL_NAME for the portal")
    parser.add_argument("--also", action="append", default=[], help="NAME=VALUE: a second portal with it")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"sessions of each app (default {ROUNDS})")
    args = parser.parse_args()
    ROUNDS = args.rounds
    os.chdir(REPO_ROOT)
    run(_pairs(args.setting), _pairs(args.also) or None)
