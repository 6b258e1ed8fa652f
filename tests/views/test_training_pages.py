"""Training pages (AppTest): course list, lessons, quiz, labs, certificates, assignments and the CoE dashboard."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from portal.views import _links as links
from metering.models import UsageEvent
from training.models import Certificate, LabAttempt, Question, QuizAttempt
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI
from tests.conftest import REPO_ROOT
from tests.views.support import errors, rows, shown, unescaped

COURSES, COURSE, QUIZ, LAB = ("views/training.py", "views/training_course.py", "views/training_quiz.py",
                              "views/training_lab.py")
CERTIFICATES, ASSIGN, DASHBOARD = ("views/training_certificates.py", "views/training_assign.py",
                                   "views/training_dashboard.py")
GOOD_PROMPT = ("Write a short onboarding checklist for a new colleague using the sandbox for the first time; "
               "include choosing the data classification before pasting text.")


@pytest.fixture
def courses(portal_db):
    with Session(portal_db) as session:
        sync_courses(session=session, actor=SYSTEM_CLI)
        session.commit()
    return portal_db


@pytest.fixture
def open_page(open_portal, user_with_role, courses):
    """Open a training page as a role, with a course open when given."""

    def open_(page: str, role: str = "viewer", course: str | None = None):
        at = open_portal(user_with_role(role))
        if course:
            at.session_state[links.course.remember] = course
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return open_


def read_every_lesson(at, lessons: int = 3) -> None:
    for _ in range(lessons):
        at.button(key="mark_read").click().run()
        assert not at.exception and not at.error, at.exception or errors(at)
    assert not _has(at, "mark_read")


def _has(at, key: str) -> bool:
    try:
        at.button(key=key)
    except KeyError:
        return False
    return True


def answer_quiz(at, engine, *, right: bool) -> None:
    """Tick the right (or a wrong) option of every question on the page's quiz form."""
    with Session(engine) as session:
        questions = {q.id: q for q in session.exec(select(Question)).all()}
    for radio in at.radio:
        if not radio.key or not radio.key.startswith("q_"):
            continue
        question = questions[int(radio.key.split("_")[2])]
        radio.set_value(question.correct[0] if right else
                        next(i for i in range(len(question.options)) if i not in question.correct))
    for box in at.checkbox:
        if box.key and box.key.startswith("q_"):
            _, _, qid, index = box.key.split("_")
            box.check() if (int(index) in questions[int(qid)].correct) == right else box.uncheck()
    at.button(key="FormSubmitter:quiz_form-Submit answers").click().run()
    assert not at.exception, at.exception


def test_the_course_list_shows_every_course_and_start_enrols(open_page) -> None:
    at = open_page(COURSES)
    assert list(at.dataframe[0].value["course"]) == [
        "Building a RAG application from the portal's template", "Generative AI fundamentals for everyone",
        "Prompt engineering basics", "Responsible AI and data classification"]
    assert set(at.dataframe[0].value["status"]) == {"not started"}
    at.selectbox(key="courses_pick").set_value("genai-fundamentals").run()
    assert "What large language models are" in shown(at)
    at.button(key="open_course").click().run()
    assert not at.exception, at.exception
    assert at.radio(key="lesson_pick").options[0] == "○ What a language model is"
    assert "To complete the course: read 3 more lesson(s); pass the quiz (75% needed)." in shown(at)


def test_reading_lessons_then_passing_the_quiz_gives_a_certificate(open_page, courses) -> None:
    at = open_page(COURSES, role="contributor")
    at.selectbox(key="courses_pick").set_value("genai-fundamentals").run()
    at.button(key="open_course").click().run()
    at.switch_page(COURSE).run()  # AppTest reruns the page it was last switched to, not the script's switch
    read_every_lesson(at)
    assert "To complete the course: pass the quiz (75% needed)." in shown(at)
    at.switch_page(QUIZ).run()
    answer_quiz(at, courses, right=True)
    assert "You scored 100% — passed." in shown(at)
    code = rows(courses, Certificate)[0].code
    assert f"Course completed — certificate **{code}**." in shown(at)
    at.switch_page(CERTIFICATES).run()
    assert list(at.dataframe[0].value["code"]) == [code]


