"""Chroma, embedded on disk (default) or a Chroma server (production), holding vectors we compute ourselves.

Collections are created with no embedding function and every write passes its vectors: Chroma's default
function would try to download a model. Each collection records the embedding space it was filled from, so a
change of embedding source is noticed instead of silently mixing incomparable vectors.
"""

from __future__ import annotations

import hashlib
import re

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from portal.core.errors import PortalError
from portal.core.settings import Settings

SPACE_KEY = "embedding_space"
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")


class ChromaRefused(PortalError):
    """The Chroma server turned the portal's connection away (no token, or the wrong one)."""


class EmbeddingSpaceMismatch(RuntimeError):
    """A collection was filled from a different embedding source than the one now configured."""


TOKEN_AUTH_CLIENT = "chromadb.auth.token_authn.TokenAuthClientProvider"


def chroma_client(settings: Settings) -> ClientAPI:
    """A Chroma server when chroma_host is set (with the token, when one is set), else the embedded store."""
    if settings.chroma_host:
        return _server_client(settings)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path),
                                     settings=ChromaSettings(anonymized_telemetry=False))


def _server_client(settings: Settings) -> ClientAPI:
    token = settings.chroma_token.get_secret_value()
    auth = {}
    if token:  # Chroma's own client auth: it adds the header to every request, heartbeat included
        auth = {"chroma_client_auth_provider": TOKEN_AUTH_CLIENT, "chroma_client_auth_credentials": token,
                "chroma_auth_token_transport_header": settings.chroma_token_header}
    try:  # the client checks its tenant and database at once: a refused token shows here
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                   settings=ChromaSettings(anonymized_telemetry=False, **auth))
    except ValueError as error:
        if "Unauthorized" not in str(error) and "Forbidden" not in str(error):
            raise
        why = "its token (PORTAL_CHROMA_TOKEN) was not accepted" if token else "it needs a token (PORTAL_CHROMA_TOKEN)"
        raise ChromaRefused(f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} refused the "
                            f"portal: {why}.") from None


def collection_name(*parts: str | int) -> str:
    """A valid Chroma collection name for the parts (3–63 safe characters, unique per parts)."""
    readable = _UNSAFE.sub("-", "-".join(str(part) for part in parts)).strip("-_")[:40]
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:12]
    return f"{readable or 'c'}-{digest}"


def vector_collection(client: ClientAPI, *, name: str, space: str) -> Collection:
    """Get or create a cosine collection for vectors of `space`; refuse one filled from another space."""
    collection = client.get_or_create_collection(
        name, embedding_function=None, metadata={"hnsw:space": "cosine", SPACE_KEY: space})
    stored = (collection.metadata or {}).get(SPACE_KEY)
    if stored != space:
        raise EmbeddingSpaceMismatch(
            f"The vector collection '{name}' holds vectors from '{stored}', but the portal now embeds with "
            f"'{space}'. Rebuild the index (e.g. coe-portal prompts reindex) after changing the embedding source.")
    return collection


def drop_collection(client: ClientAPI, *, name: str) -> None:
    """Delete a collection if it exists (deleting twice is not an error)."""
    if name in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
        client.delete_collection(name)
