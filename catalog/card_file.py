"""Reading a catalog file: safe YAML, the card schema, and problems located by entry, field and line.

Files are untrusted input: safe loading only, no anchors or aliases, no tags beyond plain YAML, bounded
size, depth and entry count. See catalog.as_code for what an import does with the validated entries.
"""


from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from catalog.models import CatalogModelBase, DataClassification, ModelStatus, RiskTier, Text
from portal.core import yaml_models
from portal.core.safe_yaml import YAML_TAG, line_of
from portal.core.yaml_models import check_node, read_yaml, shown

MAX_FILE_BYTES = 1024 * 1024
MAX_ENTRIES = 5000
# root > models > entry > evaluations > evaluation > value is six levels; anything deeper is not a catalog.
MAX_DEPTH = 10
APPROVING = (ModelStatus.APPROVED.value, ModelStatus.RESTRICTED.value)
MESSAGES = {"extra_forbidden": "is not a field of a catalog entry; check the spelling"}


@dataclass(frozen=True)
class Problem(yaml_models.Problem):
    """One thing wrong with a catalog file, located by line, entry and field."""

    entry: str = ""  # "'<name>'" or "#<position>" when the entry has no usable name

    @property
    def field(self) -> str:
        return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.loc).lstrip(".")

    def __str__(self) -> str:
        where = f"{self.source}, line {self.line}" + (f", entry {self.entry}" if self.entry else "")
        return where + (f", field '{self.field}'" if self.field else "") + f": {self.message}"


class CatalogFileError(yaml_models.YamlFileError):
    """A catalog file that cannot be imported; the message names the source, entry, field and line."""


@dataclass(frozen=True)
class ImportResult:
    """How many of the file's entries became new cards, changed a card, or left their card as it was."""

    created: int
    updated: int
    unchanged: int  # with only_new, existing cards count here whether or not the file differs


# Enums and dates arrive as YAML text or timestamps, so these few fields may convert; everything else is strict.
Day = Annotated[dt.date, Field(strict=False)]
Classification = Literal[tuple(c.label for c in DataClassification)]  # type: ignore[valid-type]  # by label
Modality = Literal["text", "image", "audio", "video"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, allow_inf_nan=False)


class EvaluationSpec(_Spec):
    """A published or in-house benchmark result."""

    benchmark: Annotated[Text, Field(min_length=1, max_length=200)]
    score: float
    date: Day
    notes: Annotated[Text, Field(max_length=2000)] = ""
    link: Annotated[Text, Field(max_length=500)] = ""  # shown as plain text, never as a live link


# Where a file states a card field differently from the table: base field -> (file field, type, default).
FILE_SHAPES: dict[str, tuple[str, Any, Any]] = {
    "display_name": ("display_name", Annotated[Text, Field(max_length=200)], ""),  # empty: the name
    "modalities_in": ("modalities_in", list[Modality], ["text"]),
    "modalities_out": ("modalities_out", list[Modality], ["text"]),
    "evaluations": ("evaluations", Annotated[list[EvaluationSpec], Field(max_length=100)], []),
    # A plain number, strictly: "2" in quotes is a mistake worth naming, not a tier.
    "risk_tier": ("risk_tier", Annotated[int, Field(ge=1, le=3)], int(RiskTier.FULL_REVIEW)),
    # People list what a model is cleared for; the card keeps the highest level.
    "max_classification": ("allowed_classifications", Annotated[list[Classification], Field(min_length=1)],
                           ["public"]),
    "replacement_name": ("replacement", Annotated[Text, Field(max_length=200)], ""),
}


def _converts(annotation: Any) -> bool:
    """True for enum and date fields, which a file may give as text or a YAML timestamp."""
    kinds = [a for a in (get_args(annotation) or (annotation,)) if a is not type(None)]
    return any(isinstance(k, type) and (issubclass(k, Enum) or issubclass(k, dt.date)) for k in kinds)


