"""Feature manifests: what each package adds to the portal, declared in one place the shell reads.

The Datasette way: the shell (navigation, `coe-portal` commands, schema, the model card's dependents) never lists
a feature's parts by hand; it reads the installed manifests. The portal's own pages and commands are declared by a
manifest too, so built-ins register exactly as a new feature would.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

from portal.core.audit import Event
from portal.core.auth import HasRole, Permission, has_permission

VIEWS_DIR = Path(__file__).resolve().parent.parent / "views"

# Adds a feature's subcommands to the `coe-portal` parser; each sets `handler(args, settings) -> exit code`.
RegisterCommands = Callable[[argparse._SubParsersAction], None]
# `provider(*, session, model_name) -> list[catalog.service.Dependent]`: what relies on a catalog model.
DependentsProvider = Callable[..., list[Any]]
# `(object type, name) -> True` for schema objects Alembic's autogenerate must leave alone.
UnmanagedSchemaObject = Callable[[str, str | None], bool]
# `seeder(*, session, actor, settings) -> str`: adds a feature's demo data as `actor`; returns what it did, in a line.
Seeder = Callable[..., str]
# `task(*, session, settings) -> str`: one run of a periodic job, in a transaction; returns what it did, in a line.
PeriodicTask = Callable[..., str]
USAGE_SOURCE_MAX_LENGTH = 40  # usage_event.source's column width


class Audience(StrEnum):
    """Who a page is for: the signed-in portal, or the visitor before sign-in."""

    SIGNED_IN = "signed in"
    SIGNED_OUT = "signed out"


@dataclass(frozen=True)
class PageSpec:
    """One page in the navigation: its view script, how the menu shows it, and who may see it."""

    view: str | Path  # a file name under portal/views, or an absolute path to a page elsewhere
    title: str
    icon: str
    section: str = ""  # a section some installed manifest declares; signed-out pages have none
    help: str | None = None
    hidden: bool = False  # out of the menu, reached by a link (e.g. ?model=<name>)
    permission: Permission | None = None  # None = every signed-in user
    default: bool = False
    audience: Audience = Audience.SIGNED_IN

    @property
    def path(self) -> Path:
        """The page script's absolute path (joining an absolute path keeps it as it is)."""
        return VIEWS_DIR / self.view

    @property
    def visibility(self) -> str:
        return "hidden" if self.hidden else "visible"


@dataclass(frozen=True)
class Section:
    """A navigation section; sections show in ascending `order`, ties in installed-feature order."""

    name: str
    order: int


@dataclass(frozen=True)
class SeedStep:
    """One step of `coe-portal seed`, run in a transaction of its own after the steps it names (of any feature)."""

    name: str
    run: Seeder
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduledJob:
    """A task `coe-portal run` repeats while the portal serves; `interval_s(settings)` of 0 switches it off."""

    name: str
    run: PeriodicTask
    interval_s: Callable[[Any], float]


@dataclass(frozen=True)
class UsageSource:
    """What a gateway call was made for: stored on its usage event as `value`, shown in reports as `label`."""

    value: str  # stored in usage_event.source (at most 40 characters); renaming it would orphan the rows
    label: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FeatureManifest:
    """Everything one feature package adds to the portal."""

    name: str
    sections: tuple[Section, ...] = ()
    pages: tuple[PageSpec, ...] = ()
    commands: tuple[RegisterCommands, ...] = ()
    table_modules: tuple[ModuleType, ...] = ()  # modules defining SQLModel tables, imported for the schema
    schema_hooks: tuple[Callable[[], None], ...] = ()  # run once the tables exist (e.g. attach DDL to a table)
    unmanaged_schema_objects: tuple[UnmanagedSchemaObject, ...] = ()
    model_dependents: tuple[DependentsProvider, ...] = ()
    audit_events: tuple[type[Event], ...] = ()  # every event type the feature records, for the log's filters
    usage_sources: tuple[UsageSource, ...] = ()  # what its gateway calls are made for, for the usage reports
    seed_steps: tuple[SeedStep, ...] = ()  # its demo data, for `coe-portal seed`
    scheduled_jobs: tuple[ScheduledJob, ...] = ()  # what `coe-portal run` repeats while the portal serves


