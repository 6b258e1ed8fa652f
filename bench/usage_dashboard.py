"""Usage dashboard: the My usage page (own usage, and Teams and departments) on 1,000,000 usage events over
90 days, against an empty page and against the same page on a tiny database; the sums come from SQL GROUP BY.
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

USERS = 2_000
EVENTS = 1_000_000
SMALL_EVENTS = 100
CHUNK = 50_000
SPAN = timedelta(days=90)
ROUNDS = 5
GOAL = 3.0
ORG_TAB = "Teams and departments"


def _events(rng: random.Random, count: int, users: list[dict], now: datetime):
    """Usage event rows spread over 90 days, users, models and statuses, in chunks for executemany."""
    models = [f"model-{i:02}" for i in range(12)]
    statuses = ["ok"] * 18 + ["failed", "interrupted"]
    span_s = int(SPAN.total_seconds())
    for start in range(0, count, CHUNK):
        chunk = []
        for _ in range(min(CHUNK, count - start)):
            user_id = rng.randint(1, len(users))
            user = users[user_id - 1]
            tokens_in, tokens_out = rng.randint(20, 4000), rng.randint(0, 1500)
            chunk.append({"at": now - timedelta(seconds=rng.randint(0, span_s)), "user_id": user_id,
                          "team": user["team"], "department": user["department"], "model_name": rng.choice(models),
                          "source": "sandbox chat", "tokens_in": tokens_in, "tokens_out": tokens_out,
                          "usage_estimated": False, "cost_usd": (tokens_in * 0.5 + tokens_out * 1.5) / 1e6,
                          "latency_s": 1.0, "time_to_first_token_s": 0.2, "status": rng.choice(statuses),
                          "error": ""})
        yield chunk


def _load(database_url: str, *, users_count: int, events_count: int) -> int:
    """Migrate; bulk-insert users (the first an admin) and usage events in chunks; returns the admin's id."""
    from sqlalchemy import insert

    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User
    from metering.models import UsageEvent

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    rng = random.Random(13)
    now = datetime.now(UTC)
    departments = ["Finance", "Marketing", "Engineering", "People", "Operations", "Legal", "Sales", "CoE"]
    users = [{"email": f"user{i:05}@example.com", "name": f"User {i}", "department": departments[i % 8],
              "team": f"Team {i % 40}", "role": "viewer", "role_set_by_admin": False, "active": True,
              "created_at": now} for i in range(users_count)]
    users[0]["role"] = "admin"
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        for chunk in _events(rng, events_count, users, now):
            conn.execute(insert(UsageEvent), chunk)
    engine.dispose()
    return 1


def run() -> dict[str, float]:
    """Median rerun times of My usage (both sections) over an empty page's; prints and returns the ratios."""
    workdir = scratch_folder("bench-usage-")
    started = time.perf_counter()
    databases, admin_id = load_databases(workdir, lambda url, large: _load(
        url, users_count=USERS if large else 1, events_count=EVENTS if large else SMALL_EVENTS))
    print(f"usage dashboard: loaded {USERS:,} users and {EVENTS:,} usage events over 90 days in "
          f"{time.perf_counter() - started:.1f}s (and a database of the admin with {SMALL_EVENTS} events)")
    app = str(REPO_ROOT / "portal" / "app.py")
    bench = PageBench(label="usage dashboard", small_label=f"{SMALL_EVENTS} events", goal=GOAL, rounds=ROUNDS,
                      scripts={
                          "my usage": (app, admin_id, None, "views/usage.py"),
                          "teams, 30 days": (app, admin_id, {"usage_tab": ORG_TAB}, "views/usage.py"),
                          "departments, 90 days": (app, admin_id, {"usage_tab": ORG_TAB, "usage_days": 90,
                                                                   "usage_group_by": "department"},
                                                   "views/usage.py"),
                      })
    return compare_pages(bench, workdir, databases)


if __name__ == "__main__":
    run()
