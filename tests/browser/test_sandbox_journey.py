"""The sandbox in real Chromium: chat with the seeded local model through the gateway, see cost, survive a cut."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, pick, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled
from tests.browser.conftest import LOCAL_MODEL


def answers(page: Page):
    return page.get_by_test_id("stChatMessage")


@pytest.mark.browser
def test_chat_with_an_approved_model_see_redaction_cost_and_a_cut_answer(page: Page, start_portal, screenshot,
                                                                        serving_the_local_model, tmp_path):
    gateway = serving_the_local_model
    portal = start_portal(auth_mode="dev")
    sign_in(page, portal.url, "Vera Viewer")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sandbox").click()
    expect(page.get_by_role("heading", name="Sandbox", exact=True)).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(page.get_by_role("combobox", name="Data you are about to paste")).to_have_value("internal")
    expect(page.get_by_role("combobox", name="Model")).to_have_value(
        "SmolLM2 135M Instruct — Hugging Face · $0.00 in / $0.00 out per M tokens")
    settled(page)
    expect_no_error_box(page)
    screenshot("sandbox-1-ready")

    field(page, "Your message").fill("Draft a two-line launch note for jane.doe@example.com")
    page.get_by_role("button", name="Send").click()
    expect(answers(page)).to_have_count(2)
    expect(answers(page).nth(1)).to_contain_text("Echo: Draft a two-line launch note for <EMAIL_1>")
    expect(answers(page).nth(1)).to_contain_text(
        re.compile(r"smollm2-135m-instruct · \d+ tokens in / \d+ out · \$0\.000000 · first token after \d\.\d\d s"))
    expect(main).to_contain_text("Found 1 e-mail address: redacted before sending.")
    expect(field(page, "Your message")).to_have_value("")
    assert "jane.doe" not in str(gateway.last_request.body)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name="Draft a two-line launch note for jane.doe@example.com")).to_have_count(0)
    expect(sidebar.get_by_role("button", name="Draft a two-line launch note for <EMAIL_1>")).to_be_visible()
    settled(page)
    expect_no_error_box(page)
    screenshot("sandbox-2-answer-with-cost-and-redaction")

    # Only the chat call is cut: a status or model-list request in between must not take the failure.
    gateway.fail_next("cut", after_chunks=3, only_path="/chat/completions")
    field(page, "Your message").fill("Now make it one line please")
    page.get_by_role("button", name="Send").click()
    expect(main).to_contain_text("stopped before it was finished")
    expect(answers(page)).to_have_count(4)
    expect(answers(page).nth(3)).to_contain_text("incomplete — the answer was cut off")
    expect(field(page, "Your message")).to_have_value("Now make it one line please")
    settled(page)
    screenshot("sandbox-3-cut-answer-kept-and-draft-kept")

    page.get_by_role("button", name="Retry").click()
    # While the retry streams, its question and answer show below the cut one (six messages); once recorded, the
    # page reruns and the retried answer has replaced the cut-off one: four messages, the last one whole.
    expect(field(page, "Your message")).to_have_value("")
    settled(page)
    expect(answers(page)).to_have_count(4)
    expect(answers(page).nth(2)).to_contain_text("Now make it one line please")
    expect(answers(page).nth(3)).to_contain_text("Echo: Now make it one line please")
    expect(answers(page).nth(3)).not_to_contain_text("incomplete")
    expect_no_error_box(page)

    with page.expect_download() as download:
        main.get_by_role("button", name="Markdown").click()
    saved = tmp_path / "conversation.md"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# Draft a two-line launch note for <EMAIL_1>")
    # The retry replaced the cut-off answer: the question once, its full answer once, nothing incomplete.
    assert "Echo: Now make it one line please" in text and "*(incomplete)*" not in text
    assert text.count("Now make it one line please") == 2
    screenshot("sandbox-4-conversation-continued")


@pytest.mark.browser
def test_try_in_sandbox_from_a_model_card(page: Page, start_portal, screenshot, serving_the_local_model):
    portal = start_portal(auth_mode="dev")
    sign_in(page, portal.url, "Chen Contributor")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Model catalog").click()
    expect(page.get_by_role("heading", name="Model catalog")).to_be_visible()
    settled(page)
    pick(page, "Open a card", f"SmolLM2 135M Instruct ({LOCAL_MODEL})")
    page.get_by_role("button", name="Open card").click()
    expect(page.get_by_role("heading", name="SmolLM2 135M Instruct")).to_be_visible()
    settled(page)
    screenshot("sandbox-5-card-with-try-in-sandbox")

    page.get_by_role("button", name="Try in sandbox").click()
    expect(page.get_by_role("heading", name="Sandbox", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(r"^SmolLM2 135M Instruct — "))
    field(page, "Your message").fill("Hello from the card")
    page.get_by_role("button", name="Send").click()
    expect(answers(page).nth(1)).to_contain_text("Echo: Hello from the card")
    settled(page)
    expect_no_error_box(page)
    screenshot("sandbox-6-opened-from-the-card")
