"""Small Streamlit helpers shared by the pages: showing user-supplied text safely, opening a row of a table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import streamlit as st

from portal.core.safe_markdown import HEADING_OFFSET, plain_chunks, plain_text, safe_markdown, too_big

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


def open_picker(labels: dict[str, str], *, label: str, placeholder: str, key: str, button: str,
                icon: str) -> str | None:
    """Under a table: pick one of its rows by name and open it. Returns the picked key when the button is pressed.

    A table draws on a canvas that keyboards and AppTest cannot click into; a picker beside it can."""
    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick_col.selectbox(label, list(labels), index=None, format_func=labels.__getitem__,
                                placeholder=placeholder, key=key)
    pressed = button_col.button(button, key=f"{key}_button", disabled=chosen is None, icon=icon)
    return chosen if pressed else None
