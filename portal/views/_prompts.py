"""Shared by the prompt pages: where they live, opening a prompt, and keeping the search index in step."""

from __future__ import annotations

import logging

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.embeddings import EmbeddingsUnavailable
from portal.core.gateway import GatewayError
from portal.core.vector_index import ChromaRefused, EmbeddingSpaceMismatch
from portal.views import _links as links

log = logging.getLogger(__name__)
LIBRARY_PAGE = "views/prompts.py"
REVIEW_PAGE = "views/prompt_reviews.py"
INDEX_ERRORS = (EmbeddingsUnavailable, GatewayError, EmbeddingSpaceMismatch, ChromaRefused)


def open_prompt(slug: str) -> None:
    links.prompt.keep(slug)
    links.prompt(slug).open()


def open_editor(prompt_id: int | None) -> None:
    """The editor on this prompt; None starts a new one."""
    links.prompt_editor.open(prompt_id)


def sync_index(context: deps.PortalContext, prompt_ids: list[int]) -> None:
    """Bring the semantic index up to date for these prompts; keyword search never depends on it."""
    try:
        with session_scope(context.engine) as session:
            deps.prompt_index(context).sync(session, prompt_ids=prompt_ids)
    except INDEX_ERRORS as exc:
        log.warning("prompt index not updated: %s", exc)
        st.caption(f"Semantic search will see this change after `coe-portal prompts reindex` ({exc}).")
