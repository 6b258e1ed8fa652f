"""The sandbox page's documents (AppTest): upload with a classification, cited answers, removal, plain errors."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from catalog.models import CatalogModel, DataClassification, ModelStatus
from sandbox.documents.models import DocumentChunk, SandboxDocument
from metering.models import UsageEvent
from sandbox.models import ChatMessage, Conversation
from tests.sandbox.documents_support import pdf_bytes
from tests.views.support import DRAFT, chat, chat_requests, errors, rows, send, shown, unescaped

C = DataClassification
EMBEDDER = "fake-embed"
HANDBOOK = b"# Travel\n\nBook trains through the travel desk.\n\n## Expenses\n\nClaim meals up to 40 euros a day.\n"


@pytest.fixture
def with_documents(monkeypatch, fake_gateway, portal_db, served_models) -> None:
    """Embeddings from the fake gateway's embedding model, approved in the catalog up to internal data."""
    monkeypatch.setenv("PORTAL_EMBEDDING_SOURCE", "gateway")
    monkeypatch.setenv("PORTAL_EMBEDDING_MODEL", EMBEDDER)
    fake_gateway.models = [*fake_gateway.models, EMBEDDER]
    with Session(portal_db) as session:
        session.add(CatalogModel(name=EMBEDDER, display_name="Fake Embed", mode="embedding", served=True,
                                 status=ModelStatus.APPROVED.value, max_classification=int(C.INTERNAL),
                                 input_price_per_mtok=0.1))
        session.commit()


def uploader(at):
    (widget,) = [w for w in at.get("file_uploader")]
    return widget


def add(at, name: str, data: bytes, mime: str = "text/markdown", classification: C | None = None):
    uploader(at).set_value((name, data, mime)).run()
    if classification is not None:
        at.selectbox(key="sandbox_document_classification").set_value(classification).run()
    at.button(key="sandbox_document_add").click().run()
    assert not at.exception, at.exception
    return at


def embedding_requests(gateway) -> list:
    return [r for r in gateway.requests if r.path.endswith("/embeddings")]


def test_upload_ask_and_open_a_citation(open_sandbox, with_documents, portal_db, fake_gateway) -> None:
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    assert not errors(at)
    assert "Added “handbook.md”: 2 passages, ready for questions." in unescaped(shown(at))
    (document,) = rows(portal_db, SandboxDocument)
    (conversation,) = rows(portal_db, Conversation)
    assert (document.conversation_id, conversation.title) == (conversation.id, "handbook.md")
    assert "handbook.md" in unescaped(shown(at)) and at.toggle(key="sandbox_use_documents").value

    send(at, "How much for meals?")
    assert not errors(at)
    prompt = chat_requests(fake_gateway)[-1].body["messages"][-1]["content"]
    assert "Claim meals up to 40 euros a day." in prompt and prompt.endswith("Question: How much for meals?")
    assert chat(at)[0] == ("user", "How much for meals?")
    answer = at.chat_message[1]
    labels = [e.label for e in answer.expander]
    assert sorted(labels) == ["[1] handbook.md, Travel", "[2] handbook.md, Travel > Expenses"] or sorted(
        labels) == ["[1] handbook.md, Travel > Expenses", "[2] handbook.md, Travel"]
    opened = {e.label: unescaped(e.markdown[0].value) for e in answer.expander}
    assert any("Claim meals up to 40 euros a day." in text for text in opened.values())
    assert at.text_area(key=DRAFT).value == ""
    assert [u.source for u in rows(portal_db, UsageEvent)] == ["sandbox documents"] * 3
    (_, stored) = rows(portal_db, ChatMessage)
    assert len(stored.citations) == 2


def test_uploading_the_same_file_again_embeds_nothing(open_sandbox, with_documents, fake_gateway,
                                                      portal_db) -> None:
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    add(at, "handbook.md", HANDBOOK)
    assert "“handbook.md” is already in this conversation; nothing was embedded again." in unescaped(shown(at))
    assert len(embedding_requests(fake_gateway)) == 1 and len(rows(portal_db, SandboxDocument)) == 1


