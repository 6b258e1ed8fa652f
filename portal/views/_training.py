"""Parts the training pages share: which course is open, and links between the course, quiz and lab pages."""

from __future__ import annotations

import streamlit as st

COURSES_PAGE = "views/training.py"
COURSE_PAGE = "views/training_course.py"
QUIZ_PAGE = "views/training_quiz.py"
LAB_PAGE = "views/training_lab.py"
CERTIFICATES_PAGE = "views/training_certificates.py"
OPEN_COURSE = "training_course_slug"


def open_course_slug() -> str | None:
    """The course the page is about: ?course=<slug>, or the one opened last in this session."""
    slug = st.query_params.get("course") or st.session_state.get(OPEN_COURSE)
    if slug:
        st.session_state[OPEN_COURSE] = slug
    return slug


def require_course_slug() -> str:
    """The open course, or stop the page with a pointer to the course list."""
    slug = open_course_slug()
    if not slug:
        st.info("Pick a course first.")
        st.page_link(COURSES_PAGE, label="Training courses", icon=":material/school:")
        st.stop()
    return slug


def course_links(slug: str, *, quiz: bool = True, labs: bool = False) -> None:
    """Links to the course's lessons, quiz and labs."""
    columns = st.columns(4)
    columns[0].page_link(COURSES_PAGE, label="All courses", icon=":material/arrow_back:")
    columns[1].page_link(COURSE_PAGE, label="Lessons", icon=":material/menu_book:", query_params={"course": slug})
    if quiz:
        columns[2].page_link(QUIZ_PAGE, label="Quiz", icon=":material/quiz:", query_params={"course": slug})
    if labs:
        columns[3].page_link(LAB_PAGE, label="Labs", icon=":material/science:", query_params={"course": slug})
