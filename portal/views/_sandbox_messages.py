"""How the sandbox page shows messages (as typed, with each answer's facts) and what the guardrails did.

Not a page: portal/views/sandbox.py and its other parts import it, and so do the compare and lab pages:
`show_notice` is the one renderer of a turn's (or an upload's) `TurnNotice`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from metering.turn import TurnNotice
from portal.ui import as_typed, plain, untrusted_markdown
from guardrails.text import GuardrailAction
from sandbox.models import ChatMessage

__all__ = ["TurnNotice", "answer_facts", "as_text", "show_messages", "show_notice"]


def as_text(value: str) -> str:
    """Text for st.markdown shown as typed: no formatting, links, images, icons or HTML; line breaks kept."""
    return as_typed(value)


def answer_facts(message: ChatMessage) -> str:
    """Model, tokens, cost and speed of an answer, as one Markdown-safe line."""
    facts = [plain(message.model_name), f"{message.tokens_in:,} tokens in / {message.tokens_out:,} out",
             f"\\${message.cost_usd:.6f}"]
    if message.time_to_first_token_s is not None:
        facts.append(f"first token after {message.time_to_first_token_s:.2f} s")
    if message.tokens_per_second:
        facts.append(f"{message.tokens_per_second:.1f} tokens/s")
    line = " · ".join(facts)
    return f":orange-badge[incomplete — the answer was cut off] {line}" if message.incomplete else line


def show_messages(messages: list[ChatMessage], *,
                  under_answer: Callable[[ChatMessage], None] | None = None) -> None:
    """The conversation's messages as chat bubbles, oldest first; `under_answer` adds to each answer (citations)."""
    for message in messages:
        with st.chat_message("user" if message.role == "user" else "assistant"):
            if message.role != "assistant":
                st.markdown(as_text(message.content))
                continue
            untrusted_markdown(message.content)  # Markdown, but nothing loads, runs or links unmarked
            st.caption(answer_facts(message))
            if under_answer is not None:
                under_answer(message)


def show_notice(notice: TurnNotice | None, *, columns: tuple[str, str] = ("sent to the model", "your text")) -> None:
    """What a turn or an upload did: redacted (with what was sent instead of what), sent with a warning, blocked,
    or a plain confirmation. `columns` name the replacement table's two sides."""
    if notice is None or not notice.guardrail:
        return
    if notice.action == GuardrailAction.REDACT:
        st.info(plain(notice.guardrail), icon=":material/visibility_off:")
        # Each original is the person's own text, shown back to them only: what the model got instead of what.
        st.dataframe([{columns[0]: p, columns[1]: o} for p, o in notice.replacements], hide_index=True)
    elif notice.action == GuardrailAction.WARN:
        st.warning(plain(notice.guardrail), icon=":material/warning:")
    elif notice.action == GuardrailAction.BLOCK:
        st.error(plain(notice.guardrail), icon=":material/block:")
    else:
        st.success(plain(notice.guardrail), icon=":material/check_circle:")
