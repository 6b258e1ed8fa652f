"""Values from the address bar (?model=, ?template=, ?course=, ?prompt=, ?code=, ?use_case=) are shown as typed, never as Markdown."""

from __future__ import annotations

import pytest

from tests.views.support import unescaped

HOSTILE = ["[x](javascript:alert(1))", "![](http://evil.example/x.png)", "**bold**"]
PAGES = {  # page, query parameter, role that may open it
    "model card": ("views/model_card.py", "model", "viewer"),
    "template": ("views/template.py", "template", "viewer"),
    "course": ("views/training_course.py", "course", "viewer"),
    "quiz": ("views/training_quiz.py", "course", "viewer"),
    "lab": ("views/training_lab.py", "course", "viewer"),
    "use case": ("views/use_case.py", "use_case", "viewer"),
}


def assert_plain(markdown: str, value: str) -> None:
    """The value is in the message, every Markdown character in it escaped."""
    assert value in unescaped(markdown), markdown
    for special in "[]()!*":
        assert f"\\{special}" in markdown or special not in value
    assert value not in markdown, f"shown as Markdown: {markdown!r}"


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("page", list(PAGES))
def test_a_hostile_value_in_the_address_bar_is_shown_as_text(open_page, page, value):
    script, parameter, role = PAGES[page]
    at = open_page(role, script, **{parameter: value})
    assert len(at.error) == 1, [e.value for e in at.error]
    assert_plain(at.error[0].value, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_prompt_slug_is_not_shown_as_markdown(open_page, value):
    at = open_page("viewer", "views/prompt.py", prompt=value)
    assert len(at.error) == 1 and value not in at.error[0].value


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_certificate_code_is_shown_as_text(open_page, value):
    at = open_page("viewer", "views/training_certificates.py", code=value)
    at.button(key="FormSubmitter:verify_form-Verify").click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    assert_plain(at.error[0].value, value.upper())
