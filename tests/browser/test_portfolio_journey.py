"""The use-case portfolio in real Chromium: a viewer proposes a use case and asks to move it; a reviewer approves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, pick, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled

TITLE = "Brand voice check for campaign copy"


@pytest.mark.browser
def test_a_viewer_proposes_a_use_case_and_a_reviewer_approves_its_move(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 1100})
    sign_in(page, portal.url, "Vera Viewer")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Propose a use case").click()
    expect(page.get_by_role("heading", name="Propose a use case")).to_be_visible()
    field(page, "Title").fill(TITLE)
    field(page, "The problem").fill("Agencies' copy drifts from the brand voice; each piece is checked by hand.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Before submitting, fix or fill in: who has the problem")).to_be_visible()
    expect(field(page, "Title")).to_have_value(TITLE)  # bad input keeps the answers
    settled(page)
    screenshot("portfolio-1-propose-refused")

    field(page, "Who has the problem").fill("Campaign managers and the brand team")
    page.get_by_role("spinbutton", name="Expected value per year").fill("300")
    page.get_by_role("radiogroup").get_by_text("hours saved").click()
    field(page, "Assumption behind the value").fill("300 pieces a year, an hour of checking each")
    pick(page, "Most sensitive data it uses", "internal")
    pick(page, "Whom its output reaches", "customers")
    pick(page, "Does a person review every output before it is used?", "yes")
    pick(page, "Autonomy", "assists a person, who decides")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    page.get_by_role("tab", name="Risk tier").click()
    expect(page.get_by_text("Proposed tier 2")).to_be_visible()
    expect(page.get_by_text("its output reaches customers (a person reviews each one)")).to_be_visible()
    settled(page)
    expect_no_error_box(page)
    screenshot("portfolio-2-tier-and-reasons")

    page.get_by_role("tab", name="Stage and approvals").click()
    page.get_by_role("button", name="Ask for the move").click()
    expect(page.get_by_text("Move to assessment requested: it waits for approval.")).to_be_visible()
    settled(page)
    screenshot("portfolio-3-move-requested")

    sign_in(page, portal.url, "Ravi Reviewer")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Use-case portfolio").click()
    expect(page.get_by_role("heading", name="Use-case portfolio")).to_be_visible()
    # The innermost block holding the title is its card (its lane and the page come before it in the document).
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=TITLE).last
    expect(card.get_by_text("waiting: → assessment")).to_be_visible()
    settled(page)
    expect_no_error_box(page)
    screenshot("portfolio-4-board")
    card.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    page.get_by_role("tab", name="Stage and approvals").click()
    expect(page.get_by_text("idea → assessment")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("You approved the move to assessment.")).to_be_visible()
    expect(page.get_by_text("assessment", exact=True).first).to_be_visible()
    page.get_by_role("tab", name="Timeline").click()
    settled(page)
    expect_no_error_box(page)
    screenshot("portfolio-5-approved-timeline")
