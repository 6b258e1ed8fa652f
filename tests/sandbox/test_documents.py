"""Chat with documents against the fake gateway and a real embedded Chroma, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from catalog.models import DataClassification, ModelStatus
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.vector_index import collection_name
from sandbox.chat import TurnRequest, TurnStream
from sandbox.conversations import delete_conversation, export_conversation
from sandbox.documents.answering import (
    Citation,
    cited_passages,
    message_citations,
    prepare_document_turn,
    record_document_turn,
)
from sandbox.documents.library import delete_document, list_documents
from sandbox.documents.models import DocumentChunk, SandboxDocument
from sandbox.documents.reading import DocumentError
from metering.models import UsageEvent
from sandbox.models import ChatMessage, Conversation
from metering.budgets import BudgetExhausted, BudgetPolicy
from tests.sandbox.documents_support import EMBEDDER, LIMITS, embedding_requests, pdf_bytes
from tests.sandbox.support import POLICY
from tests.metering.support import metered

C = DataClassification
S = ModelStatus
def ask(session, gateway, embeddings, vectors, user, question: str, conversation_id: int, *,
        classification=C.INTERNAL, top_k: int = 4):
    turn = prepare_document_turn(session=session, user=user, policy=POLICY, embeddings=embeddings, vectors=vectors,
                                 metered=metered(gateway, session), top_k=top_k, request=TurnRequest(message=question, model_name="fake-small",
                                                                  classification=classification,
                                                                  conversation_id=conversation_id))
    if turn.blocked or turn.error:
        session.commit()
        return turn, None, None
    stream = TurnStream(turn.prepared, metered(gateway, session))
    "".join(stream)
    recorded = record_document_turn(session=session, turn=turn, stream=stream)
    session.commit()
    return turn, stream, recorded


# --- upload -----------------------------------------------------------------------------------------------------

def test_a_markdown_upload_is_split_by_section_embedded_once_and_indexed(session, make_user, upload, vectors,
                                                                         fake_gateway) -> None:
    user = make_user()
    outcome = upload(user)
    document = outcome.document
    assert (document.file_type, document.chunk_count, document.classification) == ("md", 2, int(C.INTERNAL))
    chunks = session.exec(select(DocumentChunk).order_by(DocumentChunk.position)).all()
    assert [c.section for c in chunks] == ["Travel", "Travel > Expenses"]
    assert chunks[1].text.startswith("## Expenses") and "40 euros" in chunks[1].text
    collection = vectors.get_collection(collection_name("doc", user.id, outcome.conversation_id))
    assert collection.count() == 2
    assert session.get(Conversation, outcome.conversation_id).title == "handbook.md"
    (usage,) = session.exec(select(UsageEvent)).all()
    assert (usage.source, usage.model_name, usage.status) == ("sandbox documents", EMBEDDER, "ok")
    # Billed by the gateway's own count (the test gateway counts words), not an estimate.
    assert (usage.tokens_in, usage.usage_estimated) == (sum(len(c.text.split()) for c in chunks), False)
    assert usage.cost_usd > 0
    assert len(embedding_requests(fake_gateway)) == 1
    assert fake_gateway.last_request.headers["x-portal-user"] == user.email  # who pays, as the gateway sees it


def test_without_the_gateways_count_embedding_tokens_are_estimated_and_say_so(session, make_user, upload,
                                                                              fake_gateway) -> None:
    fake_gateway.send_usage = False
    upload(make_user())
    (usage,) = session.exec(select(UsageEvent)).all()
    assert usage.usage_estimated and usage.tokens_in > 0 and usage.cost_usd > 0


def test_re_uploading_the_same_file_does_not_embed_again(session, make_user, upload, fake_gateway) -> None:
    user = make_user()
    first = upload(user)
    again = upload(user, conversation_id=first.conversation_id)
    assert again.already_there and again.document.id == first.document.id
    assert len(embedding_requests(fake_gateway)) == 1
    assert len(session.exec(select(SandboxDocument)).all()) == 1
    assert len(session.exec(select(UsageEvent)).all()) == 1


def test_the_same_file_in_another_conversation_reuses_its_vectors(session, make_user, upload, vectors, gateway,
                                                                   embeddings, fake_gateway) -> None:
    user = make_user()
    first, second = upload(user), upload(user)
    assert second.vectors_reused and not first.vectors_reused
    assert second.conversation_id != first.conversation_id
    assert len(embedding_requests(fake_gateway)) == 1  # embedded once, kept
    collection = vectors.get_collection(collection_name("doc", user.id, second.conversation_id))
    assert collection.count() == 2
    turn, _, recorded = ask(session, gateway, embeddings, vectors, user, "Meals?", second.conversation_id)
    assert len(message_citations(recorded.answer)) == 2
    # Someone else's copy of the file is theirs alone: it is embedded for them.
    upload(make_user())
    assert len([r for r in embedding_requests(fake_gateway) if len(r.body["input"]) == 2]) == 2


def test_other_guardrail_rules_mean_new_vectors(make_user, upload, fake_gateway) -> None:
    user = make_user()
    text = b"Questions go to help.desk@example.com during office hours."
    upload(user, text, "help.txt", classification=C.INTERNAL)  # redacted
    again = upload(user, text, "help.txt", classification=C.CONFIDENTIAL)  # sent as written: other passages
    assert not again.vectors_reused
    assert len(embedding_requests(fake_gateway)) == 2


def test_a_pdf_keeps_its_page_numbers(session, make_user, upload) -> None:
    outcome = upload(make_user(), pdf_bytes("Refunds take five days.", "Returns need the receipt."), "policy.pdf")
    assert outcome.document.pages == 2
    chunks = session.exec(select(DocumentChunk).order_by(DocumentChunk.position)).all()
    assert [(c.page, c.text) for c in chunks] == [(1, "Refunds take five days."), (2, "Returns need the receipt.")]


def test_plain_text_is_split_into_passages_of_the_configured_size(session, make_user, upload) -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(60)).encode()
    outcome = upload(make_user(), text, "notes.txt")
    chunks = session.exec(select(DocumentChunk)).all()
    assert outcome.document.chunk_count == len(chunks) > 5
    assert all(len(c.text) <= LIMITS.chunk_chars and c.page is None and c.section == "" for c in chunks)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("report.docx", b"PK\x03\x04 word", "is not a file type the sandbox reads. Upload one of: .pdf, .md, .txt"),
    ("empty.txt", b"", "“empty.txt” is empty."),
    ("blank.md", b"   \n\n  ", "“blank.md” holds no text to work with."),
    ("big.txt", b"x" * (1024 * 1024 + 1), "“big.txt” is 1.0 MB; at most 1 MB fit."),
    ("latin.txt", "Café crème".encode("latin-1"), "“latin.txt” is not UTF-8 text."),
    ("fake.pdf", b"%PDF-1.7 this is not really a pdf", "“fake.pdf” could not be read as a PDF"),
    ("locked.pdf", pdf_bytes("Secret plans", password="pw"), "“locked.pdf” is password-protected."),
    ("scan.pdf", pdf_bytes(""), "“scan.pdf” holds no text to work with. It may be a scan"),
    ("long.pdf", pdf_bytes(*["page"] * 6), "“long.pdf” has 6 pages; at most 5 fit."),
    ("many.txt", ("word " * 3000).encode(), "passages; at most 50 fit."),
])
def test_bad_files_are_refused_plainly_and_nothing_is_stored(session, make_user, upload, vectors, fake_gateway,
                                                             name, data, message) -> None:
    with pytest.raises(DocumentError) as refused:
        upload(make_user(), data, name)
    assert message in refused.value.message
    session.rollback()
    assert session.exec(select(SandboxDocument)).all() == [] and session.exec(select(Conversation)).all() == []
    assert session.exec(select(UsageEvent)).all() == [] and embedding_requests(fake_gateway) == []
    assert vectors.list_collections() == []


def test_a_type_left_out_of_the_settings_is_refused(make_user, upload) -> None:
    with pytest.raises(DocumentError, match=r"Upload one of: \.pdf\.$"):
        upload(make_user(), limits=replace(LIMITS, allowed_types=("pdf",)))


# --- guardrails and classification ----------------------------------------------------------------------------

def test_personal_data_is_redacted_before_anything_is_embedded(session, make_user, upload, fake_gateway) -> None:
    text = b"# Contacts\n\nWrite to jane.doe@example.com or call +44 20 7946 0958 about refunds."
    outcome = upload(make_user(), text, "contacts.md", classification=C.INTERNAL)  # internal: redact
    assert outcome.guardrails.summary() == {"email": 1, "phone": 1}
    assert outcome.document.redactions == 2
    sent = str([r.body for r in embedding_requests(fake_gateway)])
    assert "jane.doe" not in sent and "7946" not in sent and "<EMAIL_1>" in sent
    (chunk,) = session.exec(select(DocumentChunk)).all()
    assert "<EMAIL_1>" in chunk.text and "<PHONE_1>" in chunk.text
    (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).all()
    assert event.after["counts"] == {"email": 1, "phone": 1} and "jane" not in str(event.after)


def test_blocked_personal_data_stores_and_sends_nothing_but_is_audited(session, make_user, upload, vectors,
                                                                       fake_gateway) -> None:
    outcome = upload(make_user(), b"Card 4111 1111 1111 1111 expires soon.", "card.txt", classification=C.PUBLIC)
    assert outcome.document is None and outcome.guardrails.blocked
    assert session.exec(select(SandboxDocument)).all() == [] and embedding_requests(fake_gateway) == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).one()


def test_the_conversation_rises_to_the_documents_classification(session, make_user, upload, gateway, embeddings,
                                                                 vectors) -> None:
    user = make_user()
    first = upload(user, classification=C.PUBLIC)
    assert session.get(Conversation, first.conversation_id).classification == int(C.PUBLIC)
    upload(user, b"Q3 revenue grew by nine percent.", "q3.txt", classification=C.CONFIDENTIAL,
           conversation_id=first.conversation_id)
    assert session.get(Conversation, first.conversation_id).classification == int(C.CONFIDENTIAL)
    # The chat model is cleared up to internal only, so it may not answer from a confidential document.
    with pytest.raises(PermissionDenied, match="not offered to you for confidential data"):
        ask(session, gateway, embeddings, vectors, user, "How did revenue do?", first.conversation_id,
            classification=C.PUBLIC)


def test_the_embedding_model_must_be_cleared_for_the_document(session, make_user, upload, fake_gateway) -> None:
    with pytest.raises(PermissionDenied, match="'fake-embed' is not approved in the catalog for restricted data"):
        upload(make_user(), classification=C.RESTRICTED)
    session.rollback()
    assert embedding_requests(fake_gateway) == [] and session.exec(select(SandboxDocument)).all() == []


def test_an_embedding_failure_is_recorded_and_nothing_else_is_stored(session, make_user, upload, vectors,
                                                                     fake_gateway) -> None:
    fake_gateway.fail_next("500", only_path="/embeddings")
    outcome = upload(make_user())
    assert outcome.document is None and "internal error" in outcome.error
    assert session.exec(select(SandboxDocument)).all() == [] and session.exec(select(Conversation)).all() == []
    (usage,) = session.exec(select(UsageEvent)).all()
    assert (usage.status, usage.source, usage.cost_usd) == ("failed", "sandbox documents", 0.0)


def test_a_spent_budget_stops_the_upload_before_any_request(session, make_user, upload, fake_gateway) -> None:
    user = make_user()
    upload(user)
    spent = replace(POLICY, budgets=BudgetPolicy(daily_tokens_per_user=1, monthly_usd_per_team=0))
    fake_gateway.reset()
    with pytest.raises(BudgetExhausted, match="daily sandbox quota"):
        upload(user, b"Another file entirely.", "other.txt", policy=spent)
    assert embedding_requests(fake_gateway) == []


# --- answering ------------------------------------------------------------------------------------------------

def test_an_answer_cites_the_passages_it_was_given(session, make_user, upload, gateway, embeddings, vectors,
                                                   fake_gateway) -> None:
    user = make_user()
    cid = upload(user).conversation_id
    turn, stream, recorded = ask(session, gateway, embeddings, vectors, user, "How much can I claim for meals?", cid)
    prompt = fake_gateway.last_request.body["messages"][-1]["content"]
    assert "[1] handbook.md, Travel" in prompt and "Claim meals up to 40 euros" in prompt
    assert prompt.endswith("Question: How much can I claim for meals?")
    assert stream.result is not None
    answer = recorded.answer
    citations = message_citations(answer)
    assert [c.number for c in citations] == [1, 2]
    assert {c.section for c in citations} == {"Travel", "Travel > Expenses"}
    assert all(c.cited for c in citations)  # the echo answer repeats the prompt, so it names every number
    stored = session.exec(select(ChatMessage).order_by(ChatMessage.id)).all()
    assert [m.content for m in stored][:1] == ["How much can I claim for meals?"]  # the question, not the prompt
    passages = cited_passages(session=session, user=user, conversation_id=cid)
    opened = [passages[(c.document_key, c.position)].text for c in citations]
    assert any("40 euros" in text for text in opened)
    sources = [u.source for u in session.exec(select(UsageEvent).order_by(UsageEvent.id)).all()]
    assert sources == ["sandbox documents"] * 3  # embed the file, embed the question, the answer
    exported = export_conversation(session=session, user=user, conversation_id=cid, fmt="markdown")
    assert "Sources: [1] handbook.md, Travel" in exported


def test_the_nearest_passages_come_first_and_top_k_limits_them(session, make_user, upload, gateway, embeddings,
                                                               vectors, fake_gateway) -> None:
    user = make_user()
    text = "\n\n".join(f"Paragraph {n} talks about topic {n} at length." for n in range(8)).encode()
    cid = upload(user, text, "topics.txt", limits=replace(LIMITS, chunk_chars=50, chunk_overlap=0)).conversation_id
    chunks = session.exec(select(DocumentChunk).order_by(DocumentChunk.position)).all()
    # The fake embeds by hash, so asking with a passage's exact text finds that passage first.
    assert len(chunks) == 8
    turn, _, _ = ask(session, gateway, embeddings, vectors, user, chunks[3].text, cid, top_k=2)
    assert len(turn.citations) == 2 and turn.citations[0].position == 3


def test_questions_need_a_conversation_with_documents(session, make_user, upload, gateway, embeddings,
                                                      vectors) -> None:
    user = make_user()
    with pytest.raises(InvalidInput, match="Upload a document first"):
        prepare_document_turn(session=session, user=user, policy=POLICY, embeddings=embeddings, vectors=vectors,
                              metered=metered(embeddings.gateway, session), top_k=4, request=TurnRequest(message="hi", model_name="fake-small",
                                                           classification=C.INTERNAL))
    other = upload(make_user())
    with pytest.raises(NotFound):
        ask(session, gateway, embeddings, vectors, user, "What is in it?", other.conversation_id)


def test_a_blocked_question_sends_nothing(session, make_user, upload, gateway, embeddings, vectors,
                                          fake_gateway) -> None:
    user = make_user()
    cid = upload(user, classification=C.PUBLIC).conversation_id
    fake_gateway.reset()
    turn, _, _ = ask(session, gateway, embeddings, vectors, user, "Mail it to bob@example.com", cid,
                     classification=C.PUBLIC)
    assert turn.blocked and fake_gateway.requests == []


def test_passages_are_guarded_again_under_a_stricter_rule(session, make_user, upload, gateway, embeddings, vectors,
                                                          fake_gateway, make_model, models) -> None:
    user = make_user()
    models["embed"].max_classification = int(C.RESTRICTED)
    session.add(models["embed"])
    session.commit()
    # Stored under confidential's "warn", the address stays in the passage ...
    cid = upload(user, b"Escalations go to ops.lead@example.com at once.", "ops.txt",
                 classification=C.CONFIDENTIAL).conversation_id
    make_model(S.APPROVED, name="fake-large", served=True, max_classification=int(C.RESTRICTED))
    strict = replace(POLICY, guardrail_actions={**POLICY.guardrail_actions, "restricted": "redact"})
    turn = prepare_document_turn(session=session, user=user, policy=strict, embeddings=embeddings, vectors=vectors,
                                 metered=metered(embeddings.gateway, session), top_k=4, request=TurnRequest(message="Who handles escalations?",
                                                              model_name="fake-large",
                                                              classification=C.RESTRICTED, conversation_id=cid))
    # ... but a restricted turn redacts, so the gateway never gets it.
    assert turn.passage_guardrails.summary() == {"email": 1}
    assert "<EMAIL_1>" in turn.prepared.messages[-1]["content"]
    assert "ops.lead" not in turn.prepared.messages[-1]["content"]


def test_a_question_embedding_failure_is_reported_and_billed(session, make_user, upload, gateway, embeddings,
                                                             vectors, fake_gateway) -> None:
    user = make_user()
    cid = upload(user).conversation_id
    fake_gateway.fail_next("429", only_path="/embeddings")
    turn, _, _ = ask(session, gateway, embeddings, vectors, user, "What about meals?", cid)
    assert "rate-limiting" in turn.error
    statuses = [u.status for u in session.exec(select(UsageEvent).order_by(UsageEvent.id)).all()]
    assert statuses == ["ok", "failed"]
    assert [r for r in fake_gateway.requests if r.path.endswith("/chat/completions")] == []


# --- removing -------------------------------------------------------------------------------------------------

def test_removing_a_document_removes_its_vectors_and_passages(session, make_user, upload, vectors) -> None:
    user = make_user()
    first = upload(user)
    second = upload(user, b"Another file.", "other.txt", conversation_id=first.conversation_id)
    with pytest.raises(NotFound):
        delete_document(session=session, user=make_user(), document_id=first.document.id, vectors=vectors)
    delete_document(session=session, user=user, document_id=first.document.id, vectors=vectors)
    session.commit()
    collection = vectors.get_collection(collection_name("doc", user.id, first.conversation_id))
    assert collection.count() == 1
    assert [d.id for d in list_documents(session=session, user=user, conversation_id=first.conversation_id)] == [
        second.document.id]
    assert {c.document_id for c in session.exec(select(DocumentChunk)).all()} == {second.document.id}


def test_deleting_a_conversation_removes_its_documents_and_collection(session, make_user, upload, gateway,
                                                                       embeddings, vectors) -> None:
    user = make_user()
    cid = upload(user).conversation_id
    ask(session, gateway, embeddings, vectors, user, "Meals?", cid)
    with pytest.raises(RuntimeError, match="pass the vector store"):
        delete_conversation(session=session, user=user, conversation_id=cid)
    session.rollback()
    delete_conversation(session=session, user=user, conversation_id=cid, vectors=vectors)
    session.commit()
    assert session.exec(select(SandboxDocument)).all() == [] and session.exec(select(DocumentChunk)).all() == []
    assert vectors.list_collections() == []
    assert len(session.exec(select(UsageEvent)).all()) == 3  # the bill stays


def test_only_the_cited_passages_are_loaded_for_opening(session, make_user, upload, fake_gateway) -> None:
    user = make_user()
    outcome = upload(user)
    everything = cited_passages(session=session, user=user, conversation_id=outcome.conversation_id)
    (key, position), chunk = next(iter(everything.items()))
    citation = Citation(number=1, document_key=key, position=position, file_name="handbook.md", page=None,
                        section=chunk.section, cited=True)
    one = cited_passages(session=session, user=user, conversation_id=outcome.conversation_id, citations=[citation])
    assert len(everything) == 2 and one == {(key, position): chunk}
    assert cited_passages(session=session, user=user, conversation_id=outcome.conversation_id, citations=[]) == {}


# --- names and headings through the guardrails ------------------------------------------------------------------

def test_a_file_name_and_headings_are_guarded_when_added(session, make_user, upload, gateway, embeddings, vectors,
                                                         fake_gateway) -> None:
    user = make_user()
    data = b"# Contact jane.doe@example.com\n\nBook trains through the travel desk.\n"
    outcome = upload(user, data, "notes for bob@example.com.md")
    document = session.get(SandboxDocument, outcome.document.id)
    assert "bob@example.com" not in document.file_name and "<EMAIL_" in document.file_name
    chunk = session.exec(select(DocumentChunk).where(DocumentChunk.document_id == document.id)).first()
    assert "jane.doe" not in chunk.section and "<EMAIL_" in chunk.section
    assert "bob@example.com" not in session.get(Conversation, outcome.conversation_id).title
    assert outcome.guardrails.summary()["email"] >= 2
    turn, _, _ = ask(session, gateway, embeddings, vectors, user, "How do I book trains?", outcome.conversation_id)
    sent = fake_gateway.last_request.body["messages"][-1]["content"]
    assert "bob@example.com" not in sent and "jane.doe" not in sent


def test_a_file_name_the_guardrails_block_stops_the_upload(session, make_user, upload) -> None:
    outcome = upload(make_user(), b"Harmless text.", "card 4111 1111 1111 1111.txt", classification=C.PUBLIC)
    assert outcome.document is None and outcome.guardrails.blocked
    assert session.exec(select(SandboxDocument)).all() == []


def test_names_and_headings_are_guarded_again_when_sent(session, make_user, upload, gateway, embeddings, vectors,
                                                        fake_gateway, make_model, models) -> None:
    user = make_user()
    models["embed"].max_classification = int(C.RESTRICTED)
    session.add(models["embed"])
    session.commit()
    # Stored under confidential's "warn", the name and heading keep the address ...
    cid = upload(user, b"# Ask ops.lead@example.com\n\nEscalations go to the duty desk.\n",
                 "from ann@example.com.md", classification=C.CONFIDENTIAL).conversation_id
    chunk = session.exec(select(DocumentChunk)).first()
    assert "ops.lead@example.com" in chunk.section
    make_model(S.APPROVED, name="fake-large", served=True, max_classification=int(C.RESTRICTED))
    strict = replace(POLICY, guardrail_actions={**POLICY.guardrail_actions, "restricted": "redact"})
    turn = prepare_document_turn(session=session, user=user, policy=strict, embeddings=embeddings, vectors=vectors,
                                 metered=metered(embeddings.gateway, session), top_k=4, request=TurnRequest(
                                     message="Who handles escalations?", model_name="fake-large",
                                     classification=C.RESTRICTED, conversation_id=cid))
    # ... but a restricted turn redacts them in the prompt the model gets; the citations keep them for the owner.
    sent = turn.prepared.messages[-1]["content"]
    assert "ann@example.com" not in sent and "ops.lead" not in sent and "<EMAIL_" in sent
    assert turn.citations[0].file_name == "from ann@example.com.md"
    assert turn.notice().guardrail.startswith("In the passages: Found")


def test_a_document_question_runs_through_the_turn_protocol(session, make_user, upload, gateway, embeddings,
                                                            vectors, fake_gateway) -> None:
    from sandbox.documents.answering import DocumentChatTurn

    user = make_user()
    cid = upload(user).conversation_id
    turn = DocumentChatTurn(user=user, policy=POLICY, embeddings=embeddings, vectors=vectors, top_k=4,
                            metered=metered(gateway, session), request=TurnRequest(
                                message="How much for meals?", model_name="fake-small",
                                classification=C.INTERNAL, conversation_id=cid))
    prepared = turn.prepare(session)
    session.commit()
    assert prepared.question == "How much for meals?" and not prepared.blocked_message and not prepared.error
    stream = turn.stream(metered(gateway, session))
    "".join(stream)
    recorded = turn.record(session, stream)
    session.commit()
    assert recorded.conversation_id == cid and message_citations(recorded.answer)
    assert turn.notice().guardrail == ""