class ManifestError(ValueError):
    """The installed manifests contradict each other; the message names the feature and the problem."""


def check_features(features: Sequence[FeatureManifest]) -> None:
    """Refuse manifests the shell could not build a portal from, naming the first problem."""
    names = [feature.name for feature in features]
    if len(set(names)) != len(names):
        raise ManifestError(f"two installed features share a name: {sorted({n for n in names if names.count(n) > 1})}")
    declared: dict[str, int] = {}
    for feature in features:
        for section in feature.sections:
            if declared.setdefault(section.name, section.order) != section.order:
                raise ManifestError(f"{feature.name}: section {section.name!r} is declared with two orders")
    seen: dict[Path, str] = {}
    for feature, page in all_pages(features):
        if page.audience == Audience.SIGNED_IN and page.section not in declared:
            raise ManifestError(f"{feature.name}: page {page.title!r} names section {page.section!r}, "
                                "which no installed feature declares")
        if page.path in seen:
            raise ManifestError(f"{feature.name}: {page.view} is already declared by {seen[page.path]}")
        seen[page.path] = feature.name
    for audience in Audience:
        defaults = [page.title for _, page in all_pages(features) if page.audience == audience and page.default]
        if len(defaults) != 1:
            raise ManifestError(f"exactly one {audience} page must be the default, found {defaults}")
    _check_audit_events(features)
    _check_usage_sources(features)
    seed_order(features)


def _check_audit_events(features: Sequence[FeatureManifest]) -> None:
    """Each action belongs to one event type (a subclass may narrow its entity type), listed by one feature."""
    listed: dict[type[Event], str] = {}
    owners: dict[str, type[Event]] = {}
    for feature in features:
        for event in feature.audit_events:
            if event in listed:
                raise ManifestError(f"{feature.name}: audit event {event.__name__} is already declared by "
                                    f"{listed[event]}")
            listed[event] = feature.name
            owner = action_owner(event)
            if owners.setdefault(event.action, owner) is not owner:
                raise ManifestError(f"{feature.name}: audit event {event.__name__} records {event.action!r}, "
                                    f"the action of {owners[event.action].__name__}")


def _check_usage_sources(features: Sequence[FeatureManifest]) -> None:
    """Each stored usage source value is declared by one feature, once."""
    owners: dict[str, str] = {}
    for feature in features:
        for source in feature.usage_sources:
            if source.value in owners:
                raise ManifestError(f"{feature.name}: usage source {source.value!r} is already declared by "
                                    f"{owners[source.value]}")
            if len(source.value) > USAGE_SOURCE_MAX_LENGTH:
                raise ManifestError(f"{feature.name}: usage source {source.value!r} is longer than "
                                    f"{USAGE_SOURCE_MAX_LENGTH} characters")
            owners[source.value] = feature.name


def action_owner(event: type[Event]) -> type[Event]:
    """The event type that declares `event`'s action: itself, or the type it narrows."""
    return next(cls for cls in event.__mro__ if "action" in vars(cls))


def all_pages(features: Sequence[FeatureManifest]) -> list[tuple[FeatureManifest, PageSpec]]:
    """Every declared page with the feature declaring it, in installed order."""
    return [(feature, page) for feature in features for page in feature.pages]


def section_order(features: Sequence[FeatureManifest]) -> list[str]:
    """Section names in the order the navigation shows them."""
    sections = {section.name: section.order for feature in features for section in feature.sections}
    return sorted(sections, key=sections.__getitem__)


def may_see(user: HasRole, page: PageSpec) -> bool:
    """True when the user's role may see the page in the navigation (and open it)."""
    return page.permission is None or has_permission(user, page.permission)


