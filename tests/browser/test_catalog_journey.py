"""The catalog in real Chromium: browse, filter, open a card and compare; sync and review; request a model."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.test_sign_in_journeys import expect_no_error_box, expect_table_cell, settled

LLAMA_70B = "meta-llama/Llama-3.1-70B-Instruct"
BGE = "BAAI/bge-m3"


def sign_in(page: Page, url: str, who: str) -> None:
    page.goto(url)
    page.get_by_role("combobox", name="Sign in as").click()
    page.get_by_role("option", name=re.compile(rf"^{who}")).click()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {who}")).to_be_visible()


def field(page: Page, label: str):
    """A text input or text area by its exact label (get_by_label would also match the label's help icon)."""
    return page.get_by_role("textbox", name=label, exact=True)


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a selectbox or multiselect by its label."""
    box = page.get_by_role("combobox", name=label)
    # On a loaded machine a late rerun can re-render the open list and detach the option under the pointer;
    # then the list is closed and reopened rather than waiting on an option that will never come back.
    for attempt in range(3):
        settled(page)
        box.click()
        # Typing narrows the list; a multiselect's list does not always open on the click alone.
        box.press_sequentially(option[:12])
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=8_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            box.press("Escape")
    settled(page)


@pytest.mark.browser
def test_browse_filter_open_a_card_and_compare(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 900})  # a desktop monitor: the whole table fits
    sign_in(page, portal.url, "Chen Contributor")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Request a model")).to_be_visible()
    expect(nav.get_by_role("link", name="Model card")).to_have_count(0)  # reached from the catalog only
    expect(nav.get_by_role("link", name="Catalog operations")).to_have_count(0)  # reviewers and admins

    nav.get_by_role("link", name="Model catalog").click()
    expect(page.get_by_role("heading", name="Model catalog")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ model\(s\) match"))).to_be_visible()
    for name in ("smollm2-135m-instruct", LLAMA_70B, "gpt-4o-mini"):
        expect_table_cell(page, name)
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-1-usable-models")

    pick(page, "Cleared for data classification", "confidential")
    expect_table_cell(page, LLAMA_70B)
    expect_table_cell(page, BGE)
    cells = page.get_by_test_id("stDataFrame").locator("[role=gridcell]")
    expect(cells.filter(has_text=re.compile(r"^smollm2-135m-instruct$"))).to_have_count(0)  # public/internal only
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-2-cleared-for-confidential")

    pick(page, "Open a card", f"Llama 3.1 70B Instruct ({LLAMA_70B})")
    page.get_by_role("button", name="Open card").click()
    expect(page.get_by_role("heading", name="Llama 3.1 70B Instruct")).to_be_visible()
    main = page.get_by_test_id("stMain")
    for heading in ("Identity", "Capabilities", "Cost", "Use and risk", "Lifecycle", "Health", "Depends on it"):
        expect(main.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(main).to_contain_text("Cleared for: public, internal, confidential")
    expect_table_cell(page, "Review a contract clause for risk")  # a seed prompt recommends this model
    expect(main.get_by_text("Change status")).to_have_count(0)  # contributors make no lifecycle moves
    assert "model=meta-llama%2FLlama-3.1-70B-Instruct" in page.url or f"model={LLAMA_70B}" in page.url
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-3-model-card")

    main.get_by_role("link", name="Model catalog").click()
    expect(page.get_by_role("heading", name="Model catalog")).to_be_visible()
    settled(page)
    pick(page, "Compare (up to 3)", f"Llama 3.1 70B Instruct ({LLAMA_70B})")
    pick(page, "Compare (up to 3)", "GPT-4o mini (gpt-4o-mini)")
    page.get_by_role("combobox", name="Compare (up to 3)").press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(main).to_contain_text("Provider: Meta")
    expect(main).to_contain_text("Provider: OpenAI")
    expect(main).to_contain_text("Cleared up to: confidential")
    expect(main).to_contain_text("Hosting: third-party API")
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-4-compare-two-models")


@pytest.mark.browser
def test_admin_syncs_registers_a_served_model_and_starts_its_review(page: Page, start_portal, screenshot,
                                                                   artifacts):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 900})
    sign_in(page, portal.url, "Ada Admin")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Catalog operations").click()
    expect(page.get_by_role("heading", name="Catalog operations")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("link", name=re.compile(r"^Phi-3\.5 mini instruct"))).to_be_visible()

    page.get_by_role("button", name="Sync with gateway").click()
    expect(main).to_contain_text("Unregistered — served by the gateway, no card yet")
    expect(page.get_by_role("button", name="Register", exact=True)).to_have_count(2)  # fake-small and fake-large
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-ops-1-synced")

    page.get_by_role("button", name="Register", exact=True).first.click()
    expect(main).to_contain_text("Registered fake-large as a proposed model")
    expect(page.get_by_role("button", name="Register", exact=True)).to_have_count(1)
    main.get_by_role("link", name=re.compile(r"^fake-large \(fake-large\) — proposed")).click()

    expect(page.get_by_role("heading", name="fake-large")).to_be_visible()
    expect(main).to_contain_text("Requested by: Ada Admin")
    pick(page, "Move to", "start review → under review")
    field(page, "Reason (goes into the audit log)").fill("Served already; the CoE reviews it.")
    page.get_by_role("button", name="Start review").click()
    expect(main).to_contain_text("Start review: fake-large is now under review.")
    expect(main).to_contain_text("Status: under review")
    expect(page.get_by_role("combobox", name="Move to")).to_have_value("")  # the next move starts afresh
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-ops-2-card-under-review")

    page.get_by_text("Edit card").click()
    expect(field(page, "Display name")).to_have_value("fake-large")
    page.get_by_role("button", name="Save card").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Save card")).to_be_in_viewport()  # the expander has finished opening
    page.get_by_text("Edit card").scroll_into_view_if_needed()
    settled(page)
    # A viewport shot: growing the viewport while <main> is scrolled clips the expander in a full-page one.
    page.screenshot(path=artifacts / "catalog-ops-3-edit-card-form.png")


@pytest.mark.browser
def test_contributor_requests_a_model_fixes_a_mistake_and_opens_its_card(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")
    sign_in(page, portal.url, "Dana Developer")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Request a model").click()
    expect(page.get_by_role("heading", name="Request a model")).to_be_visible()
    expect(field(page, "Team")).to_have_value("Customer Apps")
    field(page, "Model name").fill("qwen2.5-coder-7b-instruct")
    field(page, "Provider").fill("Alibaba Cloud (Qwen)")
    field(page, "Use case").fill("Code")
    field(page, "Justification").fill("The approved models are slow for code completion.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_text("Use case: String should have at least 10 characters")).to_be_visible()
    expect(field(page, "Model name")).to_have_value("qwen2.5-coder-7b-instruct")
    settled(page)
    screenshot("catalog-request-1-use-case-too-short")

    field(page, "Use case").fill("Code completion in the customer app team's IDE plug-in.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_text("Requested qwen2.5-coder-7b-instruct.")).to_be_visible()
    expect(field(page, "Model name")).to_have_value("")  # ready for the next
    expect(field(page, "Team")).to_have_value("Customer Apps")
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-request-2-requested")

    page.get_by_role("link", name="Open its card").click()
    expect(page.get_by_role("heading", name="qwen2.5-coder-7b-instruct")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("Status: proposed")
    expect(main).to_contain_text("Requested by: Dana Developer")
    expect(main).to_contain_text("Use case: Code completion in the customer app team's IDE plug-in.")
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-request-3-card-of-the-request")


@pytest.mark.browser
def test_admin_records_an_evaluation_after_a_mistake_and_readers_see_it_on_the_card(page: Page, start_portal,
                                                                                    screenshot):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 900})
    sign_in(page, portal.url, "Ada Admin")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Model evaluations").click()
    expect(page.get_by_role("heading", name="Model evaluations")).to_be_visible()
    pick(page, "Model", "gpt-4o-mini")
    main = page.get_by_test_id("stMain")
    expect(page.get_by_role("heading", name="Record an evaluation")).to_be_visible()
    field(page, "Benchmark").fill("Internal FAQ answers")
    field(page, "Score").fill("eighty")
    field(page, "Notes").fill("200 questions from the service desk, graded by two people.")
    field(page, "Link (kept as plain text)").fill("https://wiki.example.com/evals/faq")
    page.get_by_role("button", name="Record evaluation").click()
    expect(main).to_contain_text("Please correct the evaluation: score: a number is needed.")
    expect(field(page, "Notes")).to_have_value("200 questions from the service desk, graded by two people.")
    settled(page)
    screenshot("catalog-evaluations-1-bad-score-kept")

    field(page, "Score").fill("81.5")
    page.get_by_role("button", name="Record evaluation").click()
    expect(main).to_contain_text("Recorded Internal FAQ answers on gpt-4o-mini.")
    expect(field(page, "Benchmark")).to_have_value("")  # ready for the next
    expect_table_cell(page, "Internal FAQ answers")
    settled(page)
    expect_no_error_box(page)
    screenshot("catalog-evaluations-2-recorded")
