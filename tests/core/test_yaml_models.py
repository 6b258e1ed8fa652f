"""One loader for every YAML file people write: validated models, every problem named by file, line and field."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from portal.core.errors import InvalidInput
from portal.core.yaml_models import YamlFileError, load_model


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    minutes: int = 1
    checks: list[str] = Field(default_factory=list)

    @field_validator("checks")
    @classmethod
    def _no_empty_check(cls, checks: list[str]) -> list[str]:
        for number, check in enumerate(checks, start=1):
            if not check:
                raise ValueError(f"check {number}: is empty")
        return checks


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    published: dt.date | None = None
    steps: list[Step]


def problems(text: str, model: type = Recipe) -> list[tuple[int, str, str]]:
    with pytest.raises(YamlFileError) as caught:
        load_model(text, model, source="recipe.yml")
    assert isinstance(caught.value, InvalidInput)  # pages show it like any other input error
    assert all(p.source == "recipe.yml" for p in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_a_valid_file_becomes_the_model() -> None:
    recipe = load_model("title: Tea\npublished: 2026-01-02\nsteps:\n  - name: boil\n    minutes: 4\n", Recipe,
                        source="recipe.yml")
    assert recipe == Recipe(title="Tea", published=dt.date(2026, 1, 2), steps=[Step(name="boil", minutes=4)])


def test_a_wrong_type_deep_in_a_list_names_its_own_line() -> None:
    text = "title: Tea\nsteps:\n  - name: boil\n  - name: steep\n    minutes: long\n"
    [(line, field, message)] = problems(text)
    assert (line, field) == (5, "steps.1.minutes") and "integer" in message


def test_a_missing_field_names_the_line_of_its_mapping() -> None:
    assert problems("title: Tea\nsteps:\n  - name: boil\n  - minutes: 3\n") == [(4, "steps.1.name", "is required")]


def test_an_unknown_key_is_named_with_its_line() -> None:
    assert problems("title: Tea\ncolour: green\nsteps: []\n") == [
        (2, "colour", "is not a known field; check the spelling")]


def test_every_problem_is_listed_in_line_order_and_the_message_names_the_file() -> None:
    text = "steps:\n  - name: [boil]\n  - name: steep\n    minutes: x\ntitle: 3\n"
    with pytest.raises(YamlFileError) as caught:
        load_model(text, Recipe, source="recipe.yml")
    assert str(caught.value).splitlines() == [
        "recipe.yml, line 2: steps.0.name: should be text; put the value in quotes",
        "recipe.yml, line 4: steps.1.minutes: Input should be a valid integer, unable to parse string as an integer",
        "recipe.yml, line 5: title: should be text; put the value in quotes"]


def test_a_validator_naming_a_list_item_points_at_that_item() -> None:
    text = "title: Tea\nsteps:\n  - name: boil\n    checks:\n      - hot\n      - ''\n"
    assert problems(text) == [(6, "steps.0.checks", "check 2: is empty")]


@pytest.mark.parametrize("text, line, words", [
    ("title: &t Tea\nsteps: []\n", 1, "YAML anchors and aliases"),
    ("title: Tea\nsteps: [\n", 3, "this is not valid YAML"),
    ("title: Tea\nsteps: []\ntitle: Coffee\n", 3, "'title' appears twice in the same mapping (first on line 1)"),
    ("title: !!python/object/apply:os.system [ls]\nsteps: []\n", 1, "the tag !!python/object/apply:os.system"),
    ("title: Tea\nsteps: []\npublished: 2024-13-45\n", 3, "is not a valid date"),
    ("", 1, "should be a mapping of fields"),
    ("- title: Tea\n", 1, "should be a mapping of fields"),
])
def test_unreadable_yaml_is_refused_with_its_line(text: str, line: int, words: str) -> None:
    [(found_line, _, message)] = problems(text)
    assert found_line == line and words in message, message


def test_a_list_of_models_and_a_size_limit() -> None:
    steps = load_model("- name: a\n- name: b\n  minutes: 2\n", list[Step], source="steps.yml")
    assert [s.minutes for s in steps] == [1, 2]
    assert problems("- name: a\n- {}\n", list[Step]) == [(2, "1.name", "is required")]
    with pytest.raises(YamlFileError, match=r"recipe.yml is 2,000 bytes; a file here may be at most 1 KB"):
        load_model("#" * 2000, Recipe, source="recipe.yml", max_bytes=1024)


def test_a_reader_can_word_a_problem_its_own_way_and_raise_its_own_error() -> None:
    class RecipeFileError(YamlFileError):
        pass

    with pytest.raises(RecipeFileError, match="recipe.yml, line 1: colour: is not a field of a recipe"):
        load_model("colour: x\n", Recipe, source="recipe.yml", error=RecipeFileError,
                   messages={"extra_forbidden": "is not a field of a recipe"})


def test_the_error_pickles_with_its_problems() -> None:
    import pickle

    with pytest.raises(YamlFileError) as caught:
        load_model("title: 1\nsteps: []\n", Recipe, source="recipe.yml")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.problems) == (str(caught.value), caught.value.problems)