def pages_for(features: Sequence[FeatureManifest], user: HasRole) -> dict[str, list[PageSpec]]:
    """The signed-in navigation a user's role sees: section -> pages, empty sections left out."""
    by_section: dict[str, list[PageSpec]] = {name: [] for name in section_order(features)}
    for _, page in all_pages(features):
        if page.audience == Audience.SIGNED_IN and may_see(user, page):
            by_section[page.section].append(page)
    return {name: pages for name, pages in by_section.items() if pages}


def signed_out_pages(features: Sequence[FeatureManifest]) -> list[PageSpec]:
    """The pages a visitor sees before signing in."""
    return [page for _, page in all_pages(features) if page.audience == Audience.SIGNED_OUT]


def page_for_view(features: Sequence[FeatureManifest], script: str | Path) -> PageSpec:
    """The declared page whose view script this is; a script no manifest declares is a programming error."""
    wanted = Path(script).resolve()
    for _, page in all_pages(features):
        if page.path.resolve() == wanted:
            return page
    raise ManifestError(f"{script} is not a page of any installed feature's manifest")


def register_commands(features: Sequence[FeatureManifest], commands: argparse._SubParsersAction) -> None:
    """Add every installed feature's `coe-portal` subcommands, in installed order."""
    for feature in features:
        for register in feature.commands:
            register(commands)


def table_modules(features: Sequence[FeatureManifest]) -> tuple[ModuleType, ...]:
    """Every module defining tables, in installed order."""
    return tuple(module for feature in features for module in feature.table_modules)


def model_dependents(features: Sequence[FeatureManifest]) -> list[DependentsProvider]:
    """Every feature's way of finding what depends on a catalog model, in installed order."""
    return [provider for feature in features for provider in feature.model_dependents]


def run_schema_hooks(features: Sequence[FeatureManifest]) -> None:
    """Let each feature attach what its tables need beyond SQLModel (run once, after the tables are imported)."""
    for feature in features:
        for hook in feature.schema_hooks:
            hook()


def is_unmanaged(features: Sequence[FeatureManifest], type_: str, name: str | None) -> bool:
    """True for a schema object a feature manages outside SQLAlchemy, which autogenerate must not compare."""
    return any(unmanaged(type_, name) for feature in features for unmanaged in feature.unmanaged_schema_objects)


def audit_event_types(features: Sequence[FeatureManifest]) -> list[type[Event]]:
    """Every installed feature's audit event types, in installed order."""
    return [event for feature in features for event in feature.audit_events]


def usage_sources(features: Sequence[FeatureManifest]) -> list[UsageSource]:
    """Every installed feature's usage sources, in installed order."""
    return [source for feature in features for source in feature.usage_sources]


def usage_source_labels(features: Sequence[FeatureManifest]) -> dict[str, str]:
    """Stored usage source value -> its label, for every installed feature's sources."""
    return {source.value: source.label for source in usage_sources(features)}


def seed_order(features: Sequence[FeatureManifest]) -> list[SeedStep]:
    """The seed steps in the order they run: installed order, each after the steps it names."""
    steps = [step for feature in features for step in feature.seed_steps]
    names = [step.name for step in steps]
    if len(set(names)) != len(names):
        raise ManifestError(f"two seed steps share a name: {sorted({n for n in names if names.count(n) > 1})}")
    for step in steps:
        if missing := [name for name in step.after if name not in names]:
            raise ManifestError(f"seed step {step.name!r} runs after {missing}, which no installed feature declares")
    ordered: list[SeedStep] = []
    while len(ordered) < len(steps):
        done = {step.name for step in ordered}
        ready = next((step for step in steps if step.name not in done and set(step.after) <= done), None)
        if ready is None:
            raise ManifestError("seed steps wait on each other: "
                                f"{sorted(step.name for step in steps if step.name not in done)}")
        ordered.append(ready)
    return ordered
