"""The prompt library's audit events: prompts created, versioned, forked, labelled, reviewed, tested, imported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from portal.core.audit import Event, JSONDict, Moved, ValueChange


@dataclass(frozen=True)
class _PromptEvent(Event):
    """An event about one prompt, named by its slug (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "prompt"
    entity_field: ClassVar[str] = "slug"
    slug: str


@dataclass(frozen=True)
class PromptCreated(_PromptEvent):
    action: ClassVar[str] = "prompt.created"
    title: str
    version: int

    def summary(self) -> str:
        return f"created '{self.title}'"

    def after(self) -> JSONDict:
        return {"version": self.version}


@dataclass(frozen=True)
class PromptVersionSaved(_PromptEvent, ValueChange):
    action: ClassVar[str] = "prompt.version_saved"
    moved: ClassVar[Moved] = Moved("version", old="previous_version", new="version")
    version: int
    change_note: str
    previous_version: int

    def summary(self) -> str:
        return f"v{self.version}: {self.change_note}"


@dataclass(frozen=True)
class PromptForked(_PromptEvent):
    """A private copy was made (`slug` is the fork's) of another prompt's latest version."""

    action: ClassVar[str] = "prompt.forked"
    source: str
    source_version: int

    def summary(self) -> str:
        return f"forked from {self.source} v{self.source_version}"


@dataclass(frozen=True)
class PromptLabelMoved(_PromptEvent):
    """A label (production, staging, …) now points at another version (it pointed at none before: None)."""

    action: ClassVar[str] = "prompt.label_moved"
    label: str
    from_version: int | None
    to_version: int

    def summary(self) -> str:
        if self.from_version:
            return f"{self.label}: v{self.from_version} → v{self.to_version}"
        return f"{self.label} → v{self.to_version}"

    def before(self) -> JSONDict:
        return {"label": self.label, "version": self.from_version}

    def after(self) -> JSONDict:
        return {"label": self.label, "version": self.to_version}


@dataclass(frozen=True)
class ReviewRequested(_PromptEvent):
    action: ClassVar[str] = "prompt.review_requested"
    kind: str
    version: int

    def summary(self) -> str:
        return f"{self.kind} v{self.version}"


@dataclass(frozen=True)
class ReviewDecided(_PromptEvent):
    action: ClassVar[str] = "prompt.review_decided"
    kind: str
    version: int
    state: str
    comment: str

    def summary(self) -> str:
        return f"{self.kind} v{self.version} {self.state}: {self.comment}"


@dataclass(frozen=True)
class PromptUnpublished(_PromptEvent, ValueChange):
    action: ClassVar[str] = "prompt.unpublished"
    moved: ClassVar[Moved] = Moved("status", old="from_status", new="to_status")
    from_status: str
    to_status: str

    def summary(self) -> str:
        return "unpublished"


@dataclass(frozen=True)
class PromptDeleted(_PromptEvent):
    action: ClassVar[str] = "prompt.deleted"
    title: str
    status: str
    versions: int

    def summary(self) -> str:
        return f"deleted '{self.title}'"

    def before(self) -> JSONDict:
        return {"title": self.title, "status": self.status, "versions": self.versions}


@dataclass(frozen=True)
class PromptTrustChanged(_PromptEvent, ValueChange):
    """An admin allowed (or forbade) jinja2 templates for the prompt."""

    action: ClassVar[str] = "prompt.trust_changed"
    moved: ClassVar[Moved] = Moved("trusted", old="was_trusted", new="trusted")
    was_trusted: bool
    trusted: bool

    def summary(self) -> str:
        return f"trusted: {self.trusted}"


@dataclass(frozen=True)
class PromptTestCasesSaved(_PromptEvent):
    action: ClassVar[str] = "prompt.test_cases_saved"
    cases: int

    def summary(self) -> str:
        return f"{self.cases} test case(s)"


@dataclass(frozen=True)
class PromptTestsRun(_PromptEvent):
    """A version's test cases ran on some models: (model, cases passed, cases) for each."""

    action: ClassVar[str] = "prompt.tests_run"
    version: int
    results: list[tuple[str, int, int]]

    def summary(self) -> str:
        return f"v{self.version} on " + ", ".join(f"{model} {passed}/{cases}" for model, passed, cases in self.results)


@dataclass(frozen=True)
class PromptsImported(Event):
    action: ClassVar[str] = "prompt.imported"
    entity_type: ClassVar[str] = "prompt"
    created: int
    already_there: int

    def entity_id(self) -> str:
        return "*"

    def summary(self) -> str:
        return f"{self.created} prompt(s) imported, {self.already_there} already there"


PROMPT_EVENTS: tuple[type[Event], ...] = (PromptCreated, PromptVersionSaved, PromptForked, PromptLabelMoved,
                                          ReviewRequested, ReviewDecided, PromptUnpublished, PromptDeleted,
                                          PromptTrustChanged, PromptTestCasesSaved, PromptTestsRun, PromptsImported)
