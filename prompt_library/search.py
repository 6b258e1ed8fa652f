"""Hybrid prompt search: keyword (FTS5 / PostgreSQL full text) and semantic (Chroma), fused by reciprocal rank.

The semantic index holds published prompts only. Indexing is incremental: each entry carries the hash of the
text it was embedded from, so an unchanged prompt is never embedded again; unpublished ones are removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, func, select

from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values
from portal.core.embeddings import embedding_space
from portal.core.users import User
from portal.core.vector_index import collection_name, drop_collection, vector_collection
from prompt_library.keyword_index import keyword_ranking
from prompt_library.models import Prompt, PromptFavourite, PromptStatus, Visibility

RRF_K = 60  # the usual constant: damps the weight of the very top ranks
CANDIDATES = 100  # keyword matches considered, before fusion and filters
# Nearest neighbours always exist, however unrelated: only the closest few join the fusion.
SEMANTIC_CANDIDATES = 10
EMBED_CHARS = 2000  # MiniLM reads 256 tokens; more text only costs time
SORTS = ("relevance", "newest", "most used", "best rated")
HASH_KEY = "text_hash"
_PAGE = 5000  # Chroma get() page when listing what is indexed


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SyncReport:
    embedded: int = 0
    removed: int = 0
    unchanged: int = 0


class PromptIndex:
    """The semantic half: published prompts' texts as vectors in one Chroma collection."""

    def __init__(self, *, client: ClientAPI, embeddings: Embeddings, name: str = "prompts") -> None:
        self.client, self.embeddings = client, embeddings
        self.space = embedding_space(embeddings)
        self.name = collection_name(name, self.space)
        self._collection = None
        # Chroma and the embedding model release the GIL: the semantic half runs here while SQL does its half.
        self._worker = ThreadPoolExecutor(max_workers=4, thread_name_prefix="prompt-search")

    @property
    def collection(self):
        if self._collection is None:
            self._collection = vector_collection(self.client, name=self.name, space=self.space)
        return self._collection

    def indexed_hashes(self, ids: Iterable[int] | None = None) -> dict[int, str]:
        """Prompt id -> hash of the text its vector was made from."""
        if ids is not None:
            wanted = [str(i) for i in ids]
            got = self.collection.get(ids=wanted, include=["metadatas"]) if wanted else {"ids": [], "metadatas": []}
            return {int(i): (m or {}).get(HASH_KEY, "") for i, m in zip(got["ids"], got["metadatas"], strict=True)}
        found: dict[int, str] = {}
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            found.update({int(i): (m or {}).get(HASH_KEY, "") for i, m in zip(got["ids"], got["metadatas"],
                                                                                  strict=True)})
            if len(got["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def sync(self, session: Session, *, prompt_ids: Iterable[int] | None = None) -> SyncReport:
        """Embed new or changed published prompts, drop the rest; `prompt_ids` limits it to those prompts."""
        ids = list(prompt_ids) if prompt_ids is not None else None
        wanted = _published_texts(session, ids)
        indexed = self.indexed_hashes(ids)
        stale = [i for i in indexed if i not in wanted]
        changed = {i: t for i, t in wanted.items() if indexed.get(i) != text_hash(t)}
        if stale:
            self.collection.delete(ids=[str(i) for i in stale])
        for batch in _batches(list(changed.items()), 256):
            texts = [t[:EMBED_CHARS] for _, t in batch]
            self.collection.upsert(ids=[str(i) for i, _ in batch], embeddings=self.embeddings.embed_documents(texts),
                                   metadatas=[{HASH_KEY: text_hash(t)} for _, t in batch])
        return SyncReport(embedded=len(changed), removed=len(stale), unchanged=len(wanted) - len(changed))

    def rebuild(self, session: Session) -> SyncReport:
        """Drop the collection and embed every published prompt again."""
        drop_collection(self.client, name=self.name)
        self._collection = None
        return self.sync(session)

    def ranking(self, query: str, *, limit: int = SEMANTIC_CANDIDATES) -> list[int]:
        """Prompt ids nearest the query, best first."""
        return self.ranking_for_vector(self.embeddings.embed_query(query), limit=limit)

    def ranking_in_background(self, query: str, vector: list[float] | None = None) -> Future[list[int]]:
        """`ranking` (or `ranking_for_vector` when the query's vector is known) on the index's worker threads."""
        if vector is None:
            return self._worker.submit(self.ranking, query)
        return self._worker.submit(self.ranking_for_vector, vector)

    def ranking_for_vector(self, vector: list[float], *, limit: int = SEMANTIC_CANDIDATES) -> list[int]:
        # Chroma returns fewer ids when the collection is smaller than `limit` (none when empty): no count first.
        found = self.collection.query(query_embeddings=[vector], n_results=limit, include=[])
        return [int(i) for i in found["ids"][0]]


def _published_texts(session: Session, ids: list[int] | None) -> dict[int, str]:
    query = select(Prompt.id, Prompt.search_text).where(Prompt.status == PromptStatus.PUBLISHED.value)
    if ids is not None:
        query = query.where(col(Prompt.id).in_(ids))
    return dict(session.exec(query).all())


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def fuse(*rankings: list[int], k: int = RRF_K) -> list[int]:
    """Reciprocal rank fusion: an id's score is the sum of 1 / (k + rank) over the rankings holding it."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], item))


@dataclass(frozen=True)
class PromptFilter:
    """What the library page filters and sorts on; empty fields match everything."""

    query: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    department: str = ""
    model: str = ""
    status: str = ""
    owner_id: int | None = None
    favourites_of: int | None = None  # a user id: only the prompts that user marked as favourites
    sort: str = "relevance"


@dataclass(frozen=True)
class SearchPage:
    prompts: list[Prompt]
    total: int


def search_prompts(*, session: Session, actor: User, filters: PromptFilter, index: PromptIndex | None,
                   limit: int = 50, query_vector: list[float] | None = None) -> SearchPage:
    """Prompts the actor may see that match the filters, in the chosen order."""
    conditions = _conditions(actor, filters)
    if not filters.query.strip():
        return _sql_page(session, actor, conditions[1:], filters.sort, limit)
    semantic = index.ranking_in_background(filters.query, query_vector) if index is not None else None
    keyword = keyword_ranking(session, filters.query, limit=CANDIDATES)
    fused = fuse(keyword, semantic.result() if semantic is not None else [])
    if not fused:
        return SearchPage(prompts=[], total=0)
    # Which matches the actor may see, as ids only; whole rows are built for the page's prompts alone.
    order = () if filters.sort == "relevance" else _SQL_ORDER[filters.sort]
    visible = list(session.exec(select(Prompt.id).where(col(Prompt.id).in_(fused), *conditions).order_by(*order)))
    if filters.sort == "relevance":
        position = {pid: n for n, pid in enumerate(fused)}
        visible.sort(key=position.__getitem__)
    shown = visible[:limit]
    rows = {p.id: p for p in session.exec(select(Prompt).where(col(Prompt.id).in_(shown)))}
    return SearchPage(prompts=[rows[pid] for pid in shown], total=len(visible))


def _conditions(actor: User, f: PromptFilter) -> list[Any]:
    conditions: list[Any] = [or_(_shared(), Prompt.owner_id == actor.id)]  # first: visibility
    for column, value in ((Prompt.category, f.category), (Prompt.department, f.department),
                          (Prompt.status, f.status)):
        if value:
            conditions.append(column == value)
    if f.owner_id is not None:
        conditions.append(Prompt.owner_id == f.owner_id)
    if f.favourites_of is not None:
        conditions.append(col(Prompt.id).in_(select(PromptFavourite.prompt_id)
                                             .where(PromptFavourite.user_id == f.favourites_of)))
    # Tags and recommended models are JSON lists of strings: match the quoted item in the stored text.
    for column, values in ((Prompt.tags, [t.lower() for t in f.tags]), (Prompt.recommended_models,
                                                                       [f.model] if f.model else [])):
        for value in values:
            conditions.append(cast(column, String).like(contains_pattern(f'"{value}"'), escape=LIKE_ESCAPE))
    return conditions


_SORT_KEYS = {
    "newest": lambda p: (-p.created_at.timestamp(), -p.id),
    "most used": lambda p: (-p.usage_count, -p.id),
    "best rated": lambda p: (-p.rating_average, -p.rating_count, -p.id),
}
_SQL_ORDER = {
    "relevance": (col(Prompt.created_at).desc(), col(Prompt.id).desc()),  # no query: newest, through its index
    "newest": (col(Prompt.created_at).desc(), col(Prompt.id).desc()),
    "most used": (col(Prompt.usage_count).desc(), col(Prompt.id).desc()),
    "best rated": (col(Prompt.rating_average).desc(), col(Prompt.rating_count).desc(), col(Prompt.id).desc()),
}


def _sql_page(session: Session, actor: User, filters: list[Any], sort: str, limit: int) -> SearchPage:
    """Shared prompts and the actor's own unshared ones, as two queries: one OR of the two makes SQLite read and
    sort every row (a MULTI-INDEX OR), while each half can walk an index and stop at the page's end."""
    shared = _shared()
    own = (Prompt.owner_id == actor.id) & ~shared
    total, rows = 0, []
    for visible in (shared, own):
        count = session.exec(select(func.count()).select_from(Prompt).where(visible, *filters)).one()
        if count:  # counting reads an index; looking for rows that are not there may walk the whole table
            total += count
            rows += session.exec(select(Prompt).where(visible, *filters).order_by(*_SQL_ORDER[sort])
                                 .limit(limit)).all()
    rows.sort(key=_SORT_KEYS["newest" if sort == "relevance" else sort])
    return SearchPage(prompts=rows[:limit], total=int(total))


def _shared():
    return (Prompt.status == PromptStatus.PUBLISHED.value) & (Prompt.visibility == Visibility.ORGANISATION.value)


def facets(*, session: Session) -> dict[str, list[str]]:
    """Values for the filter drop-downs (one index probe per distinct value, not a scan of every prompt)."""
    columns = Prompt.__table__.c
    return {"category": distinct_values(session, columns.category),
            "department": distinct_values(session, columns.department)}
