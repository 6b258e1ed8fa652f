"""Prompt search: hybrid search p95 over 10,000 and 100,000 prompts vs the raw FTS5 query plus the raw Chroma
query in the same run; re-indexing 10,000 unchanged prompts (zero embedding calls); the library page with
10,000 prompts vs an empty page.

Index vectors are deterministic random unit vectors of MiniLM's 384 dimensions: embedding 100,000 texts on two
CPU cores takes minutes, and both sides of the comparison query the same collection, so the ratio holds. The
query vector is computed once up front (the goal excludes the query embedding). Data is cached under
~/.cache/coe-portal/bench-prompts-<N>-v<FORMAT>, so only the first run pays for generating it.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import verdict  # noqa: E402
from bench.pages import PageBench, compare_pages, scratch_folder  # noqa: E402

SIZES = (10_000, 100_000)
QUERIES = 200
DIMENSIONS = 384
FORMAT = 3  # bump when the generated data or the schema changes
CACHE = Path.home() / ".cache" / "coe-portal"
GOAL_RATIO, GOAL_MS, PAGE_GOAL = 1.5, 50.0, 3.0
AREAS = ["HR", "Legal", "Finance", "Customer support", "Engineering", "Marketing"]
VERBS = ["summarise", "draft", "review", "classify", "extract", "rewrite", "translate", "explain", "plan", "check"]
THINGS = ["ticket", "contract", "invoice", "job advert", "incident", "policy", "campaign", "pull request",
          "expense claim", "survey", "meeting notes", "release notes", "customer email", "budget", "nda"]
EXTRA = ["tone", "json", "bullet points", "plain english", "risk", "deadline", "priority", "summary", "owner",
         "customer", "refund", "liability", "forecast", "onboarding", "security", "seo", "newsletter"]


def _text(rng: random.Random, i: int) -> tuple[str, str, list[str]]:
    verb, thing = rng.choice(VERBS), rng.choice(THINGS)
    tags = rng.sample(EXTRA, 3)
    title = f"{verb.capitalize()} a {thing} #{i}"
    body = (f"{title}\nYou help staff {verb} a {thing}. Focus on {tags[0]} and {tags[1]}; answer with {tags[2]}.\n"
            f"{{{thing.replace(' ', '_')}}}\n" + " ".join(rng.sample(EXTRA, 6)))
    return title, body, tags


def build(folder: Path, count: int) -> None:
    """A migrated SQLite database with `count` published prompts and a Chroma collection of their vectors."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings
    from sqlalchemy import insert

    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User
    from prompt_library.models import Prompt
    from prompt_library.search import HASH_KEY, text_hash

    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{folder / 'prompts.db'}")
    upgrade_to_head(engine)
    rng, now = random.Random(7), datetime.now(UTC)
    rows = []
    for i in range(count):
        title, body, tags = _text(rng, i)
        rows.append({"slug": f"p-{i:06}", "title": title, "description": body.split("\n")[1], "tags": tags,
                     "category": rng.choice(AREAS), "department": rng.choice(AREAS), "owner_id": 1,
                     "visibility": "organisation", "status": "published", "classification": 2,
                     "recommended_models": ["gpt-4o-mini"], "trusted": False, "latest_version": 1,
                     "content_hash": "", "search_text": body, "usage_count": rng.randint(0, 500),
                     "rating_count": 0, "rating_average": round(rng.uniform(0, 5), 1), "created_at": now,
                     "updated_at": now})
    with engine.begin() as conn:
        conn.execute(insert(User), [{"email": "admin@example.com", "name": "Admin", "department": "CoE",
                                     "team": "Platform", "role": "admin", "role_set_by_admin": False,
                                     "active": True, "created_at": now}])
        for start in range(0, count, 5000):
            conn.execute(insert(Prompt), rows[start:start + 5000])
        # A database that grew over months has statistics (ANALYZE or PRAGMA optimize); a bulk load has none,
        # and without them SQLite walks the low-selectivity status index instead of the ordering index.
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    vectors = np.random.default_rng(7).normal(size=(count, DIMENSIONS)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = _collection(client)
    for start in range(0, count, 5000):
        ids = range(start + 1, min(start + 5000, count) + 1)  # prompt ids are 1..count
        collection.add(ids=[str(i) for i in ids], embeddings=vectors[start:start + 5000],
                       metadatas=[{HASH_KEY: text_hash(rows[i - 1]["search_text"])} for i in ids])
    (folder / "complete").write_text("ok")


class BenchEmbeddings:
    """A fixed vector space name; counts calls, which the re-index check requires to be zero."""

    name = "bench:random-384"

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts):
        self.calls += 1
        raise AssertionError(f"re-indexing unchanged prompts asked for {len(texts)} embeddings")

    def embed_query(self, text):
        raise AssertionError("the benchmark passes query vectors")


def _collection(client):
    from portal.core.vector_index import collection_name, vector_collection

    return vector_collection(client, name=collection_name("prompts", BenchEmbeddings.name), space=BenchEmbeddings.name)


def dataset(count: int) -> Path:
    folder = CACHE / f"bench-prompts-{count}-v{FORMAT}"
    if not (folder / "complete").exists():
        started = time.perf_counter()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        build(folder, count)
        print(f"prompt search: generated {count:,} prompts in {time.perf_counter() - started:.1f}s (cached)")
    return folder


