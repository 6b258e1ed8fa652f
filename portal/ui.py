"""Small Streamlit helpers shared by the pages: showing user-supplied text safely, opening a row of a table."""

from __future__ import annotations

import re

import streamlit as st

# Characters Markdown gives meaning to; escaped so a name like "[x](javascript:..)" stays plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """User-supplied text made safe to place inside st.markdown: no links, no formatting, no HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


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
