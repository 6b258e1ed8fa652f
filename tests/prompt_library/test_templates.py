"""Variable detection, rendering and save-time validation for both syntaxes (and trusted jinja2)."""

from __future__ import annotations

import pytest

from prompt_library.templates import (
    MAX_TEMPLATE_CHARS,
    Message,
    PromptTemplateError,
    Variable,
    as_text,
    detect_variables,
    render,
    validate,
)
from portal.core.errors import InvalidInput

M = Message


@pytest.mark.parametrize("template_format, system, user, expected", [
    ("f-string", "You help {team}.", "Answer {question} in {language}", ["language", "question", "team"]),
    ("mustache", "You help {{team}}.", "{{#items}}- {{.}}\n{{/items}}Q: {{question}}", ["items", "question", "team"]),
])
def test_variables_are_detected(template_format, system, user, expected) -> None:
    assert detect_variables([M("system", system), M("user", user)], template_format) == expected


def test_both_syntaxes_render_the_values() -> None:
    assert render([M("system", "Tone: {tone}"), M("user", "Write about {topic}")], "f-string",
                  {"tone": "warm", "topic": "pensions"}) == [
        {"role": "system", "content": "Tone: warm"}, {"role": "user", "content": "Write about pensions"}]
    rendered = render([M("user", "{{#points}}* {{.}}\n{{/points}}for {{who}}")], "mustache",
                      {"points": ["a", "b"], "who": "Kim"})
    assert rendered == [{"role": "user", "content": "* a\n* b\nfor Kim"}]
    assert as_text(rendered) == "[user]\n* a\n* b\nfor Kim"


def test_literal_braces_stay_literal_in_f_strings() -> None:
    rendered = render([M("user", 'Reply as JSON: {{"name": "{name}"}}')], "f-string", {"name": "Ana"})
    assert rendered[0]["content"] == 'Reply as JSON: {"name": "Ana"}'


def test_rendering_refuses_missing_values() -> None:
    with pytest.raises(InvalidInput, match="Fill in 'topic'"):
        render([M("user", "Write about {topic}")], "f-string", {"topic": "  "})


@pytest.mark.parametrize("template_format, messages, message", [
    ("f-string", [M("system", "ok"), M("user", "line one\nHello {name")],
     "message 2 (user), line 2: '{name' is not closed"),
    ("f-string", [M("user", "a }\n")], "message 1 (user), line 1: '}' has no opening '{'"),
    ("f-string", [M("user", "{user.name}")], "line 1: '{user.name}' is not a variable name"),
    ("mustache", [M("user", "a\n{{#items}}\nno end")], 'the tag "items" was never closed was opened at line 2'),
    ("mustache", [M("user", "x\n{{name")], "unclosed tag at line 2"),
    ("f-string", [M("user", "x" * (MAX_TEMPLATE_CHARS + 1))], "at most 20,000 fit"),
    ("f-string", [M("robot", "hi")], "role 'robot' is not one of"),
    ("jinja2", [M("user", "{{ name }}")], "only prompts an admin marked trusted"),
    ("f-string", [M("user", "  ")], "the prompt has no message"),
])
def test_invalid_templates_name_the_problem(template_format, messages, message) -> None:
    with pytest.raises(PromptTemplateError) as raised:
        validate(messages, template_format, [], trusted=False)
    assert message in raised.value.message


def test_described_variables_must_be_used() -> None:
    with pytest.raises(PromptTemplateError, match="variable 'tone' is described but no message uses it"):
        validate([M("user", "Write about {topic}")], "f-string", [Variable("tone"), Variable("topic")], trusted=False)


def test_trusted_prompts_may_use_jinja2_and_its_errors_name_the_line() -> None:
    assert validate([M("user", "{% for x in items %}{{ x }}{% endfor %}")], "jinja2", [], trusted=True) == ["items"]
    with pytest.raises(PromptTemplateError, match=r"line 2: .*endif"):
        validate([M("user", "a\n{% if x %}\nb")], "jinja2", [], trusted=True)
