"""Shared by the page tests: what reached the gateway, and what is in a table."""

import re

from sqlmodel import Session, select

SANDBOX = "views/sandbox.py"
DRAFT = "sandbox_draft"


def chat_requests(gateway) -> list:
    return [r for r in gateway.requests if r.path.endswith("/chat/completions")]


def rows(engine, table) -> list:
    with Session(engine) as session:
        return list(session.exec(select(table)).all())


def shown(at) -> str:
    """Everything the page shows as text."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "text", "error", "warning",
                                  "success", "info") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def unescaped(markdown: str) -> str:
    """What a reader sees of Markdown written with portal.ui.plain: the text without its escapes."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n")


def errors(at) -> list[str]:
    return [unescaped(e.value) for e in at.error]


def send(at, message: str):
    at.text_area(key=DRAFT).input(message)
    at.button(key="FormSubmitter:sandbox_form-Send").click().run()
    assert not at.exception, at.exception
    return at


def chat(at) -> list[tuple[str, str]]:
    """(who, text) of every chat message on the page, in order; the text is the message's first Markdown."""
    return [(m.name, unescaped(m.markdown[0].value)) for m in at.chat_message]