def _file_fields() -> dict[str, Any]:
    """Every field of the card family's base, in its order, as a catalog file states it."""
    definitions: dict[str, Any] = {}
    for base_name, info in CatalogModelBase.model_fields.items():
        if base_name in FILE_SHAPES:
            name, annotation, default = FILE_SHAPES[base_name]
            definitions[name] = (annotation, default)
            continue
        metadata = [*info.metadata, *([Field(strict=False)] if _converts(info.annotation) else [])]
        annotation = Annotated[info.annotation, *metadata] if metadata else info.annotation
        default = info.default_factory() if info.default_factory else info.default
        definitions[base_name] = (annotation, Field(default=default, description=info.description))
    return definitions


class CatalogModelFile(create_model("_CatalogModelFileFields", __base__=_Spec, **_file_fields())):  # type: ignore[misc]
    """One model card as a catalog file describes it; fields left out take the card's defaults."""

    @field_validator("modalities_in", "modalities_out")
    @classmethod
    def _unique_modalities(cls, modalities: list[str]) -> list[str]:
        return list(dict.fromkeys(modalities))

    @field_validator("restricted_teams", "restricted_departments")
    @classmethod
    def _sorted_names(cls, names: list[str]) -> list[str]:
        # The lifecycle stores these sorted and unique; doing the same keeps re-imports unchanged.
        return sorted(set(names))

    @field_validator("allowed_classifications")
    @classmethod
    def _contiguous_from_public(cls, names: list[str]) -> list[str]:
        levels = sorted(DataClassification.parse(n) for n in names)
        if len(set(levels)) != len(levels):
            raise ValueError("lists a classification twice")
        missing = [c.label for c in DataClassification if c < levels[-1] and c not in levels]
        if missing:
            raise ValueError(f"must run from public up without gaps, because a model cleared for {levels[-1].label} "
                             f"data is cleared for every level below it: add {', '.join(missing)}")
        return [c.label for c in levels]


ModelCardSpec = CatalogModelFile  # the name catalog.as_code imports


def file_value(value: Any) -> Any:
    """A card's value as a catalog file writes it: enums by their plain value."""
    return value.value if isinstance(value, Enum) else value


def _status_problems(spec: CatalogModelFile) -> list[tuple[str, str]]:
    """(field, message) for each way the lifecycle fields contradict the status."""
    status, problems = ModelStatus(spec.status), []
    if status == ModelStatus.RESTRICTED and not (spec.restricted_teams or spec.restricted_departments):
        problems.append(("restricted_teams", "a restricted model must name at least one team (restricted_teams) "
                                             "or department (restricted_departments) it is restricted to"))
    if status == ModelStatus.APPROVED and (spec.restricted_teams or spec.restricted_departments):
        problems.append(("restricted_teams" if spec.restricted_teams else "restricted_departments",
                         "an approved model is open to everyone; use status restricted to limit it to teams"))
    if status == ModelStatus.DEPRECATED:
        if not spec.replacement:
            problems.append(("replacement", "a deprecated model must name the model that replaces it, "
                                            "so its users know where to go"))
        if spec.deprecated_on is None:
            problems.append(("deprecated_on", "give the date from which the model is deprecated"))
    elif spec.replacement and status != ModelStatus.RETIRED:
        problems.append(("replacement", f"only a deprecated or retired model has a replacement; "
                                        f"this one is {status.label}"))
    if spec.replacement == spec.name:
        problems.append(("replacement", "a model cannot replace itself"))
    return problems


