"""Shared by the page tests: what reached the gateway, and what is in a table."""

from sqlmodel import Session, select


def chat_requests(gateway) -> list:
    return [r for r in gateway.requests if r.path.endswith("/chat/completions")]


def rows(engine, table) -> list:
    with Session(engine) as session:
        return list(session.exec(select(table)).all())
