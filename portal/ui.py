"""Small Streamlit helpers shared by the pages: showing user-supplied text safely."""

from __future__ import annotations

import re

# Characters Markdown gives meaning to; escaped so a name like "[x](javascript:..)" stays plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """User-supplied text made safe to place inside st.markdown: no links, no formatting, no HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
