"""The template registry: built-in templates kept in step with the repository, admins' registrations, trust."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, select

from portal.core.audit import AuditEvent, record, utcnow
from templates.events import (
    TemplateDetailsEdited,
    TemplateRegistered,
    TemplateTrustChanged,
    TemplateTrustRequested,
    TemplateUpdated,
)
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, NotFound, StaleEdit
from portal.core.revisions import save_if_unchanged
from portal.core.principals import SYSTEM_SCHEDULER, Principal
from portal.core.settings import Settings
from portal.core.users import User
from templates.models import TemplateEntry, TemplateSource, TemplateTrustSnapshot
from templates.sandbox import RenderLimits
from templates.trust_review import (
    PartDiff,
    SnapshotTooLarge,
    diff_parts,
    last_trusted_snapshot,
    pending_snapshot,
    take_snapshot,
)
from templates.source import check_repository_url, content_hash, fetch_repository, is_slug, mirror_version, read_template, scratch_dir

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
NOUN = "template"
# What an admin may edit of a registered template's listing; a new version's portal.yml sets them again.
DETAIL_FIELDS = ("display_name", "summary", "category", "tags", "owner")


@dataclass(frozen=True)
class TemplateStore:
    """Where templates and forks live on disk, and how big, slow and memory-hungry a render may be."""

    sources_dir: Path
    repos_dir: Path
    max_output_bytes: int = 20_000_000
    render_timeout_s: float = 30.0
    render_memory_mb: int = 512
    trust_snapshot_max_bytes: int = 200_000

    @classmethod
    def from_settings(cls, settings: Settings) -> TemplateStore:
        return cls(sources_dir=settings.templates_sources_dir.resolve(),
                   repos_dir=settings.templates_repos_dir.resolve(),
                   max_output_bytes=settings.templates_max_output_bytes,
                   render_timeout_s=settings.templates_render_timeout_s,
                   render_memory_mb=settings.templates_render_memory_mb,
                   trust_snapshot_max_bytes=settings.templates_trust_snapshot_max_bytes)

    @property
    def limits(self) -> RenderLimits:
        return RenderLimits(timeout_s=self.render_timeout_s, memory_mb=self.render_memory_mb,
                            max_output_bytes=self.max_output_bytes)

    def mirror(self, name: str) -> Path:
        return self.sources_dir / name


def get_template(*, session: Session, name: str) -> TemplateEntry:
    """The registered template called `name`."""
    entry = session.exec(select(TemplateEntry).where(TemplateEntry.name == name)).first()
    if entry is None:
        raise NotFound(f"There is no template '{name}'.")
    return entry


def sync_builtin_templates(*, session: Session, store: TemplateStore, folder: Path = BUILTIN_DIR) -> list[str]:
    """Register each built-in template, or record its new version when its files changed; returns what changed."""
    # A start-up job: the scheduler's principal keeps the built-ins in step with the repository.
    require(SYSTEM_SCHEDULER, Permission.MANAGE_TEMPLATES)
    changed = []
    for template_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        version = content_hash(template_dir)
        existing = session.exec(select(TemplateEntry).where(TemplateEntry.name == template_dir.name)).first()
        if existing is not None and existing.version == version:
            continue
        _store_version(session=session, store=store, actor=SYSTEM_SCHEDULER, name=template_dir.name, folder=template_dir,
                       version=version, source=TemplateSource.BUILTIN, source_url=f"builtin:{template_dir.name}")
        changed.append(template_dir.name)
    return changed


def register_template(*, session: Session, actor: User, store: TemplateStore, url: str, name: str = "") -> TemplateEntry:
    """Register a template from a git repository (local path or URL), or record its newer version; admins only."""
    require(actor, Permission.MANAGE_TEMPLATES)
    url = check_repository_url(url.strip())
    name = (name or Path(url.rstrip("/")).name.removesuffix(".git")).strip().lower()
    if not is_slug(name):
        raise InvalidInput(f"Name the template with 2-80 lower-case letters, digits and dashes (got {name!r}).")
    existing = session.exec(select(TemplateEntry).where(TemplateEntry.name == name)).first()
    if existing is not None and existing.source == TemplateSource.BUILTIN.value:
        raise InvalidInput(f"'{name}' is a built-in template; register yours under another name.")
    work = scratch_dir(store.sources_dir)
    try:
        checkout, version = fetch_repository(url, work)
        return _store_version(session=session, store=store, actor=actor, name=name, folder=checkout,
                              version=version, source=TemplateSource.GIT, source_url=url)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _store_version(*, session: Session, store: TemplateStore, actor: Principal, name: str, folder: Path,
                   version: str, source: TemplateSource, source_url: str) -> TemplateEntry:
    """Read the folder, mirror it as a new version, and create or update the registry row, audited."""
    info = read_template(folder, name=name)  # refuses non-templates and escaping symlinks before anything is stored
    ref = mirror_version(folder=folder, mirror=store.mirror(name), version=version)
    entry = session.exec(select(TemplateEntry).where(TemplateEntry.name == name)).first()
    before = entry.snapshot() if entry else None
    if entry is None:
        entry = TemplateEntry(name=name, version=version, mirror_ref=ref, registered_by_id=actor.id)
    seen = (entry.version, entry.source_url, entry.mirror_ref)
    for field_name in ("display_name", "summary", "category", "tags", "owner", "tech_stack",
                       "recommended_models", "readme", "unsafe_features"):
        setattr(entry, field_name, getattr(info, field_name))
    entry.questions = [q.to_dict() for q in info.questions]
    entry.source, entry.source_url, entry.version, entry.mirror_ref = source.value, source_url, version, ref
    entry.updated_at = utcnow()
    if before:
        # In SQL, so an admin who opened the entry before this version arrived cannot save over it unawares.
        entry.revision = TemplateEntry.revision + 1  # type: ignore[assignment]
    if before and seen != (version, source_url, ref):
        # Trust covered exactly what two admins looked at: another version or repository needs their eyes again.
        entry.trusted, entry.trusted_by_id = False, None
        entry.trust_requested_by_id, entry.trust_requested_revision = None, None
    session.add(entry)
    session.flush()
    session.refresh(entry)
    record(session, actor, TemplateUpdated(name=name, version=version, source_url=source_url, old=before,
                                           new=entry.snapshot()) if before else
           TemplateRegistered(name=name, version=version, source_url=source_url, entry=entry.snapshot()))
    return entry


class TrustRequestOutdated(InvalidInput):
    """The template's unsafe parts are no longer what the trust request showed."""