def _entry_nodes(root: yaml.Node | None, source: str) -> list[yaml.Node]:
    """The entry nodes under `models:`, after checking the document's shape."""
    def refuse(node: yaml.Node, message: str) -> CatalogFileError:
        return CatalogFileError.listing([Problem(source, node.start_mark.line + 1, message + ".")])

    if root is None:
        raise CatalogFileError(f"{source} is empty; a catalog file holds `models:` and a list of entries.")
    shape = "a catalog file is a mapping with one key, `models`, holding a list of entries"
    if root.tag != YAML_TAG + "map":
        raise refuse(root, f"{shape}, not {shown(root)}")
    models = None
    for key, value in root.value:
        if key.tag != YAML_TAG + "str" or key.value != "models":
            raise refuse(key, f"unknown top-level key {shown(key)}; {shape}")
        models = value
    if models is None:
        raise refuse(root, shape)
    if models.tag != YAML_TAG + "seq":
        raise refuse(models, f"`models` must be a list of entries, not {shown(models)}")
    if len(models.value) > MAX_ENTRIES:
        raise refuse(models, f"`models` holds {len(models.value):,} entries; at most {MAX_ENTRIES:,} fit in one file")
    return list(models.value)


@dataclass
class _Entry:
    """An entry of the file with what is needed to point at its lines."""

    source: str
    node: yaml.Node
    label: str
    name: str = ""
    spec: CatalogModelFile | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, field_name: str, message: str, *, near: str = "status") -> Problem:
        keys = {k.value for k, _ in self.node.value} if isinstance(self.node, yaml.MappingNode) else set()
        line = line_of(self.node, (field_name if field_name in keys else near,))
        return Problem(self.source, line, message, (field_name,), self.label)


def _read_entry(source: str, index: int, node: yaml.Node) -> _Entry:
    """Validate one entry against the schema (the shared YAML loader), then its lifecycle fields."""
    entry = _Entry(source, node, f"#{index + 1}")
    if node.tag != YAML_TAG + "map":
        entry.problems.append(Problem(source, node.start_mark.line + 1, f"an entry must be a mapping of fields, not "
                                                                        f"{shown(node)}", entry=entry.label))
        return entry
    name = next((v for k, v in node.value if k.value == "name"), None)
    if isinstance(name, yaml.ScalarNode) and name.tag == YAML_TAG + "str" and name.value.strip():
        entry.name, entry.label = name.value.strip(), repr(name.value.strip()[:80])
    spec, problems = check_node(node, CatalogModelFile, source=source, messages=MESSAGES)
    entry.problems += [Problem(p.source, p.line, p.message, p.loc, entry.label) for p in problems]
    if spec is not None:
        entry.spec = spec
        entry.problems += [entry.problem(f, message) for f, message in _status_problems(spec)]
    return entry


def validate_catalog(text: str, *, source: str = "<catalog>", known_names: frozenset[str] = frozenset()
                     ) -> list[CatalogModelFile]:
    """Every entry, validated (replacements may be `known_names`); CatalogFileError listing every problem otherwise."""
    root = read_yaml(text, source=source, max_depth=MAX_DEPTH, max_bytes=MAX_FILE_BYTES, error=CatalogFileError)
    entries = [_read_entry(source, i, node) for i, node in enumerate(_entry_nodes(root, source))]
    first_line: dict[str, int] = {}
    for entry in entries:
        if entry.spec is None:
            continue
        line = line_of(entry.node, ("name",))
        if entry.spec.name in first_line:
            entry.problems.append(Problem(source, line, f"'{entry.spec.name}' is already used by the entry on "
                                                        f"line {first_line[entry.spec.name]}; names must be unique",
                                          ("name",), entry.label))
        first_line.setdefault(entry.spec.name, line)
    in_file = {entry.name for entry in entries}
    for entry in entries:
        replacement = entry.spec.replacement if entry.spec else ""
        if replacement and replacement not in in_file and replacement not in known_names:
            entry.problems.append(entry.problem("replacement", f"there is no model '{replacement}' in this file or "
                                                               "in the catalog"))
    problems = tuple(sorted((p for entry in entries for p in entry.problems), key=lambda p: p.line))
    if problems:
        raise CatalogFileError.listing(problems, footer="Nothing was imported.")
    return [entry.spec for entry in entries if entry.spec is not None]
