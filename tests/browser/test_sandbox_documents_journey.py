"""Chat with documents in real Chromium: upload a file, get an answer that cites it, open the cited passage."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, sign_in
from tests.browser.test_sandbox_journey import LOCAL_MODEL, answers
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled
from tests.fake_gateway import DEFAULT_MODELS, FakeGateway

EMBEDDER = "BAAI/bge-m3"  # the seed catalog's approved embedding model
HANDBOOK = "# Travel\n\nBook trains through the travel desk.\n\n## Expenses\n\nClaim meals up to 40 euros a day.\n"


@pytest.fixture
def serving_models_and_embeddings(gateway: FakeGateway) -> FakeGateway:
    gateway.models = [LOCAL_MODEL, EMBEDDER, *DEFAULT_MODELS]
    return gateway


def fully_open(expander) -> None:
    """Wait until the expander's opening animation has ended, so the screenshot shows the whole passage."""
    expander.locator("details").evaluate(
        "d => new Promise(done => Promise.all(d.getAnimations({subtree: true}).map(a => a.finished)).then(done))")


@pytest.mark.browser
def test_upload_a_document_get_a_cited_answer_and_open_the_citation(page: Page, start_portal, screenshot,
                                                                    serving_models_and_embeddings, tmp_path):
    gateway = serving_models_and_embeddings
    portal = start_portal(auth_mode="dev", embedding_source="gateway", embedding_model=EMBEDDER)
    sign_in(page, portal.url, "Vera Viewer")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sandbox").click()
    expect(page.get_by_role("heading", name="Sandbox", exact=True)).to_be_visible()
    main = page.get_by_test_id("stMain")
    settled(page)
    main.locator("summary", has_text=re.compile(r"Documents$")).click()
    # The uploader states the portal's limit (PORTAL_DOCUMENTS_MAX_FILE_MB), not Streamlit's 200 MB default.
    expect(main.get_by_test_id("stFileUploaderDropzoneInstructions")).to_contain_text("10MB")
    handbook = tmp_path / "handbook.md"
    handbook.write_text(HANDBOOK, encoding="utf-8")
    main.locator("input[type=file]").set_input_files(handbook)
    expect(main.get_by_text("handbook.md", exact=True)).to_be_visible()
    expect(main.get_by_role("button", name="Add document")).to_be_enabled()  # the rerun after choosing the file
    settled(page)
    screenshot("documents-1-file-chosen")

    # The seed step also embeds the published prompts for the prompt library's search: count from here.
    embeddings_before = len([r for r in gateway.requests if r.path.endswith("/embeddings")])
    main.get_by_role("button", name="Add document").click()
    expect(main).to_contain_text("Added “handbook.md”: 2 passages, ready for questions.")
    expect(main).to_contain_text("2 passages · internal data")
    added = [r.body for r in gateway.requests if r.path.endswith("/embeddings")][embeddings_before:]
    assert [body["model"] for body in added] == [EMBEDDER]
    assert any("Claim meals up to 40 euros a day." in text for text in added[0]["input"])
    settled(page)
    expect_no_error_box(page)
    screenshot("documents-2-document-added")

    field(page, "Your message").fill("How much can I claim for meals?")
    page.get_by_role("button", name="Send").click()
    expect(answers(page)).to_have_count(2)
    answer = answers(page).nth(1)
    expect(answer).to_contain_text("Sources — 2 passages from your documents:")
    citation = answer.get_by_test_id("stExpander").filter(has_text=re.compile(r"handbook\.md, Travel > Expenses"))
    expect(citation).to_have_count(1)
    settled(page)
    expect_no_error_box(page)
    screenshot("documents-3-cited-answer")

    citation.get_by_text(re.compile(r"^\[\d\] handbook\.md, Travel > Expenses$")).click()
    expect(citation.get_by_test_id("stExpanderDetails")).to_contain_text("Claim meals up to 40 euros a day.")
    expect(citation.get_by_text("Claim meals up to 40 euros a day.")).to_be_visible()
    fully_open(citation)
    prompt = gateway.last_request.body["messages"][-1]["content"]
    assert "Claim meals up to 40 euros a day." in prompt
    assert prompt.endswith("Question: How much can I claim for meals?")
    settled(page)
    screenshot("documents-4-citation-opened")