def request_trust(*, session: Session, actor: User, store: TemplateStore, name: str,
                  base_revision: int) -> TemplateEntry:
    """Ask for the revision the admin looked at to be trusted, keeping a snapshot of its unsafe parts; admins only."""
    require(actor, Permission.MANAGE_TEMPLATES)
    entry = get_template(session=session, name=name)
    if entry.trusted:
        raise InvalidInput(f"'{name}' is already trusted.")
    # Taken before anything is written: a template too large to show is refused with nothing changed.
    snapshot = take_snapshot(mirror=store.mirror(name), ref=entry.mirror_ref, max_bytes=store.trust_snapshot_max_bytes)
    seen = (entry.version, entry.source_url, entry.mirror_ref)
    save_if_unchanged(session, entry, base_revision=base_revision, noun=NOUN, values={
        "trust_requested_by_id": actor.id, "trust_requested_revision": base_revision + 1, "updated_at": utcnow()})
    # The row stayed at base_revision, so the snapshot is of the version this request is for.
    session.add(TemplateTrustSnapshot(
        template_id=entry.id, version=seen[0], source_url=seen[1], mirror_ref=seen[2], files=snapshot.files,
        file_hashes=snapshot.file_hashes, content_hash=snapshot.content_hash, size_bytes=snapshot.size_bytes,
        requested_by_id=actor.id))
    record(session, actor, TemplateTrustRequested(name=name, version=entry.version, revision=entry.revision,
                                                  unsafe_features=list(entry.unsafe_features),
                                                  content_hash=snapshot.content_hash))
    return entry


def approve_trust(*, session: Session, actor: User, store: TemplateStore, name: str,
                  base_revision: int) -> TemplateEntry:
    """Trust a template another admin asked to trust, if nothing changed since their request; admins only."""
    require(actor, Permission.MANAGE_TEMPLATES)
    entry = get_template(session=session, name=name)
    if entry.trust_requested_by_id is None:
        raise InvalidInput(f"Nobody has asked to trust '{name}'; request trust first.")
    if entry.trust_requested_by_id == actor.id:
        raise InvalidInput(f"You asked to trust '{name}' yourself: a second admin must approve it.")
    if entry.trust_requested_revision != entry.revision:
        # A new version or edit came after the request: the requester did not see what would be trusted.
        raise StaleEdit(noun=NOUN, base=entry.trust_requested_revision or 0, latest=entry.revision,
                        message=f"'{name}' changed after trust was requested (revision "
                                f"{entry.trust_requested_revision}, now {entry.revision}); request trust again.")
    requested = _unchanged_since_request(session=session, store=store, entry=entry)
    before = entry.snapshot()
    save_if_unchanged(session, entry, base_revision=base_revision, noun=NOUN, values={
        "trusted": True, "trusted_by_id": actor.id, "trust_requested_by_id": None,
        "trust_requested_revision": None, "updated_at": utcnow()})
    requested.approved_by_id, requested.approved_at = actor.id, utcnow()  # now the last trusted state
    session.add(requested)
    record(session, actor, TemplateTrustChanged(name=name, trusted=True, old=before, new=entry.snapshot(),
                                                content_hash=requested.content_hash,
                                                file_hashes=dict(requested.file_hashes)))
    return entry


