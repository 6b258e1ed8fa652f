"""Page cost: AppTest run time of Home and Admin on a large database, against an empty page.

The database holds 10,000 users and 100,000 audit events, so a page that aggregates or pages in Python
instead of SQL shows up as a ratio far above the goal (<= 3).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import verdict  # noqa: E402

USERS = 10_000
AUDIT_EVENTS = 100_000
ROUNDS = 15
GOAL = 3.0


def _load(database_url: str, *, users_count: int, events_count: int) -> int:
    """Migrate, then bulk-insert users (the first an admin) and audit events; returns the admin's id."""
    from sqlalchemy import insert

    from portal.core.audit import AuditEvent
    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    rng = random.Random(7)
    departments = ["Finance", "Marketing", "Engineering", "People", "Operations", "Legal", "Sales", "CoE"]
    roles = ["viewer"] * 7 + ["contributor", "reviewer", "admin"]
    now = datetime.now(UTC)
    users = [{"email": f"user{i:05}@example.com", "name": f"User {i}", "department": rng.choice(departments),
              "team": f"Team {i % 40}", "role": rng.choice(roles), "role_set_by_admin": False, "active": True,
              "created_at": now} for i in range(users_count)]
    users[0]["role"] = "admin"
    actions = ["user.signed_in", "user.created", "user.role_changed", "user.profile_changed"]
    events = [{"at": now - timedelta(minutes=i), "actor_id": rng.randint(1, USERS),
               "actor_email": f"user{rng.randint(0, USERS - 1):05}@example.com", "action": rng.choice(actions),
               "entity_type": "user", "entity_id": str(rng.randint(1, USERS)), "summary": "bench"}
              for i in range(events_count)]
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        if events:
            conn.execute(insert(AuditEvent), events)
    engine.dispose()
    return 1


def _rerun_times(script: str, admin_id: int | None, rounds: int, state: dict | None = None) -> list[float]:
    """Time `rounds` reruns of one AppTest after a first, warming run (imports, compile, caches)."""
    from streamlit.testing.v1 import AppTest

    from portal.deps import DEV_SIGN_IN_KEY

    at = AppTest.from_file(script, default_timeout=60)
    if admin_id is not None:
        at.session_state[DEV_SIGN_IN_KEY] = admin_id
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"{script} failed: {at.exception}")
    return times


def run() -> dict[str, float]:
    """Median run times of Home and Admin over an empty page's; prints and returns the ratios."""
    from portal.cli import apply_streamlit_options

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.chdir(workdir)
    os.environ["PORTAL_LOG_FILE"] = str(workdir / "portal.log")
    os.environ["PORTAL_GATEWAY_URL"] = "http://127.0.0.1:9/v1"  # unreachable: Home must still be fast
    apply_streamlit_options(**{"server.address": "127.0.0.1"})  # as `coe-portal run` passes them
    databases = {"large": f"sqlite:///{workdir / 'large.db'}", "small": f"sqlite:///{workdir / 'small.db'}"}
    started = time.perf_counter()
    admin_id = _load(databases["large"], users_count=USERS, events_count=AUDIT_EVENTS)
    _load(databases["small"], users_count=1, events_count=0)
    print(f"page cost: loaded {USERS:,} users and {AUDIT_EVENTS:,} audit events in "
          f"{time.perf_counter() - started:.1f}s (and a database holding only the admin)")
    empty = workdir / "empty_page.py"
    empty.write_text("import streamlit as st\n\nst.title('Empty')\n")
    admin_page = str(REPO_ROOT / "portal" / "views" / "admin.py")
    scripts = {"empty": (str(empty), None, None), "home": (str(REPO_ROOT / "portal" / "app.py"), admin_id, None),
               "admin users": (admin_page, admin_id, None),
               "admin audit log": (admin_page, admin_id, {"admin_tab": "Audit log"})}
    timings = {(db, name): [] for db in databases for name in scripts}
    for _ in range(ROUNDS):  # interleaved, so a slow moment of the machine hits every page alike
        for db, url in databases.items():
            os.environ["PORTAL_DATABASE_URL"] = url
            for name, (script, user_id, state) in scripts.items():
                timings[db, name].extend(_rerun_times(script, user_id, rounds=3, state=state))
    medians = {key: statistics.median(values) for key, values in timings.items()}
    empty_ms = medians["large", "empty"]
    ratios = {}
    for name in [n for n in scripts if n != "empty"]:
        large, small = medians["large", name], medians["small", name]
        ratios[name] = large / empty_ms
        print(f"page cost: {name} {large * 1000:.1f} ms vs empty page {empty_ms * 1000:.1f} ms per run -> "
              f"{verdict(ratios[name], GOAL)}; vs the same page on the admin-only database "
              f"{small * 1000:.1f} ms -> ratio {large / small:.2f}")
    return ratios


if __name__ == "__main__":
    run()
