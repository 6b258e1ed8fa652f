"""Prompt templates: LangChain ChatPromptTemplate in f-string, mustache or (trusted only) jinja2 syntax.

Validation runs before anything is saved and names the message and line of each problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from langchain_core.prompts import ChatPromptTemplate
from langchain_core.utils.mustache import ChevronError, tokenize

from portal.core.errors import InvalidInput
from prompt_library.models import TemplateFormat

ROLES = ("system", "user", "assistant")
MAX_TEMPLATE_CHARS = 20_000  # all messages together; longer prompts are almost always pasted documents
MAX_MESSAGES = 20
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PromptTemplateError(InvalidInput):
    """A template cannot be saved: the message names each problem with its message and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Message:
    role: str
    template: str


@dataclass(frozen=True)
class Variable:
    """A template variable as a reader sees it: name, what to put in, and an example."""

    name: str
    description: str = ""
    example: str = ""


def content_hash(messages: list[Message], template_format: str, variables: list[Variable]) -> str:
    """SHA-256 of everything a version holds, so identical content is recognised without comparing texts."""
    payload = {"format": template_format, "messages": [[m.role, m.template] for m in messages],
               "variables": [[v.name, v.description, v.example] for v in variables]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def build_template(messages: list[Message], template_format: str) -> ChatPromptTemplate:
    """The LangChain template for already validated messages."""
    return ChatPromptTemplate.from_messages([(m.role, m.template) for m in messages],
                                            template_format=TemplateFormat(template_format).value)


def detect_variables(messages: list[Message], template_format: str) -> list[str]:
    """The variables the messages use, sorted (raises PromptTemplateError when they do not parse)."""
    problems = syntax_problems(messages, template_format)
    if problems:
        raise PromptTemplateError(problems)
    return sorted(build_template(messages, template_format).input_variables)


def validate(messages: list[Message], template_format: str, variables: list[Variable], *,
             trusted: bool) -> list[str]:
    """Check a template for saving; returns the detected variable names or raises PromptTemplateError."""
    problems = _shape_problems(messages, template_format, trusted)
    if problems:
        raise PromptTemplateError(problems)
    detected = detect_variables(messages, template_format)
    described = [v.name for v in variables]
    unused = [name for name in described if name not in detected]
    problems += [f"variable '{name}' is described but no message uses it; remove it or use {_ref(name, template_format)}"
                 for name in unused]
    problems += [f"variable '{name}' is described twice" for name in {n for n in described if described.count(n) > 1}]
    if problems:
        raise PromptTemplateError(problems)
    return detected


def _shape_problems(messages: list[Message], template_format: str, trusted: bool) -> list[str]:
    if template_format not in {f.value for f in TemplateFormat}:
        return [f"unknown template format '{template_format}'; use f-string or mustache"]
    if template_format == TemplateFormat.JINJA2 and not trusted:
        return ["jinja2 templates run code-like logic; only prompts an admin marked trusted may use them. "
                "Use f-string or mustache."]
    if not messages or not any(m.template.strip() for m in messages):
        return ["the prompt has no message; write at least one"]
    if len(messages) > MAX_MESSAGES:
        return [f"{len(messages)} messages; at most {MAX_MESSAGES} fit"]
    problems = [f"message {i}: role '{m.role}' is not one of {', '.join(ROLES)}"
                for i, m in enumerate(messages, 1) if m.role not in ROLES]
    total = sum(len(m.template) for m in messages)
    if total > MAX_TEMPLATE_CHARS:
        problems.append(f"the messages hold {total:,} characters; at most {MAX_TEMPLATE_CHARS:,} fit — "
                        "put long documents in a variable instead")
    return problems


def syntax_problems(messages: list[Message], template_format: str) -> list[str]:
    """Every syntax problem, as 'message N (role), line L: …'."""
    check = {TemplateFormat.F_STRING.value: _fstring_problems, TemplateFormat.MUSTACHE.value: _mustache_problems,
             TemplateFormat.JINJA2.value: _jinja_problems}[template_format]
    return [f"message {i} ({m.role}), {problem}" for i, m in enumerate(messages, 1) for problem in check(m.template)]


def _fstring_problems(template: str) -> list[str]:
    problems = []
    for number, line in enumerate(template.split("\n"), 1):
        position = 0
        while position < len(line):
            char = line[position]
            if line.startswith(("{{", "}}"), position):
                position += 2
                continue
            if char == "}":
                problems.append(f"line {number}: '}}' has no opening '{{' (write '}}}}' for a literal brace)")
            elif char == "{":
                close = line.find("}", position)
                if close < 0 or "{" in line[position + 1:close]:
                    shown = line[position:position + 20]
                    problems.append(f"line {number}: '{shown}' is not closed (write '{{{{' for a literal brace)")
                    break
                name = line[position + 1:close]
                if not _IDENTIFIER.match(name):
                    problems.append(f"line {number}: '{{{name}}}' is not a variable name (letters, digits, _)")
                position = close
            position += 1
    return problems


def _mustache_problems(template: str) -> list[str]:
    try:
        for _ in tokenize(template):
            pass
    except ChevronError as error:
        return [" ".join(str(error).split())]
    return []


def _jinja_problems(template: str) -> list[str]:
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        SandboxedEnvironment().parse(template)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    return []


def _ref(name: str, template_format: str) -> str:
    return "{{" + name + "}}" if template_format != TemplateFormat.F_STRING else "{" + name + "}"


def render(messages: list[Message], template_format: str, values: dict[str, str]) -> list[dict[str, str]]:
    """The messages with the values filled in, as the gateway expects them."""
    missing = [name for name in detect_variables(messages, template_format) if not str(values.get(name, "")).strip()]
    if missing:
        raise InvalidInput("Fill in " + ", ".join(f"'{name}'" for name in missing) + " first.")
    prompt = build_template(messages, template_format).invoke(values)
    role = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": role.get(m.type, m.type), "content": str(m.content)} for m in prompt.to_messages()]


def as_text(rendered: list[dict[str, str]]) -> str:
    """Rendered messages as plain text for copying."""
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in rendered)
