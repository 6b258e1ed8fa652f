"""Prompts as code: YAML files (one prompt each, or a `prompts:` list) that round-trip exactly, and
LangChain-serialised templates for applications that load prompts with langchain_core.load.

    slug: summarise-ticket
    title: Summarise a support ticket
    status: published
    labels: {production: 1}
    versions:
      - change_note: first version
        # title, description, … (any card field): only where this version's card differs from the one above
        template_format: f-string
        messages: [{role: system, template: "You are ..."}, {role: user, template: "{ticket}"}]
        variables: [{name: ticket, description: the ticket text, example: "..."}]
    test_cases: [{name: mentions refund, variables: {ticket: ...}, checks: [{kind: contains, value: refund}]}]

Everything is validated before anything is written; an error names the entry and its line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from langchain_core.load import dumpd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from portal.core import safe_yaml
from portal.core.yaml_models import Problem, YamlFileError, check_node, read_yaml, validate_node
from portal.core.audit import record
from prompt_library.events import PromptsImported
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput
from portal.core.principals import Principal
from portal.core.users import User
from prompt_library.models import (
    PRODUCTION,
    Prompt,
    PromptLabel,
    PromptStatus,
    PromptTestCase,
    PromptVersion,
    TemplateFormat,
    Visibility,
)
from prompt_library.review import labels_of
from prompt_library.runner import CaseInput, checked_case, test_cases_of
from prompt_library.card import CARD_FIELDS, Card, show_to_readers
from prompt_library.reading import list_versions, messages_of
from prompt_library.templates import Message, Variable, build_template, content_hash, validate

SEED_PROMPTS = Path(__file__).with_name("seed_prompts.yaml")
MAX_FILE_BYTES = 2_000_000


class PromptFileError(YamlFileError):
    """A prompt file cannot be imported; nothing was written."""


class VersionSpec(BaseModel):
    """One version; a card field given here overrides the prompt's card for this version only."""

    model_config = ConfigDict(extra="forbid")
    change_note: str = ""
    template_format: TemplateFormat = TemplateFormat.F_STRING
    messages: list[dict[str, str]]
    variables: list[dict[str, str]] = Field(default_factory=list)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    category: str | None = None
    department: str | None = None
    tags: list[str] | None = None
    classification: str | None = None
    recommended_models: list[str] | None = None


