"""Shared by the page benchmarks: a scratch folder, AppTest rerun timing, and the interleaved comparison."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import verdict

EMPTY_PAGE = "import streamlit as st\n\nst.title('Empty')\n"


@dataclass
class PageBench:
    """Pages to time on a large and a small database, each against an empty page."""

    label: str
    small_label: str  # how the report names the small database
    # name -> (script, user id, widget state, page to switch to when the script is the app's entry point)
    scripts: dict[str, tuple[str, int | None, dict | None, str | None]] = field(default_factory=dict)
    goal: float = 3.0
    rounds: int = 10


def scratch_folder(prefix: str) -> Path:
    """A fresh working folder with the settings every page benchmark shares, and Streamlit set up as in production."""
    from portal.cli import apply_streamlit_options

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.chdir(workdir)
    os.environ["PORTAL_LOG_FILE"] = str(workdir / "portal.log")
    os.environ["PORTAL_GATEWAY_URL"] = "http://127.0.0.1:9/v1"  # unreachable: pages must still be fast
    apply_streamlit_options(**{"server.address": "127.0.0.1"})  # as `coe-portal run` passes them
    (workdir / "empty_page.py").write_text(EMPTY_PAGE)
    return workdir


def load_databases(workdir: Path, load: Callable[[str, bool], int]) -> tuple[dict[str, str], int]:
    """Build the large and small databases with `load(url, large)`; returns their URLs and the admin's id."""
    databases = {"large": f"sqlite:///{workdir / 'large.db'}", "small": f"sqlite:///{workdir / 'small.db'}"}
    admin_id = load(databases["large"], True)
    load(databases["small"], False)
    return databases, admin_id


def rerun_times(script: str, user_id: int | None, rounds: int, state: dict | None = None,
                page: str | None = None) -> list[float]:
    """Time `rounds` reruns of one AppTest after a first, warming run (imports, compile, caches)."""
    from streamlit.testing.v1 import AppTest

    from portal.deps import DEV_SIGN_IN_KEY

    at = AppTest.from_file(script, default_timeout=60)
    if user_id is not None:
        at.session_state[DEV_SIGN_IN_KEY] = user_id
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page:  # pages that link to others run inside the app's navigation
        at.switch_page(page).run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"{script} failed: {at.exception}")
    return times


def compare_pages(bench: PageBench, workdir: Path, databases: dict[str, str]) -> dict[str, float]:
    """Interleave every page on both databases with the empty page; print and return the ratios."""
    scripts = {"empty": (str(workdir / "empty_page.py"), None, None, None), **bench.scripts}
    timings: dict[tuple[str, str], list[float]] = {(db, name): [] for db in databases for name in scripts}
    for _ in range(bench.rounds):  # interleaved, so a slow moment of the machine hits every page alike
        for db, url in databases.items():
            os.environ["PORTAL_DATABASE_URL"] = url
            for name, (script, user_id, state, page) in scripts.items():
                timings[db, name].extend(rerun_times(script, user_id, rounds=3, state=state, page=page))
    medians = {key: statistics.median(values) for key, values in timings.items()}
    empty_s = medians["large", "empty"]
    ratios = {}
    for name in bench.scripts:
        large, small = medians["large", name], medians["small", name]
        ratios[name] = large / empty_s
        print(f"{bench.label}: {name} {large * 1000:.1f} ms vs empty page {empty_s * 1000:.1f} ms per run -> "
              f"{verdict(ratios[name], bench.goal)}; vs the same page on {bench.small_label} "
              f"{small * 1000:.1f} ms -> ratio {large / small:.2f}")
    return ratios