def search_vs_raw(folder: Path, count: int) -> dict[str, float]:
    """p95 of search_prompts (keyword + semantic + fusion + filters + rows) vs raw FTS5 + raw Chroma queries."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings
    from sqlmodel import Session, text

    from portal.core.db import make_engine
    from portal.core.users import User
    from prompt_library.keyword_index import ENOUGH_WITH_EVERY_WORD, keyword_queries, query_tokens
    from prompt_library.search import CANDIDATES, SEMANTIC_CANDIDATES, PromptFilter, PromptIndex, search_prompts

    engine = make_engine(f"sqlite:///{folder / 'prompts.db'}")
    client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    embeddings = BenchEmbeddings()
    index = PromptIndex(client=client, embeddings=embeddings)
    collection = _collection(client)
    rng = random.Random(3)
    queries = [f"{rng.choice(VERBS)} {rng.choice(THINGS)} {rng.choice(EXTRA)}" for _ in range(QUERIES)]
    vectors = np.random.default_rng(3).normal(size=(QUERIES, DIMENSIONS))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()
    mine, base, any_only = [], [], []
    with Session(engine) as session:
        actor = session.get(User, 1)
        raw_fts = text("SELECT rowid FROM prompt_fts WHERE prompt_fts MATCH :m ORDER BY bm25(prompt_fts, 4.0, 1.0) "
                       "LIMIT :limit")
        for round_ in range(2):  # the first round warms caches and is not counted
            for i, (query, vector) in enumerate(zip(queries, vectors, strict=True)):
                def portal():
                    search_prompts(session=session, actor=actor, filters=PromptFilter(query=query), index=index,
                                   limit=25, query_vector=vector)

                every_word, any_word = keyword_queries(query_tokens(query), "sqlite")

                def raw():  # the same FTS5 queries the search sends, without anything around them
                    found = session.exec(raw_fts, params={"m": every_word, "limit": CANDIDATES}).all()
                    if len(found) < ENOUGH_WITH_EVERY_WORD:
                        session.exec(raw_fts, params={"m": any_word, "limit": CANDIDATES}).all()
                    collection.query(query_embeddings=[vector], n_results=SEMANTIC_CANDIDATES, include=[])

                def any_word_alone():  # the keyword query before every-word-first, for the record
                    session.exec(raw_fts, params={"m": any_word, "limit": CANDIDATES}).all()

                pair = [_timed(portal), _timed(raw)] if i % 2 else list(reversed([_timed(raw), _timed(portal)]))
                if round_:
                    mine.append(pair[0])
                    base.append(pair[1])
                    any_only.append(_timed(any_word_alone))
    p95 = lambda values: statistics.quantiles(values, n=20)[18] * 1000  # noqa: E731
    ratio = p95(mine) / p95(base)
    print(f"prompt search, {count:,} prompts: p95 {p95(mine):.1f} ms (hybrid search) vs {p95(base):.1f} ms "
          f"(raw FTS5 + raw Chroma) over {QUERIES} queries -> {verdict(ratio, GOAL_RATIO)}; p95 "
          + ("under" if p95(mine) < GOAL_MS else "OVER") + f" {GOAL_MS:.0f} ms; median {statistics.median(mine) * 1000:.1f}"
          f" vs {statistics.median(base) * 1000:.1f} ms; the any-word FTS5 query alone: p95 {p95(any_only):.1f} ms")
    engine.dispose()
    return {f"search {count}": ratio}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def reindex_unchanged(folder: Path) -> None:
    """Sync the 10,000-prompt index: every prompt unchanged, so no embedding call at all."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from sqlmodel import Session

    from portal.core.db import make_engine
    from prompt_library.search import PromptIndex

    client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    embeddings = BenchEmbeddings()
    index = PromptIndex(client=client, embeddings=embeddings)
    started = time.perf_counter()
    with Session(make_engine(f"sqlite:///{folder / 'prompts.db'}")) as session:
        report = index.sync(session)
    print(f"prompt re-index, 10,000 unchanged prompts: {report.unchanged:,} unchanged, {report.embedded} embedded, "
          f"{embeddings.calls} embedding calls in {time.perf_counter() - started:.2f}s -> "
          + ("ok" if embeddings.calls == 0 and report.embedded == 0 else "FAILED"))


def library_page(folder: Path) -> dict[str, float]:
    """AppTest rerun of the library page on 10,000 prompts vs an empty page (a one-title script), and vs the same
    page on an empty library."""
    import shutil

    workdir = scratch_folder("bench-prompts-page-")
    large = workdir / "large.db"
    shutil.copy(folder / "prompts.db", large)
    small = dataset_small(workdir)
    databases = {"large": f"sqlite:///{large}", "small": f"sqlite:///{small}"}
    os.environ["PORTAL_CHROMA_PATH"] = str(workdir / "chroma")
    app = str(REPO_ROOT / "portal" / "app.py")
    bench = PageBench(label="prompt library page", small_label="an empty library", goal=PAGE_GOAL, rounds=10,
                      scripts={"library": (app, 1, None, "views/prompts.py"),
                               "library filtered": (app, 1, {"prompts_category": "Legal", "prompts_sort": "most used"},
                                                    "views/prompts.py")})
    return compare_pages(bench, workdir, databases)


def dataset_small(workdir: Path) -> Path:
    folder = workdir / "small"
    build(folder, 0)
    return folder / "prompts.db"


def run() -> dict[str, float]:
    ratios: dict[str, float] = {}
    folders = {count: dataset(count) for count in SIZES}
    for count in SIZES:
        ratios.update(search_vs_raw(folders[count], count))
    reindex_unchanged(folders[10_000])
    ratios.update(library_page(folders[10_000]))
    return ratios


if __name__ == "__main__":
    run()
