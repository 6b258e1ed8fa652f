"""Embedding calls for documents: the gateway's embedding model obeys the catalog and every call is metered."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.embeddings import Embeddings
from sqlmodel import Session, select

from catalog.models import USABLE_STATUSES, CatalogModel, DataClassification, Mode, ModelStatus
from catalog.service import is_available_to
from guardrails.messages import PreGuarded
from metering.budgets import Payer
from metering.gateway import MeteredGateway
from portal.core.embeddings import BATCH_SIZE, EmbeddingsUnavailable, GatewayEmbeddings
from portal.core.errors import PermissionDenied, PortalError
from portal.core.gateway import GatewayError
from portal.core.users import User
from sandbox.models import SANDBOX_DOCUMENTS


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


def embed_texts(*, metered: MeteredGateway, user: User, embeddings: Embeddings, card: CatalogModel | None,
                texts: list[str], classification: DataClassification, guarded: PreGuarded) -> Embedded:
    """Vectors for `texts`, which the caller has guarded (`guarded`: a document at upload, a question in its turn's
    prepare step); each gateway request goes through the metered path (source: documents), which reserves its
    tokens against the budgets first (BudgetExhausted when they are spent)."""
    if card is None:
        try:
            return Embedded(vectors=embeddings.embed_documents(texts))
        except EmbeddingsUnavailable as error:  # the local model is not installed: say so instead of crashing
            raise DocumentsUnavailable(str(error)) from None
    vectors: list[list[float]] = []
    for start in range(0, len(texts), BATCH_SIZE):
        try:
            batch = metered.embed(payer=Payer.of(user), model=card, source=SANDBOX_DOCUMENTS,
                                  texts=texts[start:start + BATCH_SIZE], classification=classification,
                                  guarded=guarded)
        except GatewayError as error:  # settled at no cost by the metered path
            return Embedded(vectors=[], error=error)
        vectors += batch.vectors
    return Embedded(vectors=vectors)
