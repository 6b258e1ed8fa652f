"""Template tables: the registry of copier templates, and every fork made from one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow


class TemplateSource(StrEnum):
    BUILTIN = "builtin"  # shipped in templates/builtin
    GIT = "git"  # registered by an admin from a git repository (a local path or URL)


class ForkDestination(StrEnum):
    ZIP = "zip"  # downloaded as a zip archive
    GIT = "git"  # a new git repository under the templates_repos_dir setting

    @property
    def label(self) -> str:
        return "zip download" if self is ForkDestination.ZIP else "new git repository"


class TemplateEntry(SQLModel, table=True):
    """One registered template: what the catalog shows, its current version, and whether it is trusted."""

    __tablename__ = "template_entry"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True, index=True)  # a slug: lower-case, digits and dashes
    display_name: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    category: str = Field(default="", max_length=80, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str = Field(default="", max_length=200)
    tech_stack: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recommended_models: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(default=TemplateSource.BUILTIN.value, max_length=20)
    source_url: str = Field(default="", max_length=1000)  # the builtin folder, or the git repository
    version: str = Field(max_length=80)  # the git tag, or a content hash
    # The tag of this version in the portal's mirror repository (1, 2, ...): forks render from it, updates diff it.
    mirror_ref: str = Field(max_length=40)
    readme: str = Field(default="", sa_column=Column(Text, nullable=False))
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unsafe_features: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trusted: bool = False  # an admin allowed its unsafe features (tasks, migrations, Jinja extensions)
    trusted_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    # Trust takes two admins: one requests it for the revision they looked at, a different one approves it.
    trust_requested_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    trust_requested_revision: int | None = None
    registered_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Counts saved edits; an edit names the revision it started from, so a stale one is refused, not lost.
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps of the entry."""
        return {"name": self.name, "version": self.version, "source": self.source, "source_url": self.source_url,
                "trusted": self.trusted, "unsafe_features": list(self.unsafe_features)}


class TemplateTrustSnapshot(SQLModel, table=True):
    """What a trust request showed of one template version: copier.yml and every file it runs, with their hashes."""

    __tablename__ = "template_trust_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="template_entry.id", index=True)
    version: str = Field(max_length=80)
    source_url: str = Field(default="", max_length=1000)
    mirror_ref: str = Field(max_length=40)
    # Kept in the database, not read back from the mirror: every replica shows the approver the same text.
    files: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    file_hashes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    size_bytes: int = 0
    requested_by_id: int = Field(foreign_key="portal_user.id")
    requested_at: datetime = Field(default_factory=utcnow)
    # Set when a second admin approves: the newest approved snapshot is the template's last trusted state.
    approved_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    approved_at: datetime | None = None


class TemplateFork(SQLModel, table=True):
    """A project generated from a template: which version, with which answers, by whom, and where it went."""

    __tablename__ = "template_fork"
    # (template, created_at) serves the lineage's newest forks and months; (template, team) lets the list count
    # forks and distinct teams per template from the index alone (50 ms -> 5 ms on 50,000 forks).
    __table_args__ = (Index("ix_template_fork_template_created", "template_id", "created_at"),
                      Index("ix_template_fork_template_team", "template_id", "team"))

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="template_entry.id")
    template_version: str = Field(max_length=80)
    project_name: str = Field(max_length=200)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    team: str = Field(default="", max_length=120)
    department: str = Field(default="", max_length=120)
    destination: str = Field(max_length=10)  # a ForkDestination
    repo_path: str = Field(default="", max_length=1000)  # the git repository, for git forks
    update_branch: str = Field(default="", max_length=200)  # the branch the last update left its result on
    update_version: str = Field(default="", max_length=80)  # the template version that update brought
    created_at: datetime = Field(default_factory=utcnow)
