"""Keyword search over prompts: SQLite FTS5, or PostgreSQL full-text search (tsvector + GIN).

The DDL lives here so the migration, `create_all` in tests and the search query agree on one definition.
Alembic's autogenerate cannot represent an FTS5 table or an expression index: `include_object` hides them.
"""

from __future__ import annotations

import re

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

FTS_TABLE = "prompt_fts"
PG_INDEX = "ix_prompt_search_tsv"
PG_DOCUMENT = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(search_text, ''))"
_TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TOKENS = 12

SQLITE_DDL = (
    # External content: the text lives in `prompt`; triggers keep the index in step with every write.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, search_text, content='prompt', "
    "content_rowid='id', tokenize='porter unicode61')",
    f"CREATE TRIGGER IF NOT EXISTS prompt_fts_insert AFTER INSERT ON prompt BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, search_text) VALUES (new.id, new.title, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS prompt_fts_delete AFTER DELETE ON prompt BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text) "
    "VALUES ('delete', old.id, old.title, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS prompt_fts_update AFTER UPDATE OF title, search_text ON prompt BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text) "
    "VALUES ('delete', old.id, old.title, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, title, search_text) VALUES (new.id, new.title, new.search_text); END",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS prompt_fts_update", "DROP TRIGGER IF EXISTS prompt_fts_delete",
               "DROP TRIGGER IF EXISTS prompt_fts_insert", f"DROP TABLE IF EXISTS {FTS_TABLE}")
POSTGRES_DDL = (f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON prompt USING gin ({PG_DOCUMENT})",)
POSTGRES_DROP = (f"DROP INDEX IF EXISTS {PG_INDEX}",)


def create_keyword_index(connection: Connection) -> None:
    """Create the dialect's keyword index for the prompt table (idempotent)."""
    statements = SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRES_DDL
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop_keyword_index(connection: Connection) -> None:
    statements = SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


def is_keyword_index_object(name: str | None) -> bool:
    """True for the objects autogenerate must leave alone (the FTS5 table, its shadow tables, the GIN index)."""
    return bool(name) and (name == PG_INDEX or name.startswith(FTS_TABLE))


def attach_to(table) -> None:
    """Let create_all (tests) build the keyword index right after the prompt table."""
    event.listen(table, "after_create", lambda _table, connection, **_kw: create_keyword_index(connection))


def query_tokens(query: str) -> list[str]:
    """The words of a query, lower-cased; punctuation and operators are dropped so nothing is syntax."""
    return [token.lower() for token in _TOKEN.findall(query)][:MAX_QUERY_TOKENS]


# Prompts holding every word of the query rank first; below this many, prompts holding any word fill the list.
# Every word first is what makes search fast on a big library: an any-word query of common words matches a
# large share of the table and bm25 must score every match (76 ms at 100,000 prompts against 4 ms).
ENOUGH_WITH_EVERY_WORD = 10


def keyword_queries(tokens: list[str], dialect: str) -> tuple[str, str]:
    """The dialect's query text for (every word, any word); the last word also matches as a prefix while typing.

    Quoted words cannot be read as FTS5 operators; `query_tokens` leaves only word characters for PostgreSQL."""
    if dialect == "sqlite":
        words = [f'"{t}"' for t in tokens[:-1]] + [f'"{tokens[-1]}"*']
        return " ".join(words), " OR ".join(words)
    words = tokens[:-1] + [f"{tokens[-1]}:*"]
    return " & ".join(words), " | ".join(words)


def keyword_ranking(session: Session, query: str, *, limit: int) -> list[int]:
    """Prompt ids matching the query's words, best first (bm25 on SQLite, ts_rank on PostgreSQL): those holding
    every word, then, when they are few, those holding any."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    dialect = session.get_bind().dialect.name
    ranked = _sqlite_ranking if dialect == "sqlite" else _postgres_ranking
    every_word, any_word = keyword_queries(tokens, dialect)
    found = ranked(session, every_word, limit)
    if len(found) >= ENOUGH_WITH_EVERY_WORD or len(tokens) == 1:
        return found
    seen = set(found)
    return (found + [i for i in ranked(session, any_word, limit) if i not in seen])[:limit]


def _sqlite_ranking(session: Session, match: str, limit: int) -> list[int]:
    sql = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match "
               f"ORDER BY bm25({FTS_TABLE}, 4.0, 1.0) LIMIT :limit")
    return [row[0] for row in session.exec(sql, params={"match": match, "limit": limit}).all()]


def _postgres_ranking(session: Session, tsquery: str, limit: int) -> list[int]:
    sql = text(f"SELECT id FROM prompt WHERE {PG_DOCUMENT} @@ to_tsquery('english', :q) "
               f"ORDER BY ts_rank({PG_DOCUMENT}, to_tsquery('english', :q)) DESC LIMIT :limit")
    return [row[0] for row in session.exec(sql, params={"q": tsquery, "limit": limit}).all()]
