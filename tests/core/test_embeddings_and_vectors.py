"""Embedding sources and the Chroma wrapper: vectors we compute, never Chroma's downloading default."""

from __future__ import annotations

import math

import pytest

from portal.core.embeddings import (
    EmbeddingsUnavailable,
    GatewayEmbeddings,
    LocalEmbeddings,
    embedding_space,
    embeddings_for,
)
from portal.core.gateway import GatewayClient
from portal.core.settings import Settings
from portal.core.vector_index import (
    EmbeddingSpaceMismatch,
    chroma_client,
    collection_name,
    drop_collection,
    vector_collection,
)
from tests.fake_gateway import EMBEDDING_DIMENSIONS, embedding_for


def test_gateway_embeddings_come_from_the_gateway_in_order_and_in_batches(fake_gateway):
    gateway = GatewayClient(base_url=fake_gateway.url)
    texts = [f"text {n}" for n in range(150)]
    vectors = GatewayEmbeddings(gateway=gateway, model="fake-small").embed_documents(texts)
    assert vectors[0] == pytest.approx(embedding_for("text 0"))
    assert vectors[149] == pytest.approx(embedding_for("text 149"))
    assert len(vectors) == 150 and len(vectors[0]) == EMBEDDING_DIMENSIONS
    embedding_calls = [r for r in fake_gateway.requests if r.path.endswith("/embeddings")]
    assert len(embedding_calls) == 3  # 64 + 64 + 22


def test_the_gateway_source_needs_a_model_name(fake_gateway):
    settings = Settings(embedding_source="gateway", embedding_model="")
    with pytest.raises(EmbeddingsUnavailable, match="PORTAL_EMBEDDING_MODEL"):
        embeddings_for(settings, gateway=GatewayClient(base_url=fake_gateway.url))


def test_settings_choose_the_source(fake_gateway):
    gateway = GatewayClient(base_url=fake_gateway.url)
    chosen = embeddings_for(Settings(embedding_source="gateway", embedding_model="bge"), gateway=gateway)
    assert embedding_space(chosen) == "gateway:bge"
    assert embedding_space(embeddings_for(Settings(), gateway=gateway)) == "local:all-MiniLM-L6-v2"


@pytest.mark.local_model
def test_the_local_model_embeds_offline_and_puts_similar_texts_close():
    local = LocalEmbeddings()
    refund, money_back, weather = local.embed_documents(
        ["How do I get a refund for my order?", "I want my money back for a purchase", "Sunny with light wind"])
    assert len(refund) == 384
    assert math.isclose(sum(v * v for v in refund), 1.0, rel_tol=1e-4)  # normalised: dot product = cosine

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(refund, money_back) > cosine(refund, weather) + 0.2


def test_collection_names_are_valid_and_distinct_for_distinct_parts():
    first, second = collection_name("docs", 1, 7), collection_name("docs", 17, "")
    assert first != second
    for name in (first, second, collection_name("ünïcode / spaces", "x" * 200)):
        assert 3 <= len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()


def test_a_collection_stores_our_vectors_and_refuses_another_embedding_space(tmp_path):
    client = chroma_client(Settings(chroma_path=tmp_path / "chroma"))
    name = collection_name("test", 1)
    collection = vector_collection(client, name=name, space="gateway:a")
    collection.add(ids=["x"], embeddings=[embedding_for("x")], documents=["x"])
    again = vector_collection(chroma_client(Settings(chroma_path=tmp_path / "chroma")), name=name, space="gateway:a")
    assert again.query(query_embeddings=[embedding_for("x")], n_results=1)["ids"] == [["x"]]
    with pytest.raises(EmbeddingSpaceMismatch, match="Rebuild the index"):
        vector_collection(client, name=name, space="local:all-MiniLM-L6-v2")
    drop_collection(client, name=name)
    drop_collection(client, name=name)
    assert vector_collection(client, name=name, space="local:all-MiniLM-L6-v2").count() == 0
