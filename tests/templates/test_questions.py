"""Copier questions become typed form fields; answers are checked per field and the good ones kept."""

from __future__ import annotations

import pytest

from portal.core.errors import InvalidInput
from templates.questions import InvalidAnswers, Question, check_answers, default_answers, parse_questions
from templates.source import NotATemplate, read_template

CONFIG = {
    "_subdirectory": "project",
    "name": {"type": "str", "help": "Project name", "default": "Demo",
             "validator": "{% if name | length < 3 %}At least 3 characters.{% endif %}"},
    "slug": {"type": "str", "default": "{{ name | lower }}"},
    "workers": {"type": "int", "default": 4, "validator": "{% if workers > 16 %}At most 16.{% endif %}"},
    "ratio": {"type": "float", "default": 0.5},
    "debug": {"type": "bool", "default": False},
    "flavour": {"type": "str", "choices": {"Vanilla ice": "vanilla", "Dark chocolate": "chocolate"},
                "default": "vanilla"},
    "extras": {"type": "str", "multiselect": True, "choices": ["docs", "ci", "docker"], "default": ["ci"]},
    "config": {"type": "yaml", "default": "a: 1\n"},
    "payload": {"type": "json", "default": "{\"x\": [1, 2]}"},
    "model": {"type": "str", "default": "m1"},
    "legacy": "plain default",
    "docs_host": {"type": "str", "default": "docs.example.com", "when": "{{ 'docs' in extras }}"},
}
MODELS = {"chat": ["m1", "m2"], "embedding": ["e1"]}


@pytest.fixture
def questions() -> list[Question]:
    return parse_questions(CONFIG)


def test_each_question_type_becomes_a_field(questions) -> None:
    by_name = {q.name: q for q in questions}
    assert [q.name for q in questions][:3] == ["name", "slug", "workers"]
    assert "_subdirectory" not in by_name
    assert [by_name[n].type for n in ("name", "workers", "ratio", "debug", "config", "payload", "legacy")] == [
        "str", "int", "float", "bool", "yaml", "json", "str"]
    assert by_name["flavour"].choices == [("Vanilla ice", "vanilla"), ("Dark chocolate", "chocolate")]
    assert by_name["extras"].multiselect and by_name["extras"].choices[0] == ("docs", "docs")
    assert by_name["name"].help == "Project name"
    assert by_name["model"].model_kind == "chat" and by_name["name"].model_kind == ""
    assert Question.from_dict(by_name["flavour"].to_dict()) == by_name["flavour"]


def test_defaults_are_typed_and_templated_defaults_use_earlier_answers(questions) -> None:
    defaults = default_answers(questions, MODELS)
    assert defaults["slug"] == "demo"
    assert defaults["config"] == {"a": 1} and defaults["payload"] == {"x": [1, 2]}
    assert defaults["extras"] == ["ci"] and defaults["debug"] is False


def test_a_model_default_outside_the_catalog_falls_back_to_an_offered_model(questions) -> None:
    assert default_answers(questions, {"chat": ["m2"]})["model"] == "m2"


def test_valid_answers_come_back_typed(questions) -> None:
    answers = check_answers(questions, {"name": "Billing", "workers": "8", "ratio": "0.25", "debug": "true",
                                        "extras": ["docs"], "config": "b: [1, 2]", "model": "m2"}, MODELS)
    assert answers["workers"] == 8 and answers["ratio"] == 0.25 and answers["debug"] is True
    assert answers["config"] == {"b": [1, 2]} and answers["docs_host"] == "docs.example.com"
    assert answers["slug"] == "billing"  # not given: the default, rendered with the answers before it


def test_a_question_whose_when_is_false_is_not_asked(questions) -> None:
    assert "docs_host" not in check_answers(questions, {"extras": ["ci"]}, MODELS)


@pytest.mark.parametrize(("answers", "field", "message"), [
    ({"name": "ab"}, "name", "At least 3 characters."),
    ({"workers": "many"}, "workers", "Enter a whole number (got 'many')."),
    ({"workers": 2.5}, "workers", "Enter a whole number (got 2.5)."),
    ({"workers": 99}, "workers", "At most 16."),
    ({"ratio": "half"}, "ratio", "Enter a number (got 'half')."),
    ({"flavour": "mint"}, "flavour", "'mint' is not a choice; pick from vanilla, chocolate."),
    ({"extras": ["ci", "k8s"]}, "extras", "'k8s' is not a choice; pick from docs, ci, docker."),
    ({"config": "a: [1, 2"}, "config", "Line 1: this is not valid YAML"),
    ({"config": "a: &x [1]\nb: *x"}, "config", "Line 1: YAML anchors and aliases (&name, *name) are not allowed"),
    ({"payload": "{x: 1}"}, "payload", "Not valid JSON: line 1, column 2"),
    ({"model": "m9"}, "model", "Pick an approved chat model; 'm9' is not one."),
])
def test_each_bad_answer_is_named_with_its_reason(questions, answers, field, message) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(questions, answers, MODELS)
    assert list(caught.value.errors) == [field]
    assert caught.value.errors[field].startswith(message)


def test_several_bad_answers_are_reported_together(questions) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(questions, {"name": "x", "workers": "y", "ratio": "0.75"}, MODELS)
    assert set(caught.value.errors) == {"name", "workers"}


def test_no_approved_model_is_a_clear_error(questions) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(questions, {}, {"chat": []})
    assert caught.value.errors == {"model": "No approved chat model is available to you in the catalog."}


def test_an_unknown_question_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match="type 'color'"):
        parse_questions({"c": {"type": "color"}})


def test_validators_run_sandboxed() -> None:
    questions = parse_questions({"x": {"default": "a", "validator": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}})
    with pytest.raises(InvalidInput, match="failed"):
        check_answers(questions, {})


@pytest.mark.parametrize("file, text, message", [
    ("copier.yml", "name:\n  type: str\ncolour:\n  type: color\n",
     "copier.yml, line 4: colour.type: type 'color' is not one copier knows; use str, int"),
    ("copier.yml", "name: a\nname: b\n", "copier.yml, line 2: name: 'name' appears twice in the same mapping"),
    ("copier.yml", "- name\n", "copier.yml, line 1: should be a mapping of questions and settings"),
    ("copier.yml", "name: [a\n", "copier.yml, line 2: this is not valid YAML"),
    ("portal.yml", "display_name: X\nsumary: typo\n", "portal.yml, line 2: sumary: is not a known field"),
    ("portal.yml", "tags: [a]\nmodel_questions:\n  model: [chat]\n", "portal.yml, line 3: model_questions.model: "
                                                                        "should be text"),
])
def test_a_bad_template_file_is_named_with_its_line(tmp_path, file: str, text: str, message: str) -> None:
    (tmp_path / "copier.yml").write_text("name:\n  type: str\n")
    (tmp_path / file).write_text(text)
    with pytest.raises(NotATemplate) as caught:
        read_template(tmp_path)
    assert str(caught.value).startswith(message), str(caught.value)
