"""Small Streamlit helpers shared by the pages: showing user-supplied text safely, opening a row of a table, and
running an action (call a service → say what happened → rerun)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import streamlit as st

from portal.core.db import Engine, session_scope
from portal.core.errors import PermissionDenied, PortalError, StaleEdit
from portal.core.safe_markdown import (
    HEADING_OFFSET,
    plain_chunks,
    plain_text,
    safe_markdown,
    too_big,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Characters Markdown gives meaning to; escaped so a name like "[x](javascript:..)" stays plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """User-supplied text made safe to place inside st.markdown: no links, no formatting, no HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def untrusted_markdown(text: str, *, heading_offset: int = HEADING_OFFSET, container=None) -> None:
    """Model output or third-party Markdown (answers, READMEs, model cards) shown as Markdown that cannot load,
    run or link unmarked: the one way pages show such text (see portal/core/safe_markdown.py)."""
    if too_big(text):
        # Plain text with no Markdown parser at all: the browser took over 20 s to parse a megabyte of escaped
        # Markdown, and st.text shows the same characters at once.
        (container or st).text(text)
        return
    (container or st).markdown(safe_markdown(text, heading_offset=heading_offset))


def as_typed(text: str) -> str:
    """Text for st.markdown shown exactly as typed, line breaks kept (a user's message, an answer mid-stream)."""
    return plain_text(text)


def streamed_text(chunks: Iterable[str]) -> Iterator[str]:
    """An answer streaming in, for st.write_stream: shown as typed until it is whole, then as untrusted_markdown."""
    return plain_chunks(chunks)


# In a one-line message only what can make a link, an image, emphasis, code, HTML or maths needs escaping; a "-" or
# "." means something only at the start of a line, so names like "gpt-4o.mini" stay as written in the source.
_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:])")


def plain_message(text: object) -> str:
    """A message that may carry user-supplied text (a value from the address bar) as one line of plain text."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


# What makes a line a list item, a heading underline or a numbered item when it starts a line.
_LINE_START_SPECIAL = re.compile(r"^(\s*)(-|=|\d+(?=\.))")


def _escaped_start(match: re.Match) -> str:
    indent, start = match.groups()
    return f"{indent}{start}\\" if start[0].isdigit() else f"{indent}\\{start}"  # "12\." and "\-": plain


def plain_lines(text: object) -> str:
    """A message of several lines (a file's problems, one per line) as plain text, its line breaks kept."""
    lines = [_LINE_START_SPECIAL.sub(_escaped_start, plain_message(line)) for line in str(text).splitlines()]
    return "  \n".join(line for line in lines if line.strip())


def open_picker(labels: dict[str, str], *, label: str, placeholder: str, key: str, button: str,
                icon: str) -> str | None:
    """Under a table: pick one of its rows by name and open it. Returns the picked key when the button is pressed.

    A table draws on a canvas that keyboards and AppTest cannot click into; a picker beside it can."""
    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick_col.selectbox(label, list(labels), index=None, format_func=labels.__getitem__,
                                placeholder=placeholder, key=key)
    pressed = button_col.button(button, key=f"{key}_button", disabled=chosen is None, icon=icon)
    return chosen if pressed else None


# --- actions: call a service, then say what happened once, after a rerun -------------------------------------------

# The one session-state slot for "what the last action did"; every page shows it once (deps.portal_context).
PENDING_MESSAGE = "portal_pending_message"
Kind = Literal["success", "info", "warning"]
_ICONS = {"success": ":material/check_circle:", "info": ":material/info:", "warning": ":material/warning:"}


@dataclass(frozen=True)
class PendingMessage:
    """A one-time message for the next run: Markdown the page wrote (user-supplied parts already made plain)."""

    text: str
    kind: Kind = "success"
    icon: str | None = None


def leave_message(text: str, *, kind: Kind = "success", icon: str | None = None) -> None:
    """Say something once on the next run (after an action's rerun, or on the page switched to)."""
    st.session_state[PENDING_MESSAGE] = PendingMessage(text=text, kind=kind, icon=icon)


def show_pending_message() -> None:
    """Show what the last action left to say, once (deps.portal_context calls this as every page starts)."""
    message = st.session_state.pop(PENDING_MESSAGE, None)
    if message is not None:
        getattr(st, message.kind)(message.text, icon=message.icon or _ICONS[message.kind])


def error_icon(error: PortalError) -> str:
    """A domain error's icon: someone saved meanwhile, not allowed, or anything else."""
    if isinstance(error, StaleEdit):
        return ":material/merge_type:"
    return ":material/block:" if isinstance(error, PermissionDenied) else "⚠️"


def show_unexpected() -> None:
    """Log the exception being handled with its stack trace; show a generic message with a reference to quote."""
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error (reference %s)", reference)
    st.error(f"Something went wrong on our side (reference {reference}). It has been logged; "
             "nothing you entered was lost.", icon="⚠️")


def run_action(action: Callable[..., T], *, success: str | Callable[[T], str] | None,
               engine: Engine | None = None, then: Callable[[T], Any] | None = None,
               kind: Kind = "success") -> PortalError | None:
    """Run one service call for a button or form, the one way pages do.

    With `engine`, `action(session)` runs inside one session (committed before anything else happens). On success:
    `success` (Markdown, or made from the result) is left for the next run, `then(result)` tidies up (or switches
    page) and the page reruns. On a domain error its message is shown as plain text and returned — the page keeps
    the user's input, nothing reruns. Anything else is logged with its stack trace and a generic message shown."""
    try:
        if engine is None:
            result = action()
        else:
            with session_scope(engine) as session:
                result = action(session)
    except PortalError as error:
        st.error(plain_lines(error.message), icon=error_icon(error))
        return error
    except Exception:
        show_unexpected()
        return None
    if success is not None:
        leave_message(success(result) if callable(success) else success, kind=kind)
    if then is not None:
        then(result)
    st.rerun()
