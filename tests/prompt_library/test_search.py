"""Hybrid search: quality with the real local embedding model, filters and sorts, incremental indexing, and the
same search on embedded Chroma and a Chroma server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings
from sqlmodel import select

from portal.core.embeddings import LocalEmbeddings
from portal.core.users import User
from prompt_library.as_code import SEED_PROMPTS, import_prompts, parse_prompt_file
from prompt_library.keyword_index import ENOUGH_WITH_EVERY_WORD, keyword_ranking
from prompt_library.models import Prompt
from prompt_library.review import unpublish
from prompt_library.service import toggle_favourite
from prompt_library.search import PromptFilter, PromptIndex, fuse, search_prompts
from tests.conftest import free_port

# A person's words, not the prompt's title, and the prompt they should find in the top three.
LABELLED_QUERIES = [
    ("write a job ad for a new engineer", "job-description-writer"),
    ("questions to ask candidates", "interview-questions"),
    ("plan for a new starter's first months", "onboarding-plan"),
    ("is this liability clause dangerous", "contract-clause-review"),
    ("customer wants their personal data deleted", "gdpr-request-reply"),
    ("explain why we overspent the budget", "variance-commentary"),
    ("pull the total and supplier out of a bill", "invoice-extraction"),
    ("hotel too expensive on a business trip claim", "expense-policy-check"),
    ("customer asks for money back", "refund-reply"),
    ("route incoming tickets by urgency", "ticket-triage"),
    ("calm down a furious client", "angry-customer-deescalation"),
    ("look at my pull request for bugs", "code-review"),
    ("turn a question into a database query", "sql-from-question"),
    ("write up what went wrong in the outage", "incident-postmortem"),
    ("pytest for my function", "unit-test-generator"),
    ("linkedin announcement", "social-post"),
    ("google search snippet for a page", "seo-meta-description"),
    ("nda summary", "nda-summary"),
    ("monthly kpis for the board", "board-kpi-summary"),
    ("survey comments themes", "csat-survey-analysis"),
]


@pytest.fixture(scope="session")
def local_embeddings() -> LocalEmbeddings:
    """The real MiniLM model, loaded once for the session."""
    embeddings = LocalEmbeddings()
    embeddings.embed_query("warm up")
    return embeddings


class CountingEmbeddings(Embeddings):
    """Wraps a real source and counts the texts it is asked to embed."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner, self.documents = inner, 0
        self.name = getattr(inner, "name", "inner")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture
