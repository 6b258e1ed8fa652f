"""Sandbox fixtures: a gateway client on the deterministic test server, and what the document tests upload with."""

import pytest

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.embeddings import GatewayEmbeddings
from portal.core.gateway import Caller, GatewayClient
from portal.core.settings import Settings
from portal.core.vector_index import chroma_client
from sandbox.documents.library import UploadRequest, upload_document
from tests.metering.support import metered
from tests.sandbox.documents_support import EMBEDDER, HANDBOOK, LIMITS
from tests.sandbox.support import POLICY

C = DataClassification
S = ModelStatus


@pytest.fixture
def gateway(fake_gateway) -> GatewayClient:
    return GatewayClient(base_url=fake_gateway.url, timeout_s=5)


@pytest.fixture
def models(make_model, fake_gateway) -> dict[str, CatalogModel]:
    """A chat model cleared up to internal data and an embedding model cleared up to confidential data."""
    fake_gateway.models = [*fake_gateway.models, EMBEDDER]
    return {"chat": make_model(S.APPROVED, name="fake-small", served=True, max_classification=int(C.INTERNAL),
                               input_price_per_mtok=1.0, output_price_per_mtok=2.0),
            "embed": make_model(S.APPROVED, name=EMBEDDER, served=True, mode="embedding",
                                max_classification=int(C.CONFIDENTIAL), input_price_per_mtok=0.5)}


@pytest.fixture
def vectors(isolated_portal):
    return chroma_client(Settings(chroma_path=isolated_portal / "chroma"))


@pytest.fixture
def embeddings(gateway: GatewayClient) -> GatewayEmbeddings:
    return GatewayEmbeddings(gateway=gateway, model=EMBEDDER, caller=Caller(email="someone@example.com"))


@pytest.fixture
def upload(session, embeddings, vectors, models):
    """Upload a file as a user (into a new conversation unless one is given), committed."""

    def do(user, data: bytes = HANDBOOK, name: str = "handbook.md", *, classification=C.INTERNAL,
           conversation_id: int | None = None, limits=LIMITS, policy=POLICY):
        outcome = upload_document(session=session, user=user, policy=policy, limits=limits, embeddings=embeddings,
                                  vectors=vectors, metered=metered(embeddings.gateway, session, policy.budgets),
                                  request=UploadRequest(
                                      file_name=name, data=data, classification=classification,
                                      conversation_id=conversation_id, model_name="fake-small"))
        session.commit()
        return outcome

    return do