class PromptSpec(BaseModel):
    """One prompt; its card is the one readers see (the approved version's, or the latest's before approval)."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,119}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    category: str = ""
    department: str = ""
    tags: list[str] = Field(default_factory=list)
    classification: str = "internal"
    recommended_models: list[str] = Field(default_factory=list)
    owner: str = ""
    status: PromptStatus = PromptStatus.DRAFT
    trusted: bool = False
    labels: dict[str, int] = Field(default_factory=dict)
    # The newest version a reviewer approved; written only when it is not what `_approved_by_default` gives.
    approved_version: int | None = Field(default=None, ge=0)
    versions: list[VersionSpec] = Field(min_length=1)
    test_cases: list[dict[str, Any]] = Field(default_factory=list)


CASE_MESSAGES = {"list_type": "write the test cases as a YAML list of {name, variables, checks}",
                 "model_type": "write each test case as a mapping of name, variables and checks"}


@dataclass(frozen=True)
class PromptImport:
    created: list[str]
    skipped: list[str]  # slugs that already exist


def parse_prompt_file(text: str, *, source: str) -> list[PromptSpec]:
    """Every prompt in a YAML text, validated; every problem names the file and its line."""
    root = read_yaml(text, source=source, max_bytes=MAX_FILE_BYTES, error=PromptFileError)
    if root is None:
        raise PromptFileError(f"{source} is empty; a prompt file holds one prompt or `prompts:` and a list of them.")
    nodes = _entry_nodes(root, source)
    checked = [check_node(node, PromptSpec, source=source) for node in nodes]
    problems = sorted((p for _, found in checked for p in found), key=lambda p: p.line)
    if problems:
        raise PromptFileError.listing(problems)
    return [_checked(spec, f"{source}, line {node.start_mark.line + 1}") for (spec, _), node in zip(checked, nodes)]


def _entry_nodes(root: yaml.Node, source: str) -> list[yaml.Node]:
    """The file itself when it is one prompt, else the entries of its `prompts:` list."""
    entries = next((v for k, v in root.value if k.value == "prompts"), None) if isinstance(
        root, yaml.MappingNode) else None
    if entries is None:
        return [root]
    if not isinstance(entries, yaml.SequenceNode):
        raise PromptFileError.listing([Problem(source, entries.start_mark.line + 1, "'prompts' must be a list.")])
    return list(entries.value)


def _checked(spec: PromptSpec, where: str) -> PromptSpec:
    """The spec when its classification and templates are valid."""
    try:
        DataClassification.parse(spec.classification)
        for version in spec.versions:
            DataClassification.parse(version.classification or spec.classification)
            validate(_messages(version), version.template_format.value, _variables(version), trusted=spec.trusted)
    except (KeyError, InvalidInput) as error:
        message = error.message if isinstance(error, InvalidInput) else f"unknown classification {error}"
        raise PromptFileError(f"{where} ({spec.slug}): {message}") from None
    return spec


def _messages(version: VersionSpec) -> list[Message]:
    return [Message(role=m.get("role", ""), template=m.get("template", "")) for m in version.messages]


def _variables(version: VersionSpec) -> list[Variable]:
    return [Variable(v["name"], v.get("description", ""), v.get("example", "")) for v in version.variables]


def import_prompts(*, session: Session, actor: Principal, specs: list[PromptSpec], fallback_owner: User) -> PromptImport:
    """Create the prompts whose slug is new (existing ones are left alone); one audit event; caller commits."""
    require(actor, Permission.MANAGE_PROMPTS)
    existing = set(session.exec(select(Prompt.slug).where(col(Prompt.slug).in_([s.slug for s in specs]))).all())
    owners = {u.email: u for u in session.exec(select(User).where(
        col(User.email).in_([s.owner for s in specs if s.owner]))).all()}
    created = []
    for spec in specs:
        if spec.slug not in existing:
            _create(session, spec, owners.get(spec.owner, fallback_owner))
            created.append(spec.slug)
    record(session, actor, PromptsImported(created=len(created), already_there=len(existing)))
    return PromptImport(created=created, skipped=sorted(existing))


def _create(session: Session, spec: PromptSpec, owner: User) -> Prompt:
    published = spec.status == PromptStatus.PUBLISHED
    prompt = Prompt(slug=spec.slug, title=spec.title, owner_id=owner.id, status=spec.status.value,
                    visibility=(Visibility.ORGANISATION if published else Visibility.PRIVATE).value,
                    trusted=spec.trusted)
    session.add(prompt)
    session.flush()
    versions = []
    for number, version in enumerate(spec.versions, 1):
        row = PromptVersion(prompt_id=prompt.id, number=number, template_format=version.template_format.value,
                            messages=[dict(m) for m in version.messages], variables=[dict(v) for v in version.variables],
                            change_note=version.change_note, author_id=owner.id,
                            content_hash=content_hash(_messages(version), version.template_format.value,
                                                      _variables(version)))
        _card(spec, version).write_to(row)
        session.add(row)
        versions.append(row)
    session.flush()
    prompt.latest_version, prompt.content_hash = len(versions), versions[-1].content_hash
    prompt.approved_version = (spec.approved_version if spec.approved_version is not None
                               else _approved_by_default(spec.status, spec.labels, len(versions)))
    if prompt.approved_version > len(versions):
        raise PromptFileError(f"{spec.slug}: approved_version is v{prompt.approved_version}, which the file does "
                              "not hold.")
    show_to_readers(prompt, versions[(prompt.approved_version or prompt.latest_version) - 1])
    for name, number in spec.labels.items():
        if not 1 <= number <= len(versions):
            raise PromptFileError(f"{spec.slug}: label {name} points at v{number}, which the file does not hold.")
        session.add(PromptLabel(prompt_id=prompt.id, name=name, version_id=versions[number - 1].id))
    known = set(build_template(messages_of(versions[-1]), versions[-1].template_format).input_variables)
    for number, case in enumerate(spec.test_cases, 1):
        row = checked_case(CaseInput(name=case.get("name", ""), variables=case.get("variables", {}),
                                      checks=case.get("checks", [])), known, number)
        row.prompt_id = prompt.id
        session.add(row)
    session.add(prompt)
    session.flush()
    return prompt


def _card(spec: PromptSpec, version: VersionSpec) -> Card:
    """The version's card: the prompt's, with the fields the version names overriding it."""
    fields = {name: getattr(version, name) if getattr(version, name) is not None else getattr(spec, name)
              for name in CARD_FIELDS}
    fields["classification"] = int(DataClassification.parse(fields["classification"]))
    return Card.of(SimpleNamespace(**fields))


def _card_fields(card: Card) -> dict[str, Any]:
    """A card as the YAML writes it."""
    return {"title": card.title, "description": card.description, "category": card.category,
            "department": card.department, "tags": list(card.tags),
            "classification": DataClassification(card.classification).label,
            "recommended_models": list(card.recommended_models)}


def _version_document(version: PromptVersion, shown: dict[str, Any]) -> dict[str, Any]:
    """One version as YAML, with the card fields where its card differs from the one readers see (`shown`)."""
    card = {name: value for name, value in _card_fields(Card.of(version)).items() if value != shown[name]}
    return {"change_note": version.change_note, **card, "template_format": version.template_format,
            "messages": [dict(m) for m in version.messages], "variables": [dict(x) for x in version.variables]}


def _approved_by_default(status: str, labels: dict[str, int], versions: int) -> int:
    """A file without approved_version: a published prompt's readers get its last version, else production's."""
    return versions if status == PromptStatus.PUBLISHED else labels.get(PRODUCTION, 0)


def export_prompt(*, session: Session, prompt: Prompt) -> dict[str, Any]:
    """One prompt as its YAML document (plain data), every version oldest first."""
    owner = session.get(User, prompt.owner_id)
    versions = list(reversed(list_versions(session=session, prompt_id=prompt.id)))
    labels = labels_of(session=session, prompt_id=prompt.id)
    approved = ({} if prompt.approved_version == _approved_by_default(prompt.status, labels, len(versions))
                else {"approved_version": prompt.approved_version})
    shown = _card_fields(Card.of(prompt))
    return {
        "slug": prompt.slug, **shown, "owner": owner.email if owner else "",
        "status": prompt.status, "trusted": prompt.trusted, "labels": labels, **approved,
        "versions": [_version_document(v, shown) for v in versions],
        "test_cases": [{"name": c.name, "variables": dict(c.variables), "checks": [dict(x) for x in c.checks]}
                       for c in test_cases_of(session=session, prompt_id=prompt.id)],
    }


def dump_yaml(document: Any) -> str:
    return safe_yaml.dump(document)


def cases_as_text(cases: list[PromptTestCase]) -> str:
    """A prompt's test cases as the YAML list people edit: [{name, variables, checks}]."""
    return dump_yaml([{"name": c.name, "variables": c.variables, "checks": c.checks} for c in cases]) if cases else ""