def test_failed_attempts_run_out_and_the_form_goes_away(open_page, courses) -> None:
    at = open_page(QUIZ, course="responsible-ai")
    assert "Enrol in the course first" in shown(at)
    at.switch_page(COURSE).run()
    at.button(key="enrol").click().run()
    at.switch_page(QUIZ).run()
    for attempt in (1, 2, 3):
        answer_quiz(at, courses, right=False)
        assert "You scored 0% — not passed (pass mark 80%)" in shown(at)
    assert "You have used all 3 attempts at this quiz" in "\n".join(errors(at))
    assert not at.get("form") and len(rows(courses, QuizAttempt)) == 3


def test_a_quiz_left_unanswered_is_refused_and_not_counted(open_page, courses) -> None:
    at = open_page(COURSE, course="genai-fundamentals")
    at.button(key="enrol").click().run()
    at.switch_page(QUIZ).run()
    at.button(key="FormSubmitter:quiz_form-Submit answers").click().run()
    assert any("has no answer" in e for e in errors(at))
    assert rows(courses, QuizAttempt) == []


def open_lab(open_page):
    at = open_page(COURSE, course="prompt-engineering-basics")
    at.button(key="enrol").click().run()
    at.switch_page(LAB).run()
    assert not at.exception, at.exception
    return at


def test_a_lab_runs_on_the_gateway_and_is_graded(open_page, courses, served_models) -> None:
    at = open_lab(open_page)
    lab_key = next(t.key for t in at.text_area if t.key.startswith("lab_prompt_"))
    at.text_area(key=lab_key).input(GOOD_PROMPT)
    at.button(key="lab_run").click().run()
    assert not at.exception and not at.error, errors(at)
    assert "Passed." in shown(at)
    # The answer is shown as safe Markdown (portal.ui.untrusted_markdown), no longer as a code block.
    assert any(unescaped(m.value).startswith("Echo: Write a short onboarding checklist") for m in at.markdown)
    assert [u.source for u in rows(courses, UsageEvent)] == ["training lab"]


@pytest.mark.parametrize(("prompt", "message"), [("", "Write a prompt first"),
                                                 ("x" * 4001, "a lab prompt may have at most 4,000")])
def test_a_bad_lab_prompt_is_refused_and_kept(open_page, courses, served_models, prompt, message) -> None:
    at = open_lab(open_page)
    lab_key = next(t.key for t in at.text_area if t.key.startswith("lab_prompt_"))
    at.text_area(key=lab_key).input(prompt)
    at.button(key="lab_run").click().run()
    assert any(message in e for e in errors(at))
    assert at.text_area(key=lab_key).value == prompt
    assert rows(courses, UsageEvent) == [] and rows(courses, LabAttempt) == []


def test_a_gateway_failure_in_a_lab_is_explained_and_the_prompt_kept(open_page, courses, served_models,
                                                                    fake_gateway) -> None:
    at = open_lab(open_page)
    lab_key = next(t.key for t in at.text_area if t.key.startswith("lab_prompt_"))
    at.text_area(key=lab_key).input(GOOD_PROMPT)
    fake_gateway.fail_always("500")
    at.button(key="lab_run").click().run()
    assert any(e.startswith("The model did not answer in full:") for e in errors(at))
    assert at.text_area(key=lab_key).value == GOOD_PROMPT
    assert [u.status for u in rows(courses, UsageEvent)] == ["failed"] and rows(courses, LabAttempt) == []


def test_verifying_codes(open_page, courses, user_with_role) -> None:
    at = open_page(CERTIFICATES)
    at.text_input(key="verify_code").input("CERT-NOPE-NOPE-NOPE")
    at.button(key="FormSubmitter:verify_form-Verify").click().run()
    assert any("No certificate has the code 'CERT-NOPE-NOPE-NOPE'" in e for e in errors(at))
    from tests.training.conftest import complete

    with Session(courses, expire_on_commit=False) as session:
        code = complete(session, user_with_role("admin")).certificate.code
    at.text_input(key="verify_code").input(code.lower())
    at.button(key="FormSubmitter:verify_form-Verify").click().run()
    assert "Ada Admin" in at.success[0].value and "Generative AI fundamentals for everyone" in at.success[0].value


