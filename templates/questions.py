"""A template's copier questions as form fields: parsing, defaults, and checking answers field by field.

A template's Jinja (defaults, validators, `when`) is untrusted: it renders with the allow-listed filters only
(templates.safe_jinja), and in a limited child process (templates.sandbox), so that a default expanding to
gigabytes or a validator looping 10^10 times stops with a message instead of taking the portal down.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Annotated, Any

from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import AfterValidator, BaseModel, ConfigDict, RootModel, TypeAdapter, model_validator

from portal.core import safe_yaml
from portal.core.errors import InvalidInput
from templates.safe_jinja import AnsibleCoreFiltersExtension, filter_hint
from templates.sandbox import RenderLimits, run_sandboxed

TYPES = ("str", "int", "float", "bool", "yaml", "json", "path")
# A `when` is judged while the form is drawn: it gets less time than a render before the question is just shown.
WHEN_LIMITS = RenderLimits(timeout_s=5.0, memory_mb=256, max_output_bytes=1_000_000)
DEFAULT_LIMITS = RenderLimits()


class InvalidAnswers(InvalidInput):
    """Some answers are not acceptable; `errors` maps each question to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Check the answers: " + "; ".join(f"{name}: {msg}" for name, msg in errors.items()))
        self.errors = errors

    def __reduce__(self) -> tuple:
        return (InvalidAnswers, (self.errors,))  # so it crosses back from the child process whole


@dataclass(frozen=True)
class Question:
    """One copier question, as the fork form shows it."""

    name: str
    type: str = "str"
    help: str = ""
    default: Any = None
    choices: list[tuple[str, Any]] = field(default_factory=list)  # (label, value)
    multiselect: bool = False
    multiline: bool = False
    secret: bool = False
    validator: str = ""
    when: Any = True
    model_kind: str = ""  # "chat" or "embedding": offer only approved catalog models of that mode

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(**{**data, "choices": [tuple(c) for c in data.get("choices", [])]})


def _known_type(kind: str) -> str:
    if kind not in TYPES:
        raise ValueError(f"type '{kind}' is not one copier knows; use {', '.join(TYPES)}")
    return kind


class QuestionFile(BaseModel):
    """The part of a copier question the portal checks when reading copier.yml; copier's other keys pass through."""

    model_config = ConfigDict(extra="allow")
    type: Annotated[str, AfterValidator(_known_type)] | None = None


_QUESTIONS = TypeAdapter(dict[str, QuestionFile])


class CopierFile(RootModel[dict[str, Any]]):
    """A copier.yml as written: questions, checked where the form depends on them, and copier's `_settings`."""

    @model_validator(mode="after")
    def _questions_are_readable(self) -> CopierFile:
        # Validated as a dict so that a problem's location starts with the question's name (and finds its line).
        _QUESTIONS.validate_python({name: spec for name, spec in self.root.items()
                                    if not name.startswith("_") and isinstance(spec, dict)})
        return self


def parse_questions(copier_config: dict[str, Any], model_questions: dict[str, str] | None = None) -> list[Question]:
    """The questions of a parsed copier.yml (keys not starting with '_'), in file order."""
    kinds = model_questions if model_questions is not None else {"model": "chat"}
    secret_names = set(copier_config.get("_secret_questions") or [])  # copier's other way to mark a secret
    questions = []
    for name, spec in copier_config.items():
        if name.startswith("_"):
            continue
        spec = spec if isinstance(spec, dict) else {"default": spec}
        kind = str(spec.get("type") or _inferred_type(spec.get("default")))
        if kind not in TYPES:
            raise InvalidInput(f"Question '{name}' has type '{kind}'; copier knows {', '.join(TYPES)}.")
        questions.append(Question(
            name=name, type=kind, help=str(spec.get("help") or ""), default=spec.get("default"),
            choices=_choices(spec.get("choices")), multiselect=bool(spec.get("multiselect")),
            multiline=bool(spec.get("multiline")), secret=bool(spec.get("secret")) or name in secret_names,
            validator=str(spec.get("validator") or ""), when=spec.get("when", True),
            model_kind=kinds.get(name, "")))
    return questions


def _inferred_type(default: Any) -> str:
    for python_type, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(default, python_type):
            return name
    return "yaml"


def _choices(raw: Any) -> list[tuple[str, Any]]:
    if not raw:
        return []
    if isinstance(raw, dict):
        return [(str(label), value.get("value") if isinstance(value, dict) else value) for label, value in raw.items()]
    return [(str(item[0]), item[1]) if isinstance(item, list | tuple) and len(item) == 2 else (str(item), item)
            for item in raw]