class _CaseText(BaseModel):
    """One test case as people edit it; values are read as text, as the form shows them."""

    name: Any = ""
    variables: dict[Any, Any] | None = None
    checks: list[Any] | None = None


def cases_from_text(text: str) -> list[CaseInput]:
    """The edited YAML list of test cases; `save_test_cases` then checks each against the template."""
    source = "The test cases"
    root = read_yaml(text, source=source, error=YamlFileError)
    cases = [] if root is None else validate_node(root, list[_CaseText], source=source, error=YamlFileError,
                                                   messages=CASE_MESSAGES)
    return [CaseInput(name=str(c.name), variables={str(k): str(v) for k, v in (c.variables or {}).items()},
                      checks=list(c.checks or [])) for c in cases]


def export_folder(*, session: Session, folder: Path) -> int:
    """Write every prompt as `<slug>.yaml` and the template applications get (`latest`) as `langchain/<slug>.json`."""
    (folder / "langchain").mkdir(parents=True, exist_ok=True)
    prompts = session.exec(select(Prompt).order_by(Prompt.slug)).all()
    for prompt in prompts:
        (folder / f"{prompt.slug}.yaml").write_text(dump_yaml(export_prompt(session=session, prompt=prompt)),
                                                     encoding="utf-8")
        versions = list_versions(session=session, prompt_id=prompt.id)
        latest = next(v for v in versions if v.number == (prompt.approved_version or prompt.latest_version))
        serialised = dumpd(build_template(messages_of(latest), latest.template_format))
        (folder / "langchain" / f"{prompt.slug}.json").write_text(json.dumps(serialised, indent=2), encoding="utf-8")
    return len(prompts)


def read_folder(folder: Path) -> list[PromptSpec]:
    """Every prompt in a folder's *.yaml files (sorted by name), all validated before any import."""
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise PromptFileError(f"{folder}: no .yaml files.")
    return [spec for path in files for spec in parse_prompt_file(path.read_text(encoding="utf-8"), source=str(path))]


_LANGCHAIN_ROLES = {"SystemMessagePromptTemplate": "system", "HumanMessagePromptTemplate": "user",
                    "AIMessagePromptTemplate": "assistant"}


def parse_langchain_file(text: str, *, slug: str, source: str) -> PromptSpec:
    """A LangChain-serialised ChatPromptTemplate (as `export` writes) as a draft prompt named `slug`."""
    import warnings

    from langchain_core.load import loads
    from langchain_core.prompts import ChatPromptTemplate

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loads() is marked beta
            template = loads(text, allowed_objects="core")  # only LangChain's own classes, never arbitrary code
    except (ValueError, TypeError, KeyError) as error:
        raise PromptFileError(f"{source}: not a LangChain-serialised template: {error}") from None
    if not isinstance(template, ChatPromptTemplate):
        raise PromptFileError(f"{source}: holds a {type(template).__name__}, not a ChatPromptTemplate.")
    messages, formats = [], set()
    for message in template.messages:
        role = _LANGCHAIN_ROLES.get(type(message).__name__)
        if role is None:
            raise PromptFileError(f"{source}: {type(message).__name__} messages cannot be imported.")
        messages.append({"role": role, "template": message.prompt.template})
        formats.add(message.prompt.template_format)
    title = slug.replace("-", " ").capitalize()
    try:
        spec = PromptSpec.model_validate({"slug": slug, "title": title, "versions": [{
            "change_note": f"imported from {Path(source).name}", "template_format": formats.pop()
            if len(formats) == 1 else "mixed", "messages": messages}]})
    except ValidationError as error:
        first = error.errors()[0]
        raise PromptFileError(f"{source}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return _checked(spec, f"{source}, line 1")
