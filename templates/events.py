"""Solution templates' audit events: registered or updated, trust changed, forked, forks updated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from portal.core.audit import Change, Event, JSONDict
from templates.models import ForkDestination


@dataclass(frozen=True)
class _TemplateEvent(Event):
    """An event about one registered template, named by its name (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "template"
    entity_field: ClassVar[str] = "name"
    name: str


@dataclass(frozen=True)
class _ForkEvent(Event):
    """An event about one fork of a template, named by its id (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "template_fork"
    entity_field: ClassVar[str] = "fork_id"
    fork_id: int


@dataclass(frozen=True)
class _TemplateVersionEvent(_TemplateEvent):
    """A template version arrived from its source (not an event type itself: it has no action)."""

    version: str
    source_url: str

    def summary(self) -> str:
        return f"{self.name} version {self.version} from {self.source_url}"


@dataclass(frozen=True)
class TemplateRegistered(_TemplateVersionEvent):
    """A template's first version was registered (the registry row after it)."""

    action: ClassVar[str] = "template.registered"
    after_field: ClassVar[str] = "entry"
    entry: JSONDict


@dataclass(frozen=True)
class TemplateUpdated(_TemplateVersionEvent, Change):
    """A registered template got a new version (the registry row before and after)."""

    action: ClassVar[str] = "template.updated"
    old: JSONDict
    new: JSONDict


@dataclass(frozen=True)
class TemplateTrustChanged(_TemplateEvent, Change):
    """A template became trusted (with the sha256 of each unsafe part the approver saw) or stopped being trusted."""

    action: ClassVar[str] = "template.trust_changed"
    trusted: bool
    old: JSONDict
    new: JSONDict
    content_hash: str = ""  # of the approved snapshot: copier.yml and every file it runs
    file_hashes: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.trusted:
            return f"{self.name} no longer trusted"
        return f"{self.name} trusted" + (f" (unsafe parts sha256 {self.content_hash[:12]})" if self.content_hash else "")

    def after(self) -> JSONDict:
        if not self.content_hash:
            return self.new
        return {**self.new, "approved": {"content_hash": self.content_hash, "file_hashes": self.file_hashes}}

@dataclass(frozen=True)
class TemplateTrustRequested(_TemplateEvent):
    """An admin asked for a template to be trusted, for the revision and unsafe features they looked at."""

    action: ClassVar[str] = "template.trust_requested"
    version: str
    revision: int
    unsafe_features: list[str]
    content_hash: str = ""  # of the snapshot the approver will see: copier.yml and every file it runs

    def summary(self) -> str:
        return f"{self.name} {self.version}: trust requested for {', '.join(self.unsafe_features) or 'no unsafe feature'}"

    def after(self) -> JSONDict:
        return {"version": self.version, "revision": self.revision, "unsafe_features": self.unsafe_features,
                "content_hash": self.content_hash}


@dataclass(frozen=True)
class TemplateForked(_ForkEvent):
    """Someone forked a template: which version, where to, and the answers (secret ones already left out)."""

    action: ClassVar[str] = "template.forked"
    template: str
    version: str
    destination: ForkDestination
    repo_path: str
    answers: dict[str, Any]

    def summary(self) -> str:
        return f"{self.template} {self.version} -> {self.repo_path or 'a zip download'}"

    def after(self) -> JSONDict:
        return {"template": self.template, "version": self.version, "destination": self.destination.value,
                "repo_path": self.repo_path, "answers": self.answers}


@dataclass(frozen=True)
class ForkUpdated(_ForkEvent):
    """A fork's repository got a branch updating it to a newer template version, with any conflicting files."""

    action: ClassVar[str] = "template.fork_updated"
    template: str
    from_version: str
    to_version: str
    branch: str
    conflicts: list[str]

    def summary(self) -> str:
        return (f"{self.template} {self.from_version} -> {self.to_version} on {self.branch}"
                + (f"; conflicts in {', '.join(self.conflicts)}" if self.conflicts else ""))

    def after(self) -> JSONDict:
        return {"branch": self.branch, "version": self.to_version, "conflicts": self.conflicts}


@dataclass(frozen=True)
class TemplateDetailsEdited(_TemplateEvent, Change):
    """An admin edited a template's listing details (display name, summary, category, tags, owner)."""

    action: ClassVar[str] = "template.details_edited"
    old: JSONDict  # only the fields that changed
    new: JSONDict

    def summary(self) -> str:
        return "edited " + ", ".join(self.new)


TEMPLATE_EVENTS: tuple[type[Event], ...] = (TemplateRegistered, TemplateUpdated, TemplateTrustChanged,
                                            TemplateTrustRequested,
                                            TemplateDetailsEdited, TemplateForked, ForkUpdated)
