"""YAML files people write, read into validated pydantic models with every problem located by file and line.

One reader for the catalog, prompts as code, courses and templates: `safe_yaml` composes the text (no anchors,
bounded depth), the node tree is checked for plain YAML (no foreign tags, text keys, no key given twice), the data
is validated, and each pydantic error's `loc` is walked back along the node tree to the line it names.
`load_model` reads a whole file; `read_yaml` and `check_node` serve files whose entries are validated one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from portal.core import safe_yaml
from portal.core.errors import InvalidInput
from portal.core.safe_yaml import YAML_TAG, line_of

M = TypeVar("M")
E = TypeVar("E", bound="YamlFileError")
MAX_FILE_BYTES = 1024 * 1024
MAX_PROBLEMS_SHOWN = 20
# The only YAML types these files hold; !!python/*, !!binary, !!set and merge keys (<<) are refused.
PLAIN_TAGS = frozenset(YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))
# pydantic's wording where a person editing YAML needs other words; a reader may override any of them.
MESSAGES = {"missing": "is required", "extra_forbidden": "is not a known field; check the spelling",
            "string_type": "should be text; put the value in quotes", "model_type": "should be a mapping of fields",
            "model_attributes_type": "should be a mapping of fields", "dict_type": "should be a mapping",
            "list_type": "should be a list"}
# A validator that names a list item ("check 3: ...") points at that item, not at the list.
ITEM_HINT = re.compile(r"^\w+ (\d+):")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a YAML file: the file, the line (1-based), the field path and what is wrong."""

    source: str
    line: int
    message: str
    loc: tuple[str | int, ...] = ()

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.loc)

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}: " + (f"{self.field}: " if self.loc else "") + self.message


class YamlFileError(InvalidInput):
    """A YAML file that cannot be read; `problems` lists every problem found, each with its file and line."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def __reduce__(self) -> tuple:
        return (type(self), (self.message, self.problems))  # crosses back from a child process whole

    @classmethod
    def listing(cls: type[E], problems: Sequence[Problem], *, footer: str = "") -> E:
        """The error whose message lists the problems (the first few) one per line, then the footer."""
        lines = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s).")
        return cls("\n".join([*lines, *([footer] if footer else [])]), problems)


def read_yaml(text: str, *, source: str, max_depth: int = safe_yaml.MAX_DEPTH, max_bytes: int = MAX_FILE_BYTES,
              error: type[YamlFileError] = YamlFileError) -> yaml.Node | None:
    """The composed node tree (None for an empty document), or `error` naming the file and line."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > max_bytes:
        raise error(f"{source} is {size:,} bytes; a file here may be at most {_size(max_bytes)} ({max_bytes:,} "
                    "bytes). Split it into several files.")
    try:
        return safe_yaml.compose(text, max_depth=max_depth)
    except safe_yaml.YamlProblem as problem:
        raise error.listing([Problem(source, problem.line, problem.reason)]) from None


def _size(limit: int) -> str:
    return f"{round(limit / 2**20, 1):g} MB" if limit >= 2**20 else f"{limit // 1024} KB"


def load_model(text: str, model: type[M], *, source: str, max_depth: int = safe_yaml.MAX_DEPTH,
               max_bytes: int = MAX_FILE_BYTES, error: type[YamlFileError] = YamlFileError,
               messages: Mapping[str, str] | None = None) -> M:
    """A YAML file validated as `model` (a pydantic model or any type pydantic validates, such as list[Model])."""
    root = read_yaml(text, source=source, max_depth=max_depth, max_bytes=max_bytes, error=error)
    if root is None:  # an empty file: validating None says what the model wanted, on line 1
        root = yaml.ScalarNode(YAML_TAG + "null", "", yaml.Mark(source, 0, 0, 0, None, None))
    return validate_node(root, model, source=source, error=error, messages=messages)


def validate_node(node: yaml.Node, model: type[M], *, source: str, error: type[YamlFileError] = YamlFileError,
                  messages: Mapping[str, str] | None = None) -> M:
    """The node validated as `model`, or `error` listing every problem by line."""
    value, problems = check_node(node, model, source=source, messages=messages)
    if problems:
        raise error.listing(problems)
    return value  # type: ignore[return-value]  # no problems: validated


