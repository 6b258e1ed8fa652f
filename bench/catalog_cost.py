"""Catalog cost: the catalog page (browsing and filtering) and a model card on 2,000 models and 200,000
probe results, against an empty page; the card's p50/p95 come from SQL window functions.
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

MODELS = 2_000
PROBES = 200_000
ROUNDS = 10
GOAL = 3.0
CARD_MODEL = "model-00042"


def model_rows(rng: random.Random, count: int, now: datetime) -> list[dict]:
    """Catalog model rows `model-00000`... in every status, mode, price and clearance (other benchmarks reuse them)."""
    from catalog.models import ModelStatus

    providers = ["Meta", "Mistral", "Alibaba", "OpenAI", "Anthropic", "Google", "BAAI", "Microsoft"]
    statuses = [s.value for s in ModelStatus]
    return [{
        "name": f"model-{i:05}", "display_name": f"Model {i}", "provider": rng.choice(providers),
        "family": "bench", "version": "1", "hosting": rng.choice(["self_hosted", "third_party_api"]),
        "owner": "CoE", "mode": rng.choice(["chat"] * 4 + ["embedding"]),
        "modalities_in": rng.choice(["text", "text,image"]), "modalities_out": "text",
        "max_input_tokens": rng.choice([4096, 8192, 32768, 131072, 200000]), "max_output_tokens": 4096,
        "supports_tools": False, "supports_vision": False, "supports_json_output": True,
        "input_price_per_mtok": round(rng.uniform(0, 15), 2), "output_price_per_mtok": round(rng.uniform(0, 60), 2),
        "license": "bench", "intended_uses": "benchmarks", "out_of_scope": "", "evaluations": [],
        "risk_tier": rng.randint(1, 3), "max_classification": rng.randint(1, 4), "guardrails": [],
        "status": rng.choice(statuses), "restricted_teams": [], "restricted_departments": [],
        "replacement_name": "", "body_markdown": "", "request_use_case": "", "request_justification": "",
        "request_team": "", "served": True, "created_at": now, "updated_at": now,
    } for i in range(count)]


def _load(database_url: str, *, models_count: int, probes_count: int) -> int:
    """Migrate; bulk-insert an admin, models in every status, and probe results over 14 days."""
    from sqlalchemy import insert

    from catalog.models import CatalogModel, ProbeResult
    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    rng = random.Random(11)
    now = datetime.now(UTC)
    models = model_rows(rng, models_count, now)
    with engine.begin() as conn:
        conn.execute(insert(User), [{"email": "admin@example.com", "name": "Admin", "department": "CoE",
                                     "team": "Platform", "role": "admin", "role_set_by_admin": False,
                                     "active": True, "created_at": now}])
        conn.execute(insert(CatalogModel), models)
        if probes_count:
            probes = [{"model_id": rng.randint(1, models_count), "at": now - timedelta(minutes=rng.randint(0, 20160)),
                       "success": rng.random() > 0.05, "latency_s": rng.uniform(0.2, 4.0),
                       "time_to_first_token_s": rng.uniform(0.02, 0.8), "tokens_per_second": rng.uniform(20, 150),
                       "error": ""} for _ in range(probes_count)]
            conn.execute(insert(ProbeResult), probes)
    engine.dispose()
    return 1


def run() -> dict[str, float]:
    """Median rerun times of the catalog pages over an empty page's; prints and returns the ratios."""
    workdir = scratch_folder("bench-catalog-")
    started = time.perf_counter()
    databases, admin_id = load_databases(workdir, lambda url, large: _load(
        url, models_count=MODELS if large else 50, probes_count=PROBES if large else 0))
    print(f"catalog cost: loaded {MODELS:,} models and {PROBES:,} probe results in "
          f"{time.perf_counter() - started:.1f}s (and a database of 50 models, no probes)")
    app = str(REPO_ROOT / "portal" / "app.py")
    bench = PageBench(label="catalog cost", small_label="50 models without probes", goal=GOAL, rounds=ROUNDS,
                      scripts={
                          "catalog": (app, admin_id, None, "views/catalog.py"),
                          "catalog filtered": (app, admin_id, CATALOG_FILTER_STATE, "views/catalog.py"),
                          "model card": (app, admin_id, CARD_STATE, "views/model_card.py"),
                      })
    return compare_pages(bench, workdir, databases)


# Widget state a person would have set: filters on the catalog page, and the card to open.
CATALOG_FILTER_STATE = {"catalog_search": "model", "catalog_min_context": 32768, "catalog_max_input_price": 5.0}
CARD_STATE = {"model_card_name": CARD_MODEL}


if __name__ == "__main__":
    run()
