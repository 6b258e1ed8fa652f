"""Reading people's YAML safely (the catalog, courses, prompts as code, template answers share it) and writing
YAML that reads back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core import safe_yaml


@pytest.mark.parametrize("text, line, reason", [
    ("a: &x [1, 2]\nb: *x\n", 1, "YAML anchors and aliases (&name, *name) are not allowed"),
    ("a: 1\nb: &y 2\n", 2, "YAML anchors and aliases"),  # an anchor alone is refused too: no half measures
    ("a: [1, 2\n", 2, "this is not valid YAML"),
    ("a: 1\n---\nb: 2\n", 2, "this is not valid YAML"),  # one document per file
    ("a: 1\nb: x\x07\n", 2, "the control character U+0007 is not allowed"),
    ("a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 25)), 21, "nested more than 20 levels"),
])
def test_problems_name_the_line_and_the_reason(text, line, reason) -> None:
    with pytest.raises(safe_yaml.YamlProblem) as raised:
        safe_yaml.compose(text)
    assert (raised.value.line, reason in raised.value.reason) == (line, True), raised.value


def test_a_caller_can_ask_for_shallower_files() -> None:
    # Every node counts, the scalar at the bottom too: {a: {b: 1}} is three deep.
    with pytest.raises(safe_yaml.YamlProblem, match="nested more than 3 levels"):
        safe_yaml.compose("a: {b: {c: 1}}", max_depth=3)
    assert safe_yaml.construct(safe_yaml.compose("a: {b: 1}", max_depth=3)) == {"a": {"b": 1}}


def test_empty_text_is_no_document() -> None:
    assert safe_yaml.compose("") is None and safe_yaml.compose("# only a comment\n") is None


def test_line_of_points_at_the_field_and_the_list_item() -> None:
    root = safe_yaml.compose("title: x\nchecks:\n  - kind: contains\n  - kind: regex\n    value: '['\n")
    assert safe_yaml.line_of(root, ("checks", 1, "value")) == 5
    assert safe_yaml.line_of(root, ("checks", 0)) == 3
    assert safe_yaml.line_of(root, ("missing",)) == 1


def test_dump_never_writes_anchors_even_for_a_shared_object() -> None:
    shared = ["gpt-4o-mini", "llama-3.1-70b"]
    text = safe_yaml.dump({"recommended": shared, "fallback": shared, "note": "two\nlines"})
    assert "&" not in text and "*" not in text
    assert "note: |-\n  two\n  lines" in text  # multi-line text as a literal block, as people write it
    assert safe_yaml.construct(safe_yaml.compose(text)) == {"recommended": shared, "fallback": shared,
                                                           "note": "two\nlines"}


plain_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
documents = st.recursive(st.none() | st.booleans() | st.integers() | plain_text,
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(plain_text, inner, max_size=4),
                         max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_what_dump_writes_compose_reads_back_unchanged(document) -> None:
    assert safe_yaml.construct(safe_yaml.compose(safe_yaml.dump(document))) == document
