"""Solution templates in real Chromium: choose a template, fill the form, preview, fork to zip, see the lineage."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_catalog_journey import field, pick, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, expect_table_cell, settled


@pytest.mark.browser
def test_choose_fill_preview_fork_to_zip_and_see_the_lineage(page: Page, start_portal, screenshot):
    portal = start_portal(auth_mode="dev")
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, portal.url, "Chen Contributor")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Template", exact=True)).to_have_count(0)  # reached from the list only
    nav.get_by_role("link", name="Solution templates").click()
    expect(page.get_by_role("heading", name="Solution templates")).to_be_visible()
    for name in ("rag-chatbot", "batch-summariser", "extraction-service", "streamlit-tool"):
        expect_table_cell(page, name)
    settled(page)
    expect_no_error_box(page)
    screenshot("templates-1-list")

    pick(page, "Open a template", "Batch document summariser (batch-summariser)")
    page.get_by_role("button", name="Open template").click()
    expect(page.get_by_role("heading", name="Batch document summariser").first).to_be_visible()
    expect(page.get_by_text("Generates a command-line tool")).to_be_visible()  # the README beside the form
    field(page, "Project name").fill("Claims digest")
    page.get_by_role("spinbutton", name="Max words").fill("5")
    page.get_by_role("button", name="Fork").click()
    expect(page.get_by_text("Max words: Pick between 20 and 2000 words.")).to_be_visible()
    expect(field(page, "Project name")).to_have_value("Claims digest")  # the other answers are kept
    settled(page)
    screenshot("templates-2-field-error")

    page.get_by_role("spinbutton", name="Max words").fill("60")
    pick(page, "Tone", "executive")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect_table_cell(page, "claims_digest/summarise.py")
    settled(page)
    expect_no_error_box(page)
    page.get_by_role("heading", name="Preview").scroll_into_view_if_needed()
    screenshot("templates-3-preview")

    page.get_by_role("button", name="Fork").click()
    expect(page.get_by_text(re.compile(r"Forked \(record \d+\)"))).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download zip").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert "claims-digest/claims_digest/summarise.py" in archive.namelist()
    assert "max_words: 60" in archive.read("claims-digest/.copier-answers.yml").decode()

    expect(page.get_by_role("heading", name="Lineage")).to_be_visible()
    expect_table_cell(page, "claims-digest")
    settled(page)
    expect_no_error_box(page)
    page.get_by_role("heading", name="Lineage").scroll_into_view_if_needed()
    screenshot("templates-4-lineage")
