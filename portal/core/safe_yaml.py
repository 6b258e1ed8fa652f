"""YAML files people write and the portal reads (catalog entries, courses, prompts as code): untrusted input.

One reading for all of them: safe loading, no anchors or aliases (a few lines can expand to gigabytes — the
"billion laughs"), bounded nesting, and every problem located by line. Writing never emits anchors, so what the
portal exports it can read back. `portal.core.yaml_models` turns what this composes into validated models.
"""

from __future__ import annotations

from typing import Any

import yaml

YAML_TAG = "tag:yaml.org,2002:"
MAX_DEPTH = 20  # deep enough for a JSON schema inside a prompt's test case; a catalog file asks for less


class YamlProblem(Exception):
    """Why a YAML text cannot be read, and the line (1-based) it happened on; callers add the file's name."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


class _PlainLoader(yaml.SafeLoader):
    """Safe loading that also refuses anchors, aliases and nesting deeper than `max_depth`."""

    def __init__(self, stream: str, max_depth: int) -> None:
        super().__init__(stream)
        self.max_depth, self.depth = max_depth, 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlProblem(line, "YAML anchors and aliases (&name, *name) are not allowed here; write each "
                                    "value out in full.")
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise YamlProblem(line, f"values are nested more than {self.max_depth} levels deep.")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(text: str, *, max_depth: int = MAX_DEPTH) -> yaml.Node | None:
    """The node tree of one YAML document (None when the text is empty), or YamlProblem saying where and why."""
    loader = None
    try:
        loader = _PlainLoader(text, max_depth)  # its reader already refuses non-printable characters
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = "; ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlProblem(mark.line + 1 if mark else 1, f"this is not valid YAML: {reason}.") from None
    except yaml.reader.ReaderError as exc:
        raise YamlProblem(text.count("\n", 0, exc.position) + 1,
                          f"the control character U+{exc.character:04X} is not allowed in YAML; write it as an "
                          "escape in a double-quoted string.") from None
    finally:
        if loader is not None:
            loader.dispose()


def construct(node: yaml.Node) -> Any:
    """Python data from a composed node tree (plain YAML types only), without parsing the text again."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node the path reaches: a field's key line, a list item's line."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


class _PlainDumper(yaml.SafeDumper):
    """Writes multi-line text as literal blocks, short lists of names on one line, and never an anchor."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Other line breaks (\r, NEL, U+2028/9) would read back as \n or a space unless escaped in double quotes;
    # otherwise PyYAML itself falls back to quotes when text cannot be a literal block.
    style = '"' if any(ch in value for ch in "\r\x85\u2028\u2029") else "|" if "\n" in value else None
    return dumper.represent_scalar(YAML_TAG + "str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    # Short lists of names read best on one line, as people write them: [public, internal].
    flow = all(isinstance(item, str) for item in value) and len(", ".join(value)) <= 60
    return dumper.represent_sequence(YAML_TAG + "seq", value, flow_style=flow)


_PlainDumper.add_representer(str, _represent_text)
_PlainDumper.add_representer(list, _represent_list)


def dump(document: Any) -> str:
    """YAML text for people to read and edit, in the document's own key order; `compose` reads it back."""
    return yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)
