"""The prompt library in real Chromium: search, open, fill the variables, try in the sandbox, edit and see the diff."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, pick, sign_in
from tests.browser.test_sandbox_journey import LOCAL_MODEL, answers
from tests.browser.test_sign_in_journeys import expect_no_error_box, expect_table_cell, settled
from tests.fake_gateway import DEFAULT_MODELS, FakeGateway


@pytest.fixture
def serving_the_local_model(gateway: FakeGateway) -> FakeGateway:
    gateway.models = [LOCAL_MODEL, *DEFAULT_MODELS]
    return gateway


def open_from_library(page: Page, query: str, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Prompt library").click()
    expect(page.get_by_role("heading", name="Prompt library")).to_be_visible()
    field(page, "Search").fill(query)
    field(page, "Search").press("Enter")
    expect_table_cell(page, title)
    pick(page, "Open a prompt", title)
    page.get_by_role("button", name="Open prompt").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    settled(page)


@pytest.mark.browser
def test_search_open_fill_try_in_sandbox_then_edit_and_see_the_diff(page: Page, start_portal, screenshot,
                                                                     serving_the_local_model):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, portal.url, "Chen Contributor")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Prompt library").click()
    expect(page.get_by_text(re.compile(r"^33 prompt\(s\) match"))).to_be_visible()
    field(page, "Search").fill("hand over a long customer ticket")
    field(page, "Search").press("Enter")
    expect_table_cell(page, "Summarise a support ticket")
    settled(page)
    expect_no_error_box(page)
    screenshot("prompts-1-search")

    open_from_library(page, "hand over a long customer ticket", "Summarise a support ticket")
    field(page, "product").fill("CoE Portal")
    field(page, "ticket").fill("Customer: I cannot log in since the update.")
    page.get_by_role("button", name="Show rendered text").click()
    expect(page.get_by_test_id("stCode").filter(has_text="[user]")).to_contain_text(
        "I cannot log in since the update.")
    settled(page)
    expect_no_error_box(page)
    screenshot("prompts-2-filled-and-rendered")

    page.get_by_role("button", name="Try in sandbox").click()
    expect(page.get_by_role("heading", name="Sandbox", exact=True)).to_be_visible()
    expect(field(page, "Your message")).to_have_value("Ticket thread:\nCustomer: I cannot log in since the update.")
    expect(field(page, "System prompt")).to_have_value(re.compile("senior support agent for CoE Portal"))
    page.get_by_role("button", name="Send").click()
    expect(answers(page)).to_have_count(2)
    expect(answers(page).nth(1)).to_contain_text("Echo: Ticket thread: Customer: I cannot log in")
    settled(page)
    expect_no_error_box(page)
    screenshot("prompts-3-sandbox-prefilled")

    open_from_library(page, "review my pull request", "Review a code change")
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit: Review a code change")).to_be_visible()
    system = field(page, "System message")
    expect(system).to_have_value(re.compile(r"^You are a senior \{language\} engineer doing code review"))
    settled(page)
    system.fill(system.input_value() + " Finish with a one-line verdict: approve or request changes.")
    field(page, "Change note").fill("Ask for a verdict")
    field(page, "Change note").press("Enter")
    settled(page)
    page.get_by_role("button", name="Save new version").click()
    expect(page.get_by_role("heading", name="Review a code change")).to_be_visible()
    page.get_by_role("tab", name="Versions and labels").click()
    diff = page.get_by_test_id("stCode").filter(has_text="--- v1")
    expect(diff).to_contain_text("+++ v2")
    expect(diff).to_contain_text("+You are a senior {language} engineer doing code review.")
    expect(diff).to_contain_text("Finish with a one-line verdict")
    expect(diff).not_to_contain_text("-- language")  # the variable is still described
    settled(page)
    expect_no_error_box(page)
    screenshot("prompts-4-edited-with-diff")
