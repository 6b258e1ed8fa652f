"""Training in real Chromium: take a course, pass its quiz and labs, get and verify the certificate, and the CoE
dashboard shows the completion."""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import Page, expect

from portfolio.seed import TRAINED
from tests.browser.test_catalog_journey import field, pick, sign_in
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled
from tests.fake_gateway import DEFAULT_MODELS, FakeGateway
from training.course_files import COURSES_DIR

COURSE = "prompt-engineering-basics"
LOCAL_MODEL = "smollm2-135m-instruct"
# The fake gateway echoes the prompt, so a prompt that holds what the checks look for passes them.
LAB_PROMPTS = {
    "Ask for a short checklist": "You help a new colleague who starts next week. Write a short checklist for their "
                                 "first day in the sandbox: check the data classification before pasting anything.",
    "Get an answer in a fixed format": "Classify the customer message about a double charge. Answer with one line: "
                                       "Category: billing, Category: technical or Category: account.",
}


@pytest.fixture
def serving_the_local_model(gateway: FakeGateway) -> FakeGateway:
    """The seed catalog's approved local model is served, so labs can run on it."""
    gateway.models = [LOCAL_MODEL, *DEFAULT_MODELS]
    return gateway


def right_answers() -> list[tuple[str, list[str]]]:
    quiz = yaml.safe_load((COURSES_DIR / COURSE / "quiz.yml").read_text(encoding="utf-8"))
    return [(q.get("kind", "single"), q["correct"]) for q in quiz["questions"]]


def nav(page: Page, name: str) -> None:
    """Follow a sidebar link; with this many pages Streamlit folds the menu behind "View more"."""
    more = page.get_by_test_id("stSidebarNavViewButton")
    if more.count() and "more" in more.inner_text().lower():
        more.click()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    settled(page)


def run_lab(page: Page, title: str) -> None:
    page.get_by_test_id("stMain").get_by_text(re.compile(rf"^. {re.escape(title)}$")).click()
    settled(page)
    prompt = field(page, "Your prompt")
    expect(prompt).to_have_value("")
    prompt.fill(LAB_PROMPTS[title])
    prompt.press("Tab")  # leaving the box commits the text before the click, as a person tabbing away would
    settled(page)
    expect(prompt).to_have_value(LAB_PROMPTS[title])
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("stMain")).to_contain_text("Passed.")
    settled(page)


@pytest.mark.browser
def test_take_a_course_pass_quiz_and_labs_verify_the_certificate_and_see_it_on_the_dashboard(
        page: Page, start_portal, screenshot, serving_the_local_model) -> None:
    portal = start_portal(auth_mode="dev")
    sign_in(page, portal.url, "Dana Developer")
    nav(page, "Courses")
    main = page.get_by_test_id("stMain")
    expect(page.get_by_role("heading", name="Training courses", exact=True)).to_be_visible()
    expect(main).to_contain_text("Responsible AI and data classification")
    screenshot("training-1-courses")

    pick(page, "Course", "Prompt engineering basics")
    expect(main).to_contain_text("Write prompts that get useful, checkable answers")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Prompt engineering basics")).to_be_visible()
    for read in (1, 2, 3):
        page.get_by_role("button", name="Mark as read").click()
        expect(main).to_contain_text(f"{read} of 3 lessons read")
        settled(page)
    expect(main).to_contain_text("To complete the course: pass the quiz (75% needed); pass 2 more lab(s).")
    screenshot("training-2-lessons-read")

    main.get_by_role("link", name="Quiz").click()
    expect(page.get_by_role("heading", name=re.compile("^Quiz"))).to_be_visible()
    settled(page)
    for kind, correct in right_answers():
        for option in correct:
            main.get_by_text(option, exact=True).click()
    screenshot("training-3-quiz-answered")
    page.get_by_role("button", name="Submit answers").click()
    expect(main).to_contain_text("You scored 100% — passed.")
    settled(page)
    expect_no_error_box(page)
    screenshot("training-4-quiz-passed")

    main.get_by_role("link", name="Labs").click()
    expect(page.get_by_role("heading", name=re.compile("^Labs"))).to_be_visible()
    settled(page)
    run_lab(page, "Ask for a short checklist")
    run_lab(page, "Get an answer in a fixed format")
    expect(main).to_contain_text("Course completed — certificate")
    code = re.search(r"CERT-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", main.inner_text()).group(0)
    expect_no_error_box(page)
    screenshot("training-5-labs-passed-certificate")

    nav(page, "Certificates")
    field(page, "Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(main).to_contain_text(f"{code} — Dana Developer")
    expect(main).to_contain_text("completed Prompt engineering basics (version 1)")
    settled(page)
    screenshot("training-6-certificate-verified")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, portal.url, "Ada Admin")
    nav(page, "Training dashboard")
    expect(page.get_by_role("heading", name="Training dashboard", exact=True)).to_be_visible()
    # Dana's completion beside those of the demo owners the seed trains for the portfolio's courses criterion.
    seeded = sum(len(slugs) for slugs in TRAINED.values())
    expect(page.get_by_test_id("stMetric").filter(has_text="Completed")).to_have_text(
        re.compile(rf"Completed\s*{seeded + 1}$"))
    expect(main).to_contain_text("Completion by course")
    settled(page)
    expect_no_error_box(page)
    screenshot("training-7-coe-dashboard")