def _unchanged_since_request(*, session: Session, store: TemplateStore, entry: TemplateEntry) -> TemplateTrustSnapshot:
    """The pending request's snapshot, if the template's current version still has exactly those unsafe parts."""
    requested = pending_snapshot(session=session, entry=entry)
    if requested is None:
        raise TrustRequestOutdated(f"The trust request for '{entry.name}' has no snapshot of its unsafe parts to "
                                   "approve (it predates them); reject it and request trust again.")
    current = ""
    if (entry.version, entry.source_url, entry.mirror_ref) == (requested.version, requested.source_url,
                                                               requested.mirror_ref):
        try:  # what forks would run: the mirror's files now, not what the database remembers
            current = take_snapshot(mirror=store.mirror(entry.name), ref=entry.mirror_ref,
                                    max_bytes=max(store.trust_snapshot_max_bytes, requested.size_bytes)).content_hash
        except SnapshotTooLarge:
            current = ""  # grown past what the request showed: changed
    if current != requested.content_hash:
        raise TrustRequestOutdated(
            f"'{entry.name}' changed after trust was requested: its unsafe parts are no longer those the request "
            f"showed (sha256 {requested.content_hash[:12]}, now {current[:12] or 'other files'}). Nothing was "
            "trusted; request trust again.")
    return requested


@dataclass(frozen=True)
class TrustReview:
    """What an approver checks: the requested unsafe parts, diffed against the last trusted ones."""

    requested: TemplateTrustSnapshot
    last_trusted: TemplateTrustSnapshot | None
    parts: list[PartDiff]


def review_trust_request(*, session: Session, actor: User, name: str) -> TrustReview | None:
    """The pending trust request's unsafe parts and their diff to the last trusted version; None without one."""
    require(actor, Permission.MANAGE_TEMPLATES)
    entry = get_template(session=session, name=name)
    requested = pending_snapshot(session=session, entry=entry)
    if requested is None:
        return None
    last = last_trusted_snapshot(session=session, entry=entry)
    return TrustReview(requested=requested, last_trusted=last,
                       parts=diff_parts(dict(last.files) if last else None, dict(requested.files)))


def trust_requester(*, session: Session, entry: TemplateEntry) -> str:
    """The e-mail of the admin who asked to trust the template, or "" when nobody did."""
    requester = session.get(User, entry.trust_requested_by_id) if entry.trust_requested_by_id else None
    return requester.email if requester else ""


def last_trusted_features(*, session: Session, name: str) -> list[str] | None:
    """The unsafe features of the template's last trusted version (from the audit log), or None if never trusted."""
    approvals = session.exec(select(AuditEvent.after).where(
        AuditEvent.action == TemplateTrustChanged.action, AuditEvent.entity_id == name)
        .order_by(AuditEvent.id.desc())).all()  # type: ignore[union-attr]
    return next((list(a.get("unsafe_features", [])) for a in approvals if a and a.get("trusted")), None)


def revoke_trust(*, session: Session, actor: User, name: str) -> TemplateEntry:
    """Stop trusting a template and drop any pending request; one admin may always make things safer."""
    require(actor, Permission.MANAGE_TEMPLATES)
    entry = get_template(session=session, name=name)
    before = entry.snapshot()
    save_if_unchanged(session, entry, base_revision=entry.revision, noun=NOUN, values={
        "trusted": False, "trusted_by_id": None, "trust_requested_by_id": None,
        "trust_requested_revision": None, "updated_at": utcnow()})
    record(session, actor, TemplateTrustChanged(name=name, trusted=False, old=before, new=entry.snapshot()))
    return entry


class TemplateDetails(BaseModel):
    """The listing details an admin edits: what the template catalog shows and filters on."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    display_name: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=500)
    category: str = Field(default="", max_length=80)
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=30)
    owner: str = Field(default="", max_length=200)


def edit_template_details(*, session: Session, actor: User, name: str, base_revision: int,
                          details: dict[str, Any]) -> TemplateEntry:
    """Edit a template's listing details if it is still at `base_revision`; admins only, audited field by field."""
    require(actor, Permission.MANAGE_TEMPLATES)
    try:
        parsed = TemplateDetails.model_validate(details)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"Please correct: {problems}.") from None
    entry = get_template(session=session, name=name)
    values = parsed.model_dump()
    values["tags"] = sorted({tag.lower() for tag in values["tags"]})
    changed = {key: value for key, value in values.items() if getattr(entry, key) != value}
    if not changed:
        return entry
    before = {key: getattr(entry, key) for key in changed}
    save_if_unchanged(session, entry, base_revision=base_revision, noun=NOUN,
                      values={**changed, "updated_at": utcnow()})
    record(session, actor, TemplateDetailsEdited(name=name, old=before, new=changed))
    return entry
