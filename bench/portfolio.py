"""Portfolio cost: the portfolio board and table, a use-case page with its graduation criteria, and a model card that
lists the use cases using it, on the seed data plus 5,000 use cases with 50,000 links (and 2,000 catalog models,
500 templates with 50,000 forks, 100,000 usage events from the other benchmarks' generators), against the same
pages on the seed data alone; and the criteria of one use case computed on each. Goal: p95 within 2x.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import verdict  # noqa: E402
from bench.catalog_cost import model_rows  # noqa: E402
from bench.pages import rerun_times, scratch_folder  # noqa: E402
from bench.templates_page import fork_rows, template_rows  # noqa: E402
from bench.usage_dashboard import _events as usage_event_chunks  # noqa: E402

USE_CASES = 5_000
LINKS_EACH = 10  # 3 models, 3 prompts, a template, 2 forks, a course: 50,000 links
MODELS, TEMPLATES, FORKS, USAGE_EVENTS, BENCH_USERS = 2_000, 500, 50_000, 100_000, 200
ROUNDS = 10
GOAL = 2.0
PAGE_CASE = "Contract clause review"  # a seed use case in pilot: its page checks the criteria for production
CARD_MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # a seed model that many generated use cases link to
CRITERIA_SAMPLE = 200


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18]


def _seed(database_url: str) -> None:
    """The seed data a fresh machine gets (`coe-portal seed`): demo users, catalog, prompts, courses, portfolio."""
    from portal.cli import main

    os.environ["PORTAL_DATABASE_URL"] = database_url
    if main(["seed"]) != 0:
        raise RuntimeError("coe-portal seed failed")


def _add_big_data(database_url: str) -> None:
    """Bulk-insert the other features' big data sets, then 5,000 use cases with 50,000 links and 500 waiting moves."""
    from sqlalchemy import insert, select

    from catalog.models import CatalogModel
    from metering.models import UsageEvent
    from portal.core.db import make_engine
    from portal.core.users import User
    from prompt_library.models import Prompt
    from templates.models import TemplateEntry, TemplateFork
    from templates.registry import BUILTIN_DIR
    from templates.source import read_template

    engine = make_engine(database_url)
    rng, now = random.Random(17), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(User), [{"email": f"bench{i:04}@example.com", "name": f"Bench {i}", "role": "contributor",
                                     "department": f"Dept {i % 12}", "team": f"Team {i % 40}", "active": True,
                                     "role_set_by_admin": False, "created_at": now} for i in range(BENCH_USERS)])
        users = [dict(row._mapping) for row in conn.execute(select(User.id, User.team, User.department)
                                                            .order_by(User.id))]
        conn.execute(insert(CatalogModel), model_rows(rng, MODELS, now))
        conn.execute(insert(TemplateEntry), template_rows(rng, TEMPLATES, now,
                                                          read_template(BUILTIN_DIR / "rag-chatbot")))
        template_ids = list(conn.execute(select(TemplateEntry.id)).scalars())
        people = [(u["id"], u["team"], u["department"]) for u in users]
        for start in range(0, FORKS, 10_000):
            conn.execute(insert(TemplateFork), fork_rows(rng, min(10_000, FORKS - start), now,
                                                         template_ids=template_ids, users=people))
        for chunk in usage_event_chunks(rng, USAGE_EVENTS, users, now):
            conn.execute(insert(UsageEvent), chunk)
        assets = {"model": list(conn.execute(select(CatalogModel.name)).scalars()),
                  "prompt": list(conn.execute(select(Prompt.slug)).scalars()),
                  "template": sorted({*conn.execute(select(TemplateEntry.name)).scalars(),
                                      *(p.name for p in BUILTIN_DIR.iterdir() if p.is_dir())}),
                  "fork": [str(i) for i in conn.execute(select(TemplateFork.id)).scalars()],
                  "course": ["genai-fundamentals", "prompt-engineering-basics", "rag-from-template", "responsible-ai"]}
        _use_cases(conn, rng, now, [u["id"] for u in users], assets)
    engine.dispose()


def _use_cases(conn, rng: random.Random, now: datetime, user_ids: list[int], assets: dict[str, list[str]]) -> None:
    """5,000 submitted use cases over every stage and tier, ten links each, a tenth with a move waiting."""
    from sqlalchemy import func, insert, select

    from portfolio.links import UseCaseLink
    from portfolio.models import StageMove, UseCase

    stages = ["idea"] * 3 + ["assessment"] * 2 + ["pilot"] * 2 + ["production", "scaled", "paused", "retired"]
    first = (conn.execute(select(func.max(UseCase.id))).scalar() or 0) + 1
    rows = []
    for i in range(USE_CASES):
        tier, owner = rng.randint(1, 3), rng.choice(user_ids)
        rows.append({"title": f"Use case {i}", "problem": "Work done by hand that a model could draft.",
                     "who_has_it": "A team", "department": f"Dept {i % 12}", "team": f"Team {i % 40}",
                     "owner_id": owner, "proposed_by_id": owner, "value_amount": float(rng.randint(1, 500) * 100),
                     "value_unit": rng.choice(["money", "hours"]), "value_assumption": "bench",
                     "classification": rng.randint(1, 3), "people_affected": "staff", "human_review": True,
                     "autonomy": "assists", "draft": False, "stage": rng.choice(stages), "stage_reason": "",
                     "proposed_tier": tier, "tier": tier, "tier_reason": "", "on_call_owner": "",
                     "rollback_plan": "", "monitoring_url": "", "revision": 1,
                     "created_at": now - timedelta(days=rng.randint(0, 700)), "updated_at": now})
    conn.execute(insert(UseCase), rows)
    others = [name for name in assets["model"] if name != CARD_MODEL]
    wanted = {"model": 3, "prompt": 3, "template": 1, "fork": 2, "course": 1}
    links = [{"use_case_id": first + i, "kind": kind, "ref": ref}
             for i in range(USE_CASES) for kind, count in wanted.items()
             for ref in ([CARD_MODEL, *rng.sample(others, count - 1)] if kind == "model" and i % 5 == 0
                         else rng.sample(assets[kind], count))]
    for start in range(0, len(links), 10_000):
        conn.execute(insert(UseCaseLink), links[start:start + 10_000])
    after = {"idea": "assessment", "assessment": "pilot", "pilot": "production", "production": "scaled"}
    moves = [{"use_case_id": first + i, "from_stage": rows[i]["stage"], "to_stage": after[rows[i]["stage"]],
              "requested_by_id": rows[i]["owner_id"], "reason": "", "state": "pending", "version": 1,
              "created_at": now} for i in range(0, USE_CASES, 10) if rows[i]["stage"] in after]
    conn.execute(insert(StageMove), moves)