def test_the_same_file_in_a_new_conversation_is_not_embedded_again(open_sandbox, with_documents, fake_gateway,
                                                                    portal_db) -> None:
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    at.button(key="sandbox_new").click().run()
    add(at, "handbook.md", HANDBOOK)
    assert ("Added “handbook.md”: 2 passages (embedded once already, in another of your conversations), ready for "
            "questions.") in unescaped(shown(at))
    assert len(embedding_requests(fake_gateway)) == 1 and len(rows(portal_db, Conversation)) == 2


@pytest.mark.parametrize(("name", "data", "message"), [
    ("locked.pdf", pdf_bytes("Secret", password="pw"), "“locked.pdf” is password-protected."),
    ("broken.pdf", b"%PDF-1.4 garbage", "“broken.pdf” could not be read as a PDF"),
    ("empty.txt", b"", "“empty.txt” is empty."),
])
def test_a_bad_file_says_why_stores_nothing_and_keeps_the_draft(open_sandbox, with_documents, portal_db,
                                                                fake_gateway, name, data, message) -> None:
    at = open_sandbox()
    at.session_state[DRAFT] = "My half-written question"  # as a failed send leaves it
    add(at, name, data, mime="application/octet-stream")
    assert any(message in e for e in errors(at)), errors(at)
    assert rows(portal_db, SandboxDocument) == [] and rows(portal_db, Conversation) == []
    assert embedding_requests(fake_gateway) == []
    assert at.text_area(key=DRAFT).value == "My half-written question"


def test_a_document_with_personal_data_is_redacted_and_the_replacements_shown(open_sandbox, with_documents,
                                                                              fake_gateway, portal_db) -> None:
    at = add(open_sandbox(), "contacts.txt", b"Refunds: write to jane.doe@example.com.", mime="text/plain")
    assert "Found 1 e-mail address: redacted before sending." in unescaped(shown(at))
    table = at.dataframe[0].value
    assert list(zip(table["indexed and sent as"], table["in your file"])) == [("<EMAIL_1>", "jane.doe@example.com")]
    assert "jane.doe" not in str([r.body for r in embedding_requests(fake_gateway)])
    (chunk,) = rows(portal_db, DocumentChunk)
    assert chunk.text == "Refunds: write to <EMAIL_1>."


def test_a_confidential_document_needs_a_model_cleared_for_it(open_sandbox, with_documents, portal_db,
                                                              fake_gateway) -> None:
    at = add(open_sandbox(), "q3.txt", b"Revenue grew nine percent.", mime="text/plain",
             classification=C.CONFIDENTIAL)
    assert any("'fake-embed' is not approved in the catalog for confidential data" in e for e in errors(at))
    assert rows(portal_db, SandboxDocument) == [] and embedding_requests(fake_gateway) == []


def test_removing_a_document_and_asking_plainly_again(open_sandbox, with_documents, portal_db,
                                                      fake_gateway) -> None:
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    send(at, "How much for meals?")
    (document,) = rows(portal_db, SandboxDocument)
    at.button(key=f"sandbox_document_remove_{document.id}").click().run()
    assert rows(portal_db, SandboxDocument) == [] and rows(portal_db, DocumentChunk) == []
    answer = at.chat_message[1]
    assert "This document has been removed from the conversation." in [c.value for e in answer.expander
                                                                       for c in e.caption]
    send(at, "Thanks")  # no documents left: a plain chat turn
    assert chat_requests(fake_gateway)[-1].body["messages"][-1]["content"] == "Thanks"


def test_a_missing_embedding_setting_is_a_message_not_a_crash(open_sandbox, portal_db, monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_EMBEDDING_SOURCE", "gateway")  # and no PORTAL_EMBEDDING_MODEL
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    assert any("PORTAL_EMBEDDING_MODEL must name the gateway's embedding model" in e for e in errors(at))
    assert rows(portal_db, SandboxDocument) == []


def test_deleting_the_conversation_removes_its_documents(open_sandbox, with_documents, portal_db) -> None:
    at = add(open_sandbox(), "handbook.md", HANDBOOK)
    at.button(key="sandbox_delete").click().run()
    assert not at.exception and not errors(at)
    assert rows(portal_db, Conversation) == [] and rows(portal_db, SandboxDocument) == []