def without_secrets(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers the portal may keep (fork rows, audit log): everything but the answers to secret questions."""
    secret = {question.name for question in questions if question.secret}
    return {name: value for name, value in answers.items() if name not in secret}


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Sandboxed, with the allow-listed part of the filters copier loads: defaults and validators mean what they
    # mean in copier, unless they reach for the server (expandvars, fileglob, ...).
    return SandboxedEnvironment(extensions=[AnsibleCoreFiltersExtension])


def render(text: str, answers: dict[str, Any]) -> str:
    """A question's Jinja string (a default, a validator, a `when`) rendered with the answers so far."""
    try:
        return _environment().from_string(text).render(**answers)
    except JinjaError as exc:
        raise InvalidInput(f"The template's expression {text[:80]!r} failed: {exc}{filter_hint(str(exc))}") from None


def is_asked(question: Question, answers: dict[str, Any]) -> bool:
    """False when the question's `when` says it does not apply to these answers."""
    if isinstance(question.when, str):
        judged = _when_judged(question.when, json.dumps(answers, sort_keys=True, default=str))
        if isinstance(judged, str):
            raise InvalidInput(judged)
        return judged
    return bool(question.when)


@lru_cache(maxsize=512)
def _when_judged(text: str, answers_json: str) -> bool | str:
    """True or False, or why it could not be judged."""
    # Cached, failures too: the form asks on every rerun with mostly the same answers, each asking is a child
    # process, and a `when` that runs into the time limit must not cost that time on every rerun.
    try:
        return run_sandboxed(_judge_when, text, json.loads(answers_json), limits=WHEN_LIMITS)
    except InvalidInput as exc:
        return str(exc)


def _judge_when(text: str, answers: dict[str, Any]) -> bool:
    return render(text, answers).strip().lower() not in ("", "false", "no", "0", "none")


def default_answers(questions: list[Question], model_options: dict[str, list[str]] | None = None, *,
                    limits: RenderLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Each question's default, rendered in order (a default may use earlier answers); models from the options."""
    return run_sandboxed(_default_answers_here, questions, model_options, limits=limits)


def _default_answers_here(questions: list[Question], model_options: dict[str, list[str]] | None) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questions:
        answers[question.name] = default_for(question, answers, model_options)
    return answers


def default_for(question: Question, answers: dict[str, Any], model_options: dict[str, list[str]] | None) -> Any:
    """The question's default given the answers before it; for a model question, an offered model."""
    value = question.default
    if isinstance(value, str) and "{{" in value:
        value = render(value, answers)
    if question.model_kind and model_options is not None:
        offered = model_options.get(question.model_kind, [])
        value = value if value in offered else (offered[0] if offered else "")
    return _coerce(question, value) if value is not None else _empty(question)


def _empty(question: Question) -> Any:
    return [] if question.multiselect else {"bool": False, "int": 0, "float": 0.0}.get(question.type, "")


def check_answers(questions: list[Question], raw: dict[str, Any], model_options: dict[str, list[str]] | None = None,
                  *, limits: RenderLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Typed answers for every question asked, or InvalidAnswers naming each bad field; rendered in a child."""
    return run_sandboxed(check_answers_here, questions, raw, model_options, limits=limits)


def check_answers_here(questions: list[Question], raw: dict[str, Any],
                       model_options: dict[str, list[str]] | None) -> dict[str, Any]:
    """check_answers in this process: only for code already running in a render's child process."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        if isinstance(question.when, str) and not _judge_when(question.when, answers):
            continue
        if not question.when:
            continue
        try:
            if question.name in raw:
                value = _coerce(question, raw[question.name])
            else:
                value = default_for(question, answers, model_options)
            _check_choice(question, value, model_options)
        except ValueError as exc:
            errors[question.name] = str(exc)
            continue
        answers[question.name] = value
        if question.validator and (message := render(question.validator, answers).strip()):
            errors[question.name] = message
    if errors:
        raise InvalidAnswers(errors)
    return answers


def _coerce(question: Question, value: Any) -> Any:
    if question.multiselect:
        values = value if isinstance(value, list | tuple) else [value]
        return [_coerce_one(question.type, v) for v in values]
    return _coerce_one(question.type, value)


def _coerce_one(kind: str, value: Any) -> Any:
    if kind in ("str", "path"):
        return "" if value is None else str(value).strip()
    if kind == "bool":
        if isinstance(value, str):
            return value.strip().lower() in ("true", "yes", "y", "1", "on")
        return bool(value)
    if kind == "int":
        return _whole_number(value)
    if kind == "float":
        try:
            return float(str(value).strip())
        except (TypeError, ValueError):
            raise ValueError(f"Enter a number (got {value!r}).") from None
    return _parse_structured(kind, value)


def _whole_number(value: Any) -> int:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        number = 0.5
    if not number.is_integer():
        raise ValueError(f"Enter a whole number (got {value!r}).")
    return int(number)


def _parse_structured(kind: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "json":
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    try:  # a person's answer: no anchors or aliases, which can expand a few lines into gigabytes
        root = safe_yaml.compose(value)
    except safe_yaml.YamlProblem as problem:
        raise ValueError(f"Line {problem.line}: {problem.reason}") from None
    return None if root is None else safe_yaml.construct(root)


def _check_choice(question: Question, value: Any, model_options: dict[str, list[str]] | None) -> None:
    if question.model_kind and model_options is not None:
        offered = model_options.get(question.model_kind, [])
        if not offered:
            raise ValueError(f"No approved {question.model_kind} model is available to you in the catalog.")
        if value not in offered:
            raise ValueError(f"Pick an approved {question.model_kind} model; {value!r} is not one.")
        return
    if not question.choices:
        return
    allowed = [v for _, v in question.choices]
    chosen = value if question.multiselect else [value]
    wrong = [v for v in chosen if v not in allowed]
    if wrong:
        raise ValueError(f"{wrong[0]!r} is not a choice; pick from {', '.join(map(str, allowed))}.")