def seeded(session, make_user):
    admin = make_user("admin")
    import_prompts(session=session, actor=admin, fallback_owner=admin,
                   specs=parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed"))
    session.commit()
    return admin


def embedded_index(tmp_path: Path, embeddings: Embeddings) -> PromptIndex:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    return PromptIndex(client=client, embeddings=embeddings)


def top3_hit_rate(session, actor, index) -> float:
    hits = 0
    for query, expected in LABELLED_QUERIES:
        found = search_prompts(session=session, actor=actor, filters=PromptFilter(query=query), index=index, limit=3)
        hits += expected in [p.slug for p in found.prompts]
    return hits / len(LABELLED_QUERIES)


@pytest.mark.local_model
def test_hybrid_search_finds_the_expected_prompt_in_the_top_three(session, seeded, tmp_path, local_embeddings):
    index = embedded_index(tmp_path, local_embeddings)
    assert index.sync(session).embedded == 33
    assert top3_hit_rate(session, seeded, index) >= 0.9


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory) -> str:
    """A real `chroma run` server for this module."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                                "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            break
        except Exception:  # not listening yet
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.mark.local_model
def test_hybrid_search_works_against_a_chroma_server(session, seeded, chroma_server, local_embeddings):
    host, port = chroma_server.split(":")
    client = chromadb.HttpClient(host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False))
    index = PromptIndex(client=client, embeddings=local_embeddings, name=f"prompts-{time.time_ns()}")
    index.sync(session)
    assert top3_hit_rate(session, seeded, index) >= 0.9


def test_unchanged_prompts_are_never_embedded_again_and_unpublished_ones_leave(session, seeded, tmp_path,
                                                                              local_embeddings) -> None:
    counting = CountingEmbeddings(local_embeddings)
    index = embedded_index(tmp_path, counting)
    index.sync(session)
    assert counting.documents == 33
    report = index.sync(session)
    assert (report.embedded, report.unchanged, counting.documents) == (0, 33, 33)
    refund = session.exec(select(Prompt).where(Prompt.slug == "refund-reply")).one()
    refund.search_text += "\nchargeback"
    session.add(refund)
    session.commit()
    assert index.sync(session, prompt_ids=[refund.id]).embedded == 1 and counting.documents == 34
    unpublish(session=session, actor=seeded, prompt_id=refund.id)
    session.commit()
    assert index.sync(session).removed == 1
    assert str(refund.id) not in index.collection.get()["ids"]


def test_keyword_search_ranks_title_words_and_ignores_query_syntax(session, seeded) -> None:
    ids = keyword_ranking(session, "refund", limit=5)
    assert session.get(Prompt, ids[0]).slug == "refund-reply"
    assert keyword_ranking(session, 'refund" OR * NEAR(', limit=5)[0] == ids[0]
    assert keyword_ranking(session, "!!!", limit=5) == []


def add_texts(session, owner, texts: dict[str, str]) -> dict[int, str]:
    """Published prompts with the given search texts; returns id -> name."""
    rows = [Prompt(slug=name, title=name, owner_id=owner.id, status="published", search_text=text)
            for name, text in texts.items()]
    session.add_all(rows)
    session.commit()
    return {row.id: row.slug for row in rows}


def test_keyword_search_keeps_to_prompts_holding_every_word_when_there_are_enough(session, make_user) -> None:
    owner = make_user("admin")
    both = {f"both-{n}": "overdue invoice reminder" for n in range(ENOUGH_WITH_EVERY_WORD)}
    # One word, many times: bm25 alone would rank these first.
    one = {f"one-{n}": "invoice invoice invoice" for n in range(5)}
    names = add_texts(session, owner, both | one)
    found = [names[i] for i in keyword_ranking(session, "invoice overdue", limit=50)]
    assert sorted(found) == sorted(both)


def test_keyword_search_widens_to_any_word_when_few_prompts_hold_every_word(session, make_user) -> None:
    owner = make_user("admin")
    names = add_texts(session, owner, {"both": "contract renewal notice", "contract-1": "contract contract",
                                       "contract-2": "a contract to sign", "renewal": "renewal of a licence",
                                       "unrelated": "holiday request"})
    found = [names[i] for i in keyword_ranking(session, "renewal contract", limit=50)]
    assert found[0] == "both"
    assert sorted(found[1:]) == ["contract-1", "contract-2", "renewal"]


def test_fusion_rewards_agreement() -> None:
    assert fuse([1, 2, 3], [3, 1, 4]) == [1, 3, 2, 4]


@pytest.mark.parametrize("filters, expected", [
    (PromptFilter(category="Legal"), 5),
    (PromptFilter(department="Finance", tags=["json"]), 1),
    (PromptFilter(model="claude-3-5-haiku-20241022"), 3),
    (PromptFilter(query="refund", category="Finance"), 0),
])
def test_filters(session, seeded, filters, expected) -> None:
    assert search_prompts(session=session, actor=seeded, filters=filters, index=None).total == expected


def test_sorts_and_private_prompts(session, seeded, make_user) -> None:
    prompts = session.exec(select(Prompt).order_by(Prompt.slug)).all()
    prompts[3].usage_count, prompts[5].rating_average, prompts[5].rating_count = 9, 4.5, 2
    session.add_all(prompts)
    session.commit()
    page = lambda sort: search_prompts(session=session, actor=seeded, filters=PromptFilter(sort=sort), index=None)
    assert page("most used").prompts[0].id == prompts[3].id
    assert page("best rated").prompts[0].id == prompts[5].id
    viewer = make_user("viewer")
    unpublish(session=session, actor=seeded, prompt_id=prompts[0].id)
    session.commit()
    visible = search_prompts(session=session, actor=viewer, filters=PromptFilter(), index=None, limit=100)
    assert visible.total == 32 and prompts[0].id not in [p.id for p in visible.prompts]
    assert session.get(User, prompts[0].owner_id) is not None


def test_a_search_sorted_by_use_orders_its_matches_and_counts_them_all(session, seeded) -> None:
    relevant = search_prompts(session=session, actor=seeded, filters=PromptFilter(query="customer"), index=None,
                              limit=100)
    assert relevant.total >= 5
    ids = [p.id for p in relevant.prompts]
    for uses, prompt_id in enumerate(ids):  # the least relevant match becomes the most used
        prompt = session.get(Prompt, prompt_id)
        prompt.usage_count = uses
        session.add(prompt)
    session.commit()
    by_use = search_prompts(session=session, actor=seeded, filters=PromptFilter(query="customer", sort="most used"),
                            index=None, limit=3)
    assert [p.id for p in by_use.prompts] == ids[::-1][:3]
    assert by_use.total == relevant.total  # the page shows three; the count is of every match


def test_favourites_filter_shows_a_persons_own_favourites_only(session, seeded, make_user) -> None:
    viewer = make_user("viewer")
    prompts = session.exec(select(Prompt).order_by(Prompt.slug)).all()
    for prompt in prompts[:2]:
        toggle_favourite(session=session, actor=viewer, prompt_id=prompt.id)
    toggle_favourite(session=session, actor=seeded, prompt_id=prompts[5].id)
    session.commit()
    mine = search_prompts(session=session, actor=viewer, filters=PromptFilter(favourites_of=viewer.id), index=None)
    assert sorted(p.id for p in mine.prompts) == [prompts[0].id, prompts[1].id] and mine.total == 2
    searched = search_prompts(session=session, actor=viewer, index=None,
                              filters=PromptFilter(query=prompts[0].title, favourites_of=viewer.id))
    assert searched.prompts[0].id == prompts[0].id
    assert {p.id for p in searched.prompts} <= {prompts[0].id, prompts[1].id}  # never another's favourite
