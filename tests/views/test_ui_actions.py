"""portal.ui.run_action: the one action → message → rerun path every page uses."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from tests.views.support import unescaped


def action_page() -> None:
    """A page with a draft and a Save button whose service succeeds, refuses the draft, or fails unexpectedly."""
    import streamlit as st

    from portal.core.errors import InvalidInput
    from portal.ui import run_action, show_pending_message

    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    show_pending_message()
    draft = st.text_area("Draft", key="draft")

    def save() -> str:
        if draft.startswith("bad"):
            raise InvalidInput(f"The draft {draft!r} is not acceptable")
        if draft.startswith("lines"):
            raise InvalidInput("cases.yaml, line 2: checks[0].kind: unknown\n- cases.yaml, line 7: <b>x</b>")
        if draft == "boom":
            raise RuntimeError("internal detail 42")
        return draft.upper()

    if st.button("Save", key="save"):
        run_action(save, success=lambda saved: f"Saved {saved}.")


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_function(action_page, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def save(at: AppTest, draft: str) -> int:
    """Type the draft and press Save; the number of script runs the click caused."""
    before = at.session_state["runs"]
    at.text_area(key="draft").input(draft)
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    return at.session_state["runs"] - before


def test_success_reruns_and_shows_the_message_once(page) -> None:
    assert save(page, "fine") == 2  # the click's run, then the rerun that shows the saved state
    assert [s.value for s in page.success] == ["Saved FINE."]
    assert not page.error
    page.run()
    assert not page.success  # once, not on every later run


def test_a_domain_error_is_shown_as_plain_text_and_keeps_the_draft(page) -> None:
    hostile = "bad [click](javascript:alert(1)) **loud**"
    assert save(page, hostile) == 1  # no rerun: the page stays as the user left it
    assert [unescaped(e.value) for e in page.error] == [f"The draft {hostile!r} is not acceptable"]
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in page.error[0].value  # escaped: no link, no bold
    assert page.text_area(key="draft").value == hostile
    assert not page.success
    page.run()
    assert not page.success


def test_an_unexpected_error_is_logged_with_its_trace_not_shown(page, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="portal.ui"):
        assert save(page, "boom") == 1
    shown = page.error[0].value
    assert "Something went wrong on our side (reference" in shown
    assert "internal detail 42" not in shown and "Traceback" not in shown
    record = next(r for r in caplog.records if r.name == "portal.ui")
    assert record.exc_info is not None and "internal detail 42" in caplog.text and "Traceback" in caplog.text
    reference = shown.split("reference ")[1][:8]
    assert reference in record.getMessage()
    assert page.text_area(key="draft").value == "boom"
    assert not page.success


def test_a_message_of_several_problems_keeps_one_line_per_problem_as_plain_text(page) -> None:
    assert save(page, "lines") == 1
    shown = page.error[0].value
    first, second = shown.split("  \n")  # a Markdown hard break between the problems, not a space
    assert unescaped(first) == "cases.yaml, line 2: checks[0].kind: unknown"
    assert second.startswith("\\-")  # a problem starting with "-" is not turned into a list item
    assert unescaped(second) == "- cases.yaml, line 7: <b>x</b>" and "\\<b\\>" in second