def test_the_coe_assigns_a_course_and_the_learner_sees_it_due(open_page, courses, open_portal,
                                                             user_with_role) -> None:
    at = open_page(ASSIGN, role="reviewer")
    at.selectbox(key="assign_course").set_value("responsible-ai")
    at.radio(key="assign_kind").set_value("department")
    at.text_input(key="assign_target").input("Finance")
    at.button(key="FormSubmitter:assign_form-Assign").click().run()
    assert not at.error, errors(at)
    assert "Assigned Responsible AI and data classification to department Finance" in shown(at)
    assert at.dataframe[0].value["people"].tolist() == [1]
    learner = open_page(COURSES, role="viewer")  # Finn Finance, the first viewer by e-mail
    table = learner.dataframe[0].value
    assert table.loc[0, "course"] == "Responsible AI and data classification" and table.loc[0, "due"]
    assert "assigned, due" in shown(learner)  # assigned courses come first, so it is the one picked


@pytest.mark.parametrize("page", [ASSIGN, DASHBOARD])
def test_learners_cannot_open_the_coe_pages(open_portal, user_with_role, courses, page) -> None:
    # Not in a learner's menu; opened directly, as a bookmarked URL would be.
    at = open_portal(user_with_role("contributor"), script=str(REPO_ROOT / "portal" / page))
    assert [e.value for e in at.error] == [
        "Your role (contributor) may not assign courses and see the training dashboard (the CoE team); that needs "
        "the reviewer role. Ask a portal admin if you need it."]


def test_the_dashboard_shows_completions_with_csv_and_xapi_downloads(open_page, courses, user_with_role) -> None:
    from tests.training.conftest import complete

    with Session(courses, expire_on_commit=False) as session:
        complete(session, user_with_role("viewer"))
    at = open_page(DASHBOARD, role="admin")
    assert not at.error, errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Completed"] == "1" and metrics["Learners"] == "1"
    course_table = at.dataframe[0].value
    assert course_table.loc[0, "group"] == "Generative AI fundamentals for everyone"
    assert course_table.loc[0, "rate"] == 1.0
    assert [b.key for b in at.download_button] == ["by_course_csv"]  # tabs are lazy: only the open one is drawn
    for tab, key in [("By department", "by_department_csv"), ("By team", "by_team_csv"),
                     ("Over time", "completions_csv"), ("Quiz scores", "quiz_scores_csv"),
                     ("Export", "statements_jsonl")]:
        at.session_state["dashboard_tab"] = tab
        at.run()
        assert not at.exception and [b.key for b in at.download_button] == [key], tab


@pytest.mark.parametrize(("role", "links"), [("viewer", ["Training"]), ("contributor", ["Training"]),
                                             ("reviewer", ["Training", "Training dashboard"]),
                                             ("admin", ["Training", "Training dashboard"])])
def test_home_links_to_training_and_the_coe_to_its_dashboard(open_portal, user_with_role, role, links) -> None:
    at = open_portal(user_with_role(role))
    labels = [link.value.split(" — ")[0] for link in at.get("page_link")]
    assert [label for label in labels if label.startswith("Training")] == links


def test_the_sandbox_names_the_course_that_unlocks_confidential_data(open_portal, user_with_role, courses,
                                                                     served_models, fake_gateway,
                                                                     monkeypatch) -> None:
    from catalog.models import CatalogModel, DataClassification
    from tests.training.conftest import complete
    from tests.views.support import SANDBOX, chat_requests, send

    monkeypatch.setenv("PORTAL_TRAINING_REQUIRED_COURSES", '{"sandbox_confidential": ["responsible-ai"]}')
    with Session(courses) as session:
        model = session.exec(select(CatalogModel).where(CatalogModel.name == "fake-small")).one()
        model.max_classification = int(DataClassification.CONFIDENTIAL)
        session.add(model)
        session.commit()
    viewer = user_with_role("viewer")
    at = open_portal(viewer)
    at.switch_page(SANDBOX).run()
    at.selectbox(key="sandbox_classification").set_value(DataClassification.CONFIDENTIAL).run()
    send(at, "Summarise the attached contract terms")
    assert any("To use confidential or restricted data in the sandbox you need a valid certificate of the course "
               "'Responsible AI and data classification'" in e for e in errors(at))
    assert chat_requests(fake_gateway) == []
    assert at.text_area(key="sandbox_draft").value == "Summarise the attached contract terms"
    with Session(courses, expire_on_commit=False) as session:
        complete(session, viewer, "responsible-ai")
    send(at, "Summarise the attached contract terms")
    assert not at.error and len(chat_requests(fake_gateway)) == 1
