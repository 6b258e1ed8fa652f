"""Sandbox overhead: a whole sandbox turn through the service layer (model check, budgets, guardrails, streaming,
usage recording in SQLite) against a bare `openai` call to the same test gateway; then 20 conversations at once.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import alternate, report_pairs  # noqa: E402
from bench.gateway_overhead import MESSAGES, MODEL, _time_bare  # noqa: E402

ROUNDS = 100
WARMUP = 5
CONCURRENT = 20
GOAL = 1.05
PACED_CHUNK_DELAY_S = 0.05
PACED_ROUNDS = 20


def _setup(database_url: str) -> None:
    """A migrated database with one user per concurrent conversation and the test gateway's model approved."""
    from catalog.models import CatalogModel, DataClassification
    from portal.core.db import make_engine, session_scope
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        session.add(CatalogModel(name=MODEL, display_name=MODEL, status="approved", served=True,
                                 max_classification=int(DataClassification.INTERNAL),
                                 input_price_per_mtok=0.1, output_price_per_mtok=0.2))
        for i in range(CONCURRENT):
            session.add(User(email=f"bench{i}@example.com", name=f"Bench {i}", team=f"team{i % 4}"))
    engine.dispose()


def _sandbox_turn(engine, gateway, user_id: int) -> tuple[float, float]:
    """(time to first token, total) of one sandbox turn, timed from before the checks to after recording."""
    from catalog.models import DataClassification
    from portal.core.db import session_scope
    from portal.core.users import User
    from sandbox.chat import SandboxPolicy, TurnRequest, TurnStream, prepare_turn, record_turn
    from metering.budgets import BudgetPolicy

    policy = SandboxPolicy(budgets=BudgetPolicy(10**9, 10**6), max_message_chars=20_000,
                           guardrail_actions={"public": "redact", "internal": "redact", "confidential": "warn",
                                              "restricted": "warn"})
    started = time.perf_counter()
    first = None
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        prepared = prepare_turn(session=session, user=user, policy=policy, request=TurnRequest(
            message=MESSAGES[0]["content"], model_name=MODEL, classification=DataClassification.INTERNAL))
    stream = TurnStream(prepared, gateway)
    for _ in stream:
        if first is None:
            first = time.perf_counter() - started
    with session_scope(engine) as session:
        record_turn(session=session, stream=stream)
    return first, time.perf_counter() - started


def run() -> dict[str, float]:
    """Median ratios of a sandbox turn over a bare SDK stream; p95 under 20 concurrent conversations."""
    import openai

    from metering.budgets import BudgetPolicy
    from metering.gateway import MeteredGateway
    from portal.core.db import make_engine
    from portal.core.gateway import GatewayClient
    from tests.fake_gateway import FakeGateway

    database_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-sandbox-')) / 'portal.db'}"
    _setup(database_url)
    engine = make_engine(database_url)
    with FakeGateway(models=(MODEL,)) as fake:
        # The metered path: every turn reserves its worst case and settles its usage in transactions of its own.
        portal = MeteredGateway(gateway=GatewayClient(base_url=fake.url, timeout_s=10.0), engine=engine,
                                budgets=BudgetPolicy(10**9, 10**6))
        bare = openai.OpenAI(base_url=fake.url, api_key="not-needed", timeout=10.0, max_retries=0)
        for _ in range(WARMUP):
            _sandbox_turn(engine, portal, 1)
            _time_bare(bare)
        ratios = _paired(engine, portal, bare, rounds=ROUNDS, label="")
        # The test gateway answers in ~2 ms; a real model takes tens to hundreds. Pacing its chunks at 50 ms
        # shows the same fixed overhead against a realistic time to first token.
        fake.chunk_delay_s = PACED_CHUNK_DELAY_S
        paced = _paired(engine, portal, bare, rounds=PACED_ROUNDS, label=" (gateway pacing chunks at 50 ms)")
        fake.chunk_delay_s = 0.0
        ratios.update({f"paced_{key}": value for key, value in paced.items()})
        ratios.update(_concurrent(engine, portal))
    engine.dispose()
    return ratios


def _paired(engine, portal, bare, *, rounds: int, label: str) -> dict[str, float]:
    """Alternate sandbox turns and bare SDK streams; print and return the median per-pair ratios."""
    pairs = alternate(lambda: _sandbox_turn(engine, portal, 1), lambda: _time_bare(bare), rounds)
    return report_pairs(pairs, label=f"sandbox overhead{label}", mine="sandbox turn", base="bare openai",
                        unit="turns", goal=GOAL)


def _concurrent(engine, gateway) -> dict[str, float]:
    """20 conversations at once through the service layer: all must finish; p95 of their times."""
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(lambda uid: _sandbox_turn(engine, gateway, uid), range(1, CONCURRENT + 1)))
    totals = sorted(total for _, total in results)
    p95 = totals[max(0, int(round(0.95 * len(totals))) - 1)]
    print(f"sandbox overhead: {len(results)}/{CONCURRENT} concurrent turns completed; total time p50 "
          f"{statistics.median(totals) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    return {"concurrent_completed": float(len(results)), "concurrent_p95_s": p95}


if __name__ == "__main__":
    run()
