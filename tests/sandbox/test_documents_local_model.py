"""End to end: a document question answered by the real local model, passages found by the real local embeddings."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import DataClassification, ModelStatus
from portal.core.embeddings import LocalEmbeddings
from portal.core.gateway import GatewayClient
from portal.core.settings import Settings
from portal.core.vector_index import chroma_client
from sandbox.chat import TurnRequest, TurnStream
from sandbox.documents.answering import message_citations, prepare_document_turn, record_document_turn
from sandbox.documents.library import UploadRequest, upload_document
from metering.models import UsageEvent
from tests.sandbox.documents_support import LIMITS, pdf_bytes
from tests.sandbox.support import POLICY
from tests.metering.support import metered

C = DataClassification
MODEL = "smollm2-135m-instruct"


@pytest.mark.local_model
def test_a_document_question_is_answered_with_a_citation(session, make_user, make_model, local_model_server,
                                                         isolated_portal) -> None:
    base_url, _ = local_model_server
    make_model(ModelStatus.APPROVED, name=MODEL, served=True, max_classification=int(C.INTERNAL))
    user = make_user()
    vectors = chroma_client(Settings(chroma_path=isolated_portal / "chroma"))
    embeddings = LocalEmbeddings()
    pdf = pdf_bytes("The office cafeteria opens at 8 am and closes at 3 pm.",
                    "Parking permits are renewed every January at the front desk.",
                    "The fire drill happens on the first Monday of each quarter.")
    chat = metered(GatewayClient(base_url=base_url, timeout_s=60), session)
    outcome = upload_document(session=session, user=user, policy=POLICY, limits=LIMITS, embeddings=embeddings,
                              vectors=vectors, metered=chat, request=UploadRequest(file_name="office.pdf", data=pdf,
                                                                     classification=C.INTERNAL, model_name=MODEL))
    session.commit()
    turn = prepare_document_turn(session=session, user=user, policy=POLICY, embeddings=embeddings, vectors=vectors,
                                 metered=chat, top_k=1, request=TurnRequest(message="When are parking permits renewed?",
                                                              model_name=MODEL, classification=C.INTERNAL,
                                                              conversation_id=outcome.conversation_id,
                                                              max_tokens=48, temperature=0.0))
    stream = TurnStream(turn.prepared, chat)
    answer = "".join(stream)
    recorded = record_document_turn(session=session, turn=turn, stream=stream)
    session.commit()

    assert stream.error is None and answer.strip()
    # The real embeddings find the one passage about parking, on page 2, and the answer keeps it as its source.
    (citation,) = message_citations(recorded.answer)
    assert (citation.file_name, citation.page, citation.label) == ("office.pdf", 2, "[1] office.pdf, page 2")
    assert "Parking permits are renewed every January" in turn.prepared.messages[-1]["content"]
    usage = session.exec(select(UsageEvent)).all()
    # Local embeddings make no gateway call, so the answer is the only usage event.
    assert [(u.source, u.model_name, u.status) for u in usage] == [("sandbox documents", MODEL, "ok")]
