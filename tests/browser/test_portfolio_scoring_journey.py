"""Prioritisation in real Chromium: the seeded value × feasibility chart, and a reviewer scoring a use case."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled

UNSCORED = "Social posts"  # a seed use case the seed leaves unscored


@pytest.mark.browser
def test_a_reviewer_reads_the_chart_and_scores_an_unscored_use_case(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 1100})
    sign_in(page, portal.url, "Ravi Reviewer")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Use-case portfolio").click()
    expect(page.get_by_role("heading", name="Use-case portfolio")).to_be_visible()
    page.get_by_text("Value × feasibility", exact=True).click()
    expect(page.get_by_text("Not scored yet (6)")).to_be_visible()
    expect(page.locator("canvas, svg.marks").first).to_be_visible()  # Vega drew the chart
    settled(page)
    expect_no_error_box(page)
    screenshot("portfolio-scoring-1-chart")

    page.get_by_text("Board", exact=True).click()
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=UNSCORED).last
    card.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name=UNSCORED)).to_be_visible()
    page.get_by_role("tab", name="Priority").click()
    expect(page.get_by_text("Not scored yet.")).to_be_visible()
    field(page, "Why this value").fill("A third of one person's year")
    field(page, "Why this feasibility").fill("Public posts: brand review needed")
    page.get_by_role("button", name="Save the score").click()
    expect(page.get_by_text("Scored: value 3, feasibility 3.")).to_be_visible()
    page.get_by_role("tab", name="Priority").click()  # the page reran on its first tab
    expect(page.get_by_text("Scored by ravi.reviewer@example.com")).to_be_visible()
    expect(field(page, "Why this value")).to_have_value("")  # ready for the next score
    settled(page)
    expect_no_error_box(page)
    screenshot("portfolio-scoring-2-scored")