def _databases(workdir: Path) -> dict[str, str]:
    """The seed database, and a copy of it with the big data added."""
    seed, large = workdir / "seed.db", workdir / "large.db"
    _seed(f"sqlite:///{seed}")
    with sqlite3.connect(seed) as source, sqlite3.connect(large) as copy:
        source.backup(copy)  # reads through the write-ahead log, which a file copy would miss
    _add_big_data(f"sqlite:///{large}")
    return {"large": f"sqlite:///{large}", "seed": f"sqlite:///{seed}"}


def _ids(database_url: str) -> tuple[int, int]:
    """The admin's id and the timed use case's."""
    from sqlmodel import Session, select

    from portal.core.db import make_engine
    from portal.core.users import User
    from portfolio.models import UseCase

    engine = make_engine(database_url)
    with Session(engine) as session:
        admin = session.exec(select(User.id).where(User.role == "admin").order_by(User.id)).first()
        use_case = session.exec(select(UseCase.id).where(UseCase.title == PAGE_CASE)).one()
    engine.dispose()
    return admin, use_case


def _criteria_times(database_url: str, sample: int) -> list[float]:
    """Seconds to compute the graduation criteria of the next forward move, for `sample` use cases."""
    from sqlmodel import Session, col, select

    from portal.core.db import make_engine
    from portfolio.criteria import criteria_states
    from portfolio.models import FORWARD_STAGES, UseCase

    engine = make_engine(database_url)
    forward = [s.value for s in FORWARD_STAGES]
    times = []
    with Session(engine) as session:
        cases = session.exec(select(UseCase).where(col(UseCase.stage).in_(forward[:-1]))
                             .order_by(col(UseCase.id).desc()).limit(sample)).all()
        for use_case in cases * max(1, sample // max(1, len(cases))):
            to_stage = forward[forward.index(use_case.stage) + 1]
            started = time.perf_counter()
            criteria_states(session=session, use_case=use_case, to_stage=to_stage)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def run() -> dict[str, float]:
    """p95 of each page's rerun and of the criteria on the big data over the same on the seed data."""
    workdir = scratch_folder("bench-portfolio-")
    started = time.perf_counter()
    databases = _databases(workdir)
    print(f"portfolio: seeded, then added {USE_CASES:,} use cases with {USE_CASES * LINKS_EACH:,} links, {MODELS:,} "
          f"models, {TEMPLATES} templates, {FORKS:,} forks, {USAGE_EVENTS:,} usage events in "
          f"{time.perf_counter() - started:.1f}s")
    admin_id, use_case_id = _ids(databases["seed"])
    app = str(REPO_ROOT / "portal" / "app.py")
    pages = {"board": (None, "views/portfolio.py"), "table": ({"pf_view": "Table"}, "views/portfolio.py"),
             "use-case page": ({"uc_open_id": str(use_case_id)}, "views/use_case.py"),
             "model card (used by)": ({"model_card_name": CARD_MODEL}, "views/model_card.py")}
    timings: dict[tuple[str, str], list[float]] = {(db, name): [] for db in databases for name in pages}
    for _ in range(ROUNDS):  # interleaved, so a slow moment of the machine hits both databases alike
        for db, url in databases.items():
            os.environ["PORTAL_DATABASE_URL"] = url
            for name, (state, page) in pages.items():
                timings[db, name].extend(rerun_times(app, admin_id, rounds=5, state=state, page=page))
    ratios = {}
    for name in pages:
        large, seed = p95(timings["large", name]), p95(timings["seed", name])
        ratios[name] = large / seed
        medians = [statistics.median(timings[db, name]) * 1000 for db in ("large", "seed")]
        print(f"portfolio: {name} p95 {large * 1000:.1f} ms on the big data vs {seed * 1000:.1f} ms on the seed "
              f"data -> {verdict(ratios[name], GOAL)} (medians {medians[0]:.1f} / {medians[1]:.1f} ms)")
    large, seed = _criteria_times(databases["large"], CRITERIA_SAMPLE), _criteria_times(databases["seed"],
                                                                                         CRITERIA_SAMPLE)
    ratios["criteria"] = p95(large) / p95(seed)
    print(f"portfolio: criteria of one use case p95 {p95(large) * 1000:.2f} ms over {len(large)} use cases on the big "
          f"data vs {p95(seed) * 1000:.2f} ms over {len(seed)} on the seed data -> "
          f"{verdict(ratios['criteria'], GOAL)}")
    return ratios


if __name__ == "__main__":
    run()
