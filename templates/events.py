"""Solution templates' audit events: registered or updated, trust changed, forked, forks updated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from portal.core.audit import Event, JSONDict
from templates.models import ForkDestination


@dataclass(frozen=True)
class TemplateRegistered(Event):
    """A template's first version was registered (the registry row after it)."""

    action: ClassVar[str] = "template.registered"
    entity_type: ClassVar[str] = "template"
    name: str
    version: str
    source_url: str
    entry: JSONDict

    def entity_id(self) -> str:
        return self.name

    def summary(self) -> str:
        return f"{self.name} version {self.version} from {self.source_url}"

    def after(self) -> JSONDict:
        return self.entry


@dataclass(frozen=True)
class TemplateUpdated(Event):
    """A registered template got a new version (the registry row before and after)."""

    action: ClassVar[str] = "template.updated"
    entity_type: ClassVar[str] = "template"
    name: str
    version: str
    source_url: str
    old: JSONDict
    new: JSONDict

    def entity_id(self) -> str:
        return self.name

    def summary(self) -> str:
        return f"{self.name} version {self.version} from {self.source_url}"

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return self.new


@dataclass(frozen=True)
class TemplateTrustChanged(Event):
    """A template became trusted (with the sha256 of each unsafe part the approver saw) or stopped being trusted."""

    action: ClassVar[str] = "template.trust_changed"
    entity_type: ClassVar[str] = "template"
    name: str
    trusted: bool
    old: JSONDict
    new: JSONDict
    content_hash: str = ""  # of the approved snapshot: copier.yml and every file it runs
    file_hashes: dict[str, str] = field(default_factory=dict)

    def entity_id(self) -> str:
        return self.name

    def summary(self) -> str:
        if not self.trusted:
            return f"{self.name} no longer trusted"
        return f"{self.name} trusted" + (f" (unsafe parts sha256 {self.content_hash[:12]})" if self.content_hash else "")

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        if not self.content_hash:
            return self.new
        return {**self.new, "approved": {"content_hash": self.content_hash, "file_hashes": self.file_hashes}}


@dataclass(frozen=True)
class TemplateTrustRequested(Event):
    """An admin asked for a template to be trusted, for the revision and unsafe features they looked at."""

    action: ClassVar[str] = "template.trust_requested"
    entity_type: ClassVar[str] = "template"
    name: str
    version: str
    revision: int
    unsafe_features: list[str]
    content_hash: str = ""  # of the snapshot the approver will see: copier.yml and every file it runs

    def entity_id(self) -> str:
        return self.name

    def summary(self) -> str:
        return f"{self.name} {self.version}: trust requested for {', '.join(self.unsafe_features) or 'no unsafe feature'}"

    def after(self) -> JSONDict:
        return {"version": self.version, "revision": self.revision, "unsafe_features": self.unsafe_features,
                "content_hash": self.content_hash}


@dataclass(frozen=True)
class TemplateForked(Event):
    """Someone forked a template: which version, where to, and the answers (secret ones already left out)."""

    action: ClassVar[str] = "template.forked"
    entity_type: ClassVar[str] = "template_fork"
    fork_id: int
    template: str
    version: str
    destination: ForkDestination
    repo_path: str
    answers: dict[str, Any]

    def entity_id(self) -> int:
        return self.fork_id

    def summary(self) -> str:
        return f"{self.template} {self.version} -> {self.repo_path or 'a zip download'}"

    def after(self) -> JSONDict:
        return {"template": self.template, "version": self.version, "destination": self.destination.value,
                "repo_path": self.repo_path, "answers": self.answers}


@dataclass(frozen=True)
class ForkUpdated(Event):
    """A fork's repository got a branch updating it to a newer template version, with any conflicting files."""

    action: ClassVar[str] = "template.fork_updated"
    entity_type: ClassVar[str] = "template_fork"
    fork_id: int
    template: str
    from_version: str
    to_version: str
    branch: str
    conflicts: list[str]

    def entity_id(self) -> int:
        return self.fork_id

    def summary(self) -> str:
        return (f"{self.template} {self.from_version} -> {self.to_version} on {self.branch}"
                + (f"; conflicts in {', '.join(self.conflicts)}" if self.conflicts else ""))

    def after(self) -> JSONDict:
        return {"branch": self.branch, "version": self.to_version, "conflicts": self.conflicts}


@dataclass(frozen=True)
class TemplateDetailsEdited(Event):
    """An admin edited a template's listing details (display name, summary, category, tags, owner)."""

    action: ClassVar[str] = "template.details_edited"
    entity_type: ClassVar[str] = "template"
    name: str
    old: JSONDict  # only the fields that changed
    new: JSONDict

    def entity_id(self) -> str:
        return self.name

    def summary(self) -> str:
        return "edited " + ", ".join(self.new)

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return self.new


TEMPLATE_EVENTS: tuple[type[Event], ...] = (TemplateRegistered, TemplateUpdated, TemplateTrustChanged,
                                            TemplateTrustRequested,
                                            TemplateDetailsEdited, TemplateForked, ForkUpdated)
