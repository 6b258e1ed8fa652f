"""Templates page cost: the template list and one template's page (form, README, lineage) on 500 templates and
50,000 forks, against an empty page; also against the same pages on a database of 20 templates and 100 forks.
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

TEMPLATES = 500
FORKS = 50_000
ROUNDS = 10
GOAL = 3.0
BUSIEST = "bench-00000"  # the template whose page is timed: about a tenth of all forks


def template_rows(rng: random.Random, count: int, now: datetime, info) -> list[dict]:
    """Registered template rows `bench-00000`... copying a built-in's README and questions (`info`)."""
    return [{
        "name": f"bench-{i:05}", "display_name": f"Bench template {i}", "summary": info.summary,
        "category": rng.choice(["Assistants", "Batch jobs", "Services", "Internal tools"]), "tags": info.tags,
        "owner": "CoE", "tech_stack": info.tech_stack, "recommended_models": info.recommended_models,
        "source": "git", "source_url": f"https://git.example.com/t/{i}.git", "version": f"1.{i % 7}.0",
        "mirror_ref": "1", "readme": info.readme, "questions": [q.to_dict() for q in info.questions],
        "unsafe_features": [], "trusted": False, "created_at": now, "updated_at": now,
    } for i in range(count)]


def fork_rows(rng: random.Random, count: int, now: datetime, *, template_ids: list[int],
              users: list[tuple[int, str, str]]) -> list[dict]:
    """Fork rows over 540 days, a tenth of them of the first template; `users` are (id, team, department)."""
    return [{
        "template_id": template_ids[0] if rng.random() < 0.1 else rng.choice(template_ids),
        "template_version": rng.choice(["1.0.0", "1.1.0", "1.2.0"]), "project_name": f"project-{i}",
        "answers": {"project_name": f"Project {i}", "model": "meta-llama/Llama-3.1-8B-Instruct"},
        "user_id": (user := rng.choice(users))[0], "team": user[1], "department": user[2],
        "destination": rng.choice(["zip", "git"]), "repo_path": "", "update_branch": "", "update_version": "",
        "created_at": now - timedelta(days=rng.randint(0, 540)),
    } for i in range(count)]


def _load(database_url: str, *, templates_count: int, forks_count: int) -> int:
    """Migrate; bulk-insert an admin, 100 users in 40 teams, templates copying a built-in's questions, forks."""
    from sqlalchemy import insert

    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User
    from templates.models import TemplateEntry, TemplateFork
    from templates.registry import BUILTIN_DIR
    from templates.source import read_template

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    rng = random.Random(7)
    now = datetime.now(UTC)
    info = read_template(BUILTIN_DIR / "rag-chatbot")
    users = [{"email": "admin@example.com", "name": "Admin", "department": "CoE", "team": "Platform",
              "role": "admin", "role_set_by_admin": False, "active": True, "created_at": now}]
    users += [{"email": f"dev{i}@example.com", "name": f"Dev {i}", "department": f"Dept {i % 9}",
               "team": f"Team {i % 40}", "role": "contributor", "role_set_by_admin": False, "active": True,
               "created_at": now} for i in range(100)]
    templates = template_rows(rng, templates_count, now, info)
    forks = fork_rows(rng, forks_count, now, template_ids=list(range(1, templates_count + 1)),
                      users=[(2 + i, f"Team {i % 40}", f"Dept {i % 9}") for i in range(100)])
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        conn.execute(insert(TemplateEntry), templates)
        for start in range(0, len(forks), 10_000):
            conn.execute(insert(TemplateFork), forks[start:start + 10_000])
    engine.dispose()
    return 1


def run() -> dict[str, float]:
    """Median rerun times of the template pages over an empty page's; prints and returns the ratios."""
    workdir = scratch_folder("bench-templates-")
    started = time.perf_counter()
    databases, admin_id = load_databases(workdir, lambda url, large: _load(
        url, templates_count=TEMPLATES if large else 20, forks_count=FORKS if large else 100))
    print(f"templates page: loaded {TEMPLATES:,} templates and {FORKS:,} forks in "
          f"{time.perf_counter() - started:.1f}s (and a database of 20 templates, 100 forks)")
    app = str(REPO_ROOT / "portal" / "app.py")
    bench = PageBench(label="templates page", small_label="20 templates and 100 forks", goal=GOAL, rounds=ROUNDS,
                      scripts={
                          "template list": (app, admin_id, None, "views/templates.py"),
                          "busiest template": (app, admin_id, {"tpl_current": BUSIEST}, "views/template.py"),
                      })
    return compare_pages(bench, workdir, databases)


if __name__ == "__main__":
    run()
