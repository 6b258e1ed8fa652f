"""Where in a YAML file a validation error points: files people edit get errors naming the line."""

from __future__ import annotations

from typing import Any

import yaml


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
