"""Shared by the prompt pages: where they live, opening a prompt, and keeping the search index in step."""

from __future__ import annotations

import logging

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.embeddings import EmbeddingsUnavailable
from portal.core.gateway import GatewayError
from portal.core.vector_index import ChromaRefused, EmbeddingSpaceMismatch

log = logging.getLogger(__name__)
LIBRARY_PAGE = "views/prompts.py"
PROMPT_PAGE = "views/prompt.py"
EDITOR_PAGE = "views/prompt_editor.py"
REVIEW_PAGE = "views/prompt_reviews.py"
LIBRARY_FLASH = "prompts_flash"  # what the library says once on its next run (after a prompt was deleted)
OPEN_PROMPT = "prompt_open_slug"  # the prompt page falls back to this when the URL names none
EDIT_PROMPT = "prompt_edit_id"  # the editor edits this prompt; absent = a new prompt
INDEX_ERRORS = (EmbeddingsUnavailable, GatewayError, EmbeddingSpaceMismatch, ChromaRefused)


def open_prompt(slug: str) -> None:
    st.session_state[OPEN_PROMPT] = slug
    st.switch_page(PROMPT_PAGE, query_params={"prompt": slug})


def open_editor(prompt_id: int | None) -> None:
    if prompt_id is None:
        st.session_state.pop(EDIT_PROMPT, None)
    else:
        st.session_state[EDIT_PROMPT] = prompt_id
    st.switch_page(EDITOR_PAGE)


def sync_index(context: deps.PortalContext, prompt_ids: list[int]) -> None:
    """Bring the semantic index up to date for these prompts; keyword search never depends on it."""
    try:
        with session_scope(context.engine) as session:
            deps.prompt_index(context).sync(session, prompt_ids=prompt_ids)
    except INDEX_ERRORS as exc:
        log.warning("prompt index not updated: %s", exc)
        st.caption(f"Semantic search will see this change after `coe-portal prompts reindex` ({exc}).")