def check_node(node: yaml.Node, model: type[M], *, source: str, messages: Mapping[str, str] | None = None
               ) -> tuple[M | None, list[Problem]]:
    """(the validated value, []) or (None, every problem sorted by line) — for files that list all at once."""
    data, problems = _data(node, source)
    if data is _REFUSED:
        return None, problems
    reported = {problem.loc[:1] for problem in problems}  # a field refused above is missing below: say it once
    try:
        value = _adapter(model).validate_python(data)
    except ValidationError as exc:
        problems += [_problem(node, e, source, {**MESSAGES, **(messages or {})}) for e in exc.errors()
                     if tuple(e["loc"][:1]) not in reported]
        value = None
    return (None if problems else value), sorted(problems, key=lambda p: p.line)


@lru_cache(maxsize=64)
def _adapter(model: Any) -> TypeAdapter:
    return TypeAdapter(model)


_REFUSED = object()


def _data(node: yaml.Node, source: str) -> tuple[Any, list[Problem]]:
    """Python data from the node; a mapping's refused fields are left out (and reported) so the rest is checked."""
    if not isinstance(node, yaml.MappingNode) or node.tag != YAML_TAG + "map":
        if found := node_problem(node):
            return _REFUSED, [Problem(source, *found)]
        return _construct(node, source, ())
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        if found := node_problem(key) or _key_problem(key, seen) or node_problem(value):
            problems.append(Problem(source, found[0], found[1], (name,)))
            continue
        constructed, refused = _construct(value, source, (name,), line=key.start_mark.line + 1)
        if refused:
            problems += refused
            continue
        data[name] = constructed
    return data, problems


def _construct(node: yaml.Node, source: str, loc: tuple[str, ...], *, line: int = 0) -> tuple[Any, list[Problem]]:
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True), []
    except (ValueError, OverflowError, yaml.YAMLError) as exc:  # 2024-13-45 is a timestamp no calendar has
        kind = "date" if node.tag == YAML_TAG + "timestamp" else node.tag.replace(YAML_TAG, "")
        return _REFUSED, [Problem(source, line or node.start_mark.line + 1, f"is not a valid {kind}: {exc}", loc)]


def _problem(node: yaml.Node, error: Any, source: str, messages: Mapping[str, str]) -> Problem:
    loc = tuple(error["loc"])
    message = str(error["ctx"]["error"]) if error["type"] == "value_error" else messages.get(error["type"],
                                                                                              error["msg"])
    item = ITEM_HINT.match(message)
    return Problem(source, line_of(node, loc + ((int(item.group(1)) - 1,) if item else ())), message, loc)


def shown(node: yaml.Node) -> str:
    """A node as a message names it: its text, 'a list', 'a mapping', or its foreign tag."""
    if node.tag not in PLAIN_TAGS:
        return "the tag " + node.tag.replace(YAML_TAG, "!!")
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value[:60])
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def node_problem(node: yaml.Node) -> tuple[int, str] | None:
    """(line, message) for the first foreign tag, non-text key or repeated key in the node, else None."""
    if node.tag not in PLAIN_TAGS:
        return node.start_mark.line + 1, (f"{shown(node)} is not allowed; this file holds only text, numbers, "
                                          "booleans, dates, lists and mappings")
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if problem := node_problem(key) or _key_problem(key, seen) or node_problem(value):
                return problem
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if problem := node_problem(item):
                return problem
    return None


def _key_problem(key: yaml.Node, seen: dict[str, int]) -> tuple[int, str] | None:
    """(line, message) when a mapping key is not text or repeats one before it (YAML would keep the last)."""
    line = key.start_mark.line + 1
    if key.tag != YAML_TAG + "str":
        return line, f"field names must be text, not {shown(key)}"
    if key.value in seen:
        return line, f"'{key.value}' appears twice in the same mapping (first on line {seen[key.value]})"
    seen[key.value] = line
    return None
