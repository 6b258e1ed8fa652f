"""Page cost: AppTest run time of Home and Admin on a large database, against an empty page.

The database holds 10,000 users and 100,000 audit events, so a page that aggregates or pages in Python
instead of SQL shows up as a ratio far above the goal (<= 3).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.pages import PageBench, compare_pages, load_databases, scratch_folder  # noqa: E402

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


def run() -> dict[str, float]:
    """Median run times of Home and Admin over an empty page's; prints and returns the ratios."""
    workdir = scratch_folder("bench-pages-")
    started = time.perf_counter()
    databases, admin_id = load_databases(workdir, lambda url, large: _load(
        url, users_count=USERS if large else 1, events_count=AUDIT_EVENTS if large else 0))
    print(f"page cost: loaded {USERS:,} users and {AUDIT_EVENTS:,} audit events in "
          f"{time.perf_counter() - started:.1f}s (and a database holding only the admin)")
    admin_page = str(REPO_ROOT / "portal" / "views" / "admin.py")
    bench = PageBench(label="page cost", small_label="the admin-only database", goal=GOAL, rounds=ROUNDS, scripts={
        "home": (str(REPO_ROOT / "portal" / "app.py"), admin_id, None, None),
        "admin users": (admin_page, admin_id, None, None),
        "admin audit log": (admin_page, admin_id, {"admin_tab": "Audit log"}, None),
    })
    return compare_pages(bench, workdir, databases)


if __name__ == "__main__":
    run()
