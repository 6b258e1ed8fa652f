"""The fork form: one widget per copier question, each with its error under it, values kept between runs."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
import yaml

from portal.core.errors import InvalidInput
from templates.questions import Question, is_asked

KEY_PREFIX = "tpl_q_"


def widget_key(template: str, question: Question) -> str:
    return f"{KEY_PREFIX}{template}_{question.name}"


def label_of(question: Question) -> str:
    return question.name.replace("_", " ").capitalize()


def is_computed(question: Question) -> bool:
    """A str default that is a Jinja expression: left empty, it follows the other answers (as in copier)."""
    return question.type in ("str", "path") and isinstance(question.default, str) and "{{" in question.default


def initial_value(question: Question, model_options: dict[str, list[str]]) -> Any:
    """What the widget starts with: the question's default in the widget's own terms."""
    default = question.default
    if question.model_kind:
        offered = model_options.get(question.model_kind, [])
        return default if default in offered else (offered[0] if offered else None)
    if is_computed(question):
        return ""
    if question.type in ("yaml", "json"):
        if isinstance(default, str) or default is None:
            return default or ""
        return json.dumps(default, indent=2) if question.type == "json" else yaml.safe_dump(default, sort_keys=False)
    if question.multiselect:
        return list(default or [])
    if question.type == "int":
        return int(default or 0)
    if question.type == "float":
        return float(default or 0.0)
    if question.type == "bool":
        return bool(default)
    return default if question.choices else ("" if default is None else str(default))


def draw_question(template: str, question: Question, model_options: dict[str, list[str]],
                  prefill: dict[str, Any] | None = None) -> None:
    """The question's widget, its value in session state under widget_key; `prefill` overrides the default."""
    key = widget_key(template, question)
    prefill = prefill or {}
    st.session_state.setdefault(key, prefill[question.name] if question.name in prefill
                                else initial_value(question, model_options))
    label, help_text = label_of(question), question.help or None
    if question.model_kind:
        offered = model_options.get(question.model_kind, [])
        st.selectbox(label, offered, key=key, help=(help_text or "") + " Only approved catalog models are offered.")
    elif question.choices:
        labels = {value: text for text, value in question.choices}
        widget = st.multiselect if question.multiselect else st.selectbox
        widget(label, list(labels), key=key, help=help_text, format_func=lambda v: labels.get(v, str(v)))
    elif question.type == "bool":
        st.checkbox(label, key=key, help=help_text)
    elif question.type == "int":
        st.number_input(label, step=1, key=key, help=help_text)
    elif question.type == "float":
        st.number_input(label, step=0.1, format="%g", key=key, help=help_text)
    elif question.type in ("yaml", "json") or question.multiline:
        st.text_area(label, key=key, help=help_text, height=140)
    else:
        placeholder = "computed from the other answers" if is_computed(question) else None
        st.text_input(label, key=key, help=help_text, placeholder=placeholder,
                      type="password" if question.secret else "default")


def raw_answers(template: str, questions: list[Question]) -> dict[str, Any]:
    """The widgets' values as the service expects them; empty computed fields are left to their default."""
    answers = {}
    for question in questions:
        value = st.session_state.get(widget_key(template, question))
        if is_computed(question) and not str(value or "").strip():
            continue
        answers[question.name] = value
    return answers


def draw_form(template: str, questions: list[Question], model_options: dict[str, list[str]],
              errors: dict[str, str], prefill: dict[str, Any] | None = None) -> None:
    """Every question asked with the current answers, each followed by its error if it has one."""
    current = raw_answers(template, questions)
    for question in questions:
        if isinstance(question.when, str) and not _asked(question, current):
            continue
        draw_question(template, question, model_options, prefill)
        if question.name in errors:
            st.error(f"{label_of(question)}: {errors[question.name]}", icon=":material/error:")


def _asked(question: Question, answers: dict[str, Any]) -> bool:
    try:
        return is_asked(question, answers)
    except InvalidInput:  # a `when` that cannot be judged with these answers: show the question
        return True
