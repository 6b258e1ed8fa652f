"""Embedding calls for documents: the gateway's embedding model obeys the catalog and every call is billed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from langchain_core.embeddings import Embeddings
from sqlmodel import Session, select

from catalog.models import USABLE_STATUSES, CatalogModel, DataClassification, Mode, ModelStatus
from catalog.service import is_available_to
from portal.core.embeddings import BATCH_SIZE, EmbeddingsUnavailable, GatewayEmbeddings
from portal.core.errors import PermissionDenied, PortalError
from portal.core.gateway import GatewayError, estimate_prompt_tokens
from portal.core.users import User
from sandbox.budgets import effective_budget
from sandbox.models import CallStatus, UsageSource
from sandbox.usage import BudgetPolicy, check_budgets, record_usage


class DocumentsUnavailable(PortalError):
    """The configured embedding source cannot be used; the message says what to install or set."""


@dataclass
class Embedded:
    """Vectors for the texts, or the gateway's error (its failed call is already recorded)."""

    vectors: list[list[float]]
    error: GatewayError | None = None


def embedding_card(*, session: Session, user: User, embeddings: Embeddings,
                   classification: DataClassification) -> CatalogModel | None:
    """The catalog card of the gateway embedding model, checked like a chat model; None for local embeddings."""
    if not isinstance(embeddings, GatewayEmbeddings):
        return None  # computed on this machine: nothing leaves the portal
    card = session.exec(select(CatalogModel).where(CatalogModel.name == embeddings.model)).first()
    usable = (card is not None and card.mode == Mode.EMBEDDING.value
              and ModelStatus(card.status) in USABLE_STATUSES and is_available_to(card, user))
    if not usable or card.max_classification < int(classification):
        raise PermissionDenied(f"The embedding model '{embeddings.model}' is not approved in the catalog for "
                               f"{classification.label} data, so this text cannot be embedded. Pick a lower "
                               "classification if your data allows it, or ask the CoE team.")
    return card


def check_embedding_budgets(*, session: Session, user: User, card: CatalogModel | None,
                            budgets: BudgetPolicy) -> None:
    """Stop before a gateway embedding call when the user's or team's budget is spent."""
    if card is not None:
        check_budgets(session=session, user=user, policy=effective_budget(session=session, user=user,
                                                                          defaults=budgets))


def embed_texts(session: Session, *, user: User, embeddings: Embeddings, card: CatalogModel | None,
                texts: list[str]) -> Embedded:
    """Vectors for `texts`; each gateway request records one usage event (source: documents)."""
    if card is None:
        try:
            return Embedded(vectors=embeddings.embed_documents(texts))
        except EmbeddingsUnavailable as error:  # the local model is not installed: say so instead of crashing
            raise DocumentsUnavailable(str(error)) from None
    vectors: list[list[float]] = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = texts[start:start + BATCH_SIZE]
        began = time.perf_counter()
        try:
            # One request (a batch never exceeds BATCH_SIZE); a card means gateway embeddings (embedding_card).
            counted = cast(GatewayEmbeddings, embeddings).embed_measured(batch)
        except GatewayError as error:
            _bill(session, user=user, card=card, tokens=0, began=began, status=CallStatus.FAILED,
                  error=error.message)
            return Embedded(vectors=[], error=error)
        vectors += counted.vectors
        # The gateway's own count when it gives one (OpenAI, LiteLLM and vLLM do); otherwise an estimate.
        estimated = counted.prompt_tokens is None
        tokens = estimate_prompt_tokens([{"content": text} for text in batch]) if estimated else counted.prompt_tokens
        _bill(session, user=user, card=card, tokens=tokens, began=began, status=CallStatus.OK, estimated=estimated)
    return Embedded(vectors=vectors)


def _bill(session: Session, *, user: User, card: CatalogModel, tokens: int, began: float, status: CallStatus,
          error: str = "", estimated: bool = True) -> None:
    record_usage(session, user=user, model=card, source=UsageSource.SANDBOX_DOCUMENTS, tokens_in=tokens,
                 tokens_out=0, estimated=estimated, latency_s=time.perf_counter() - began, ttft_s=None,
                 status=status, error=error)
