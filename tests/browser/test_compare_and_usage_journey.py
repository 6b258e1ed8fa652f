"""Compare two models in real Chromium, vote, and find the calls on My usage."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled
from tests.fake_gateway import FakeGateway

SERVED = ["smollm2-135m-instruct", "meta-llama/Llama-3.1-8B-Instruct"]  # both approved in the seed catalog


@pytest.fixture
def serving_two_seed_models(gateway: FakeGateway) -> FakeGateway:
    """The start-up catalog sync marks both seed models served, so both are offered for internal data."""
    gateway.models = list(SERVED)
    return gateway


@pytest.mark.browser
def test_compare_two_models_vote_and_see_the_usage(page: Page, start_portal, screenshot,
                                                   serving_two_seed_models) -> None:
    portal = start_portal(auth_mode="dev")
    sign_in(page, portal.url, "Dana Developer")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Compare models").click()
    expect(page.get_by_role("heading", name="Compare models", exact=True)).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("SmolLM2 135M Instruct (smollm2-135m-instruct)")
    expect(main).to_contain_text("Llama 3.1 8B Instruct (meta-llama/Llama-3.1-8B-Instruct)")
    settled(page)
    screenshot("compare-1-two-models-picked")

    field(page, "Your message").fill("Suggest a name for the quarterly newsletter")
    page.get_by_role("button", name="Compare").click()
    expect(main.get_by_text("Echo: Suggest a name for the quarterly newsletter")).to_have_count(2)
    page.get_by_role("button", name="A is better").click()
    expect(main).to_contain_text("your vote (A is better) is recorded")
    settled(page)
    expect_no_error_box(page)
    screenshot("compare-2-answers-side-by-side-and-vote")

    nav.get_by_role("link", name="My usage").click()
    expect(page.get_by_role("heading", name="My usage", exact=True)).to_be_visible()
    expect(main).to_contain_text("meta-llama/Llama-3.1-8B-Instruct")
    expect(main).to_contain_text("smollm2-135m-instruct")
    settled(page)
    expect_no_error_box(page)
    screenshot("compare-3-my-usage")
