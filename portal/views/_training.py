"""Parts the training pages share: which course is open, and links between the course, quiz and lab pages."""

from __future__ import annotations

import streamlit as st

from portal.views import _links as links

COURSES_PAGE = "views/training.py"
CERTIFICATES_PAGE = "views/training_certificates.py"


def open_course_slug() -> str | None:
    """The course the page is about: ?course=<slug>, or the one opened last in this session."""
    slug = links.course.read()
    if slug:
        links.course.keep(slug)
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
    links.course(slug).show("Lessons", icon=":material/menu_book:", container=columns[1])
    if quiz:
        links.quiz(slug).show("Quiz", icon=":material/quiz:", container=columns[2])
    if labs:
        links.lab(slug).show("Labs", icon=":material/science:", container=columns[3])
