"""The portfolio as code: every use case as one YAML document, and its import through the form's own services.

Each use case is named by its key (portfolio.keys): set once from the first title and never changed, so a file
still names the same use case after its title is edited, and two use cases may share a title. The schema is in
portfolio.portfolio_file.

Import is for admins, acting as themselves. It validates the whole file, then creates and edits use cases through
save_use_case, save_operations and set_tier — the checks and audit events of the pages — in the caller's one
transaction: one entry refused and it raises, listing every problem, and the caller's rollback leaves nothing. Four eyes no file can bypass: an import never moves a use case to
another stage, never lowers a tier and never creates approvals or sign-offs. A new use case starts at idea
(submitted, or a draft as the file says); stage, tier and history values of the file that differ from the
portal's are reported entry by entry and left as they are. Re-importing an export changes and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from catalog.models import DataClassification, RiskTier
from portal.core import safe_yaml
from portal.core.audit import AuditEvent, record
from portal.core.auth import Permission, SystemPrincipal, has_permission, require
from portal.core.errors import PermissionDenied, PortalError, StaleEdit
from portal.core.principals import Principal
from portal.core.users import User
from portal.core.yaml_models import Problem
from portfolio.events import PortfolioImported
from portfolio.graduation import OPERATIONS_FIELDS, save_operations
from portfolio.links import links_of_many
from portfolio.models import CriterionDecision, UseCase
from portfolio.portfolio_file import (
    SCHEMA_VERSION,
    HistorySpec,
    PortfolioFileError,
    UseCaseSpec,
    parse_portfolio,
)
from portfolio.service import UseCaseForm, form_of, save_use_case, set_tier

# No portfolio permission of its own yet: importing is an admin's act, as a catalog import is.
IMPORT_PERMISSION = Permission.MANAGE_CATALOG
STAGE_WHY = "stage moves go through the portal's approvals"
WHY = {"stage": STAGE_WHY, "draft": "a submitted use case does not go back to being a draft",
       "tier.proposed": "the portal proposes the tier from the answers",
       "tier.reviewer": "a reviewer raises a tier on the use case's page; an import never lowers one",
       "history": "history is what the portal recorded: an import never creates stage moves, approvals or "
                  "sign-offs"}


@dataclass(frozen=True)
class NotApplied:
    """A value of the file the import left as the portal has it, and why."""

    key: str
    field: str
    in_file: Any
    in_portal: Any

    def __str__(self) -> str:
        why = WHY["history" if self.field.startswith("history.") else self.field]
        return (f"{self.key}: {self.field} is {_shown(self.in_file)} in the file, {_shown(self.in_portal)} in the "
                f"portal ({why})")


@dataclass(frozen=True)
class PortfolioImport:
    created: list[str]
    updated: list[str]
    unchanged: int
    not_applied: tuple[NotApplied, ...] = ()

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "(none)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


# ---- export ---------------------------------------------------------------------------------------------------

def export_portfolio(*, session: Session, actor: Principal) -> str:
    """Every use case the actor may see (others' drafts only for reviewers) as YAML, sorted by key."""
    require(actor, Permission.BROWSE)
    query = select(UseCase)
    if not has_permission(actor, Permission.REVIEW):
        query = query.where(col(UseCase.draft).is_(False) | (UseCase.proposed_by_id == actor.id)
                            | (UseCase.owner_id == actor.id))
    use_cases = sorted(session.exec(query).all(), key=lambda uc: uc.key)
    emails = dict(session.exec(select(User.id, User.email)).all())
    histories = _histories(session, [uc.id for uc in use_cases], emails)
    links = links_of_many(session, [uc.id for uc in use_cases])
    entries = [_entry(uc, emails, histories[uc.id], links[uc.id]) for uc in use_cases]
    body = safe_yaml.dump({"schema_version": SCHEMA_VERSION, "use_cases": entries})
    return "# The AI CoE use-case portfolio. Load it with: coe-portal portfolio import FILE --as ADMIN-EMAIL\n" + body


def _form(uc: UseCase, emails: dict[int, str], links: dict[str, list[str]]) -> UseCaseForm:
    return UseCaseForm.of(uc, owner_email=emails.get(uc.owner_id, "") if uc.owner_id else "", links=links)


def _entry(uc: UseCase, emails: dict[int, str], history: dict[str, Any],
           links: dict[str, list[str]]) -> dict[str, Any]:
    """One use case as its file entry; empty values are left out (they read back as the defaults)."""
    form = _form(uc, emails, links)
    entry = {
        "key": uc.key, "title": form.title, "problem": form.problem, "who_has_it": form.who_has_it,
        "department": form.department, "team": form.team, "owner": form.owner_email,
        "value": {"amount": form.value_amount, "unit": form.value_unit.value, "assumption": form.value_assumption},
        "classification": form.classification and DataClassification(form.classification).label,
        "people_affected": form.people_affected and form.people_affected.value, "human_review": form.human_review,
        "autonomy": form.autonomy and form.autonomy.value,
        "models": form.models, "prompts": form.prompts, "templates": form.templates,
        "forks": form.forks, "courses": form.courses, "documents": form.documents, "draft": uc.draft,
        "operations": {name: getattr(uc, name) for name in OPERATIONS_FIELDS},
        "tier": {"proposed": _int(uc.proposed_tier), "reviewer": _int(uc.reviewer_tier), "reason": uc.tier_reason},
        "stage": uc.stage, "stage_reason": uc.stage_reason, "paused_from": uc.paused_from, "history": history,
    }
    return _pruned(entry)


def _int(tier: RiskTier | None) -> int | None:
    return None if tier is None else int(tier)


def _pruned(value: Any) -> Any:
    """The value without None, empty text, empty lists and mappings left empty by that."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    return value


def _at(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _histories(session: Session, ids: list[int], emails: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Each use case's recorded history: who proposed it, its stage moves with approvers, criterion decisions."""
    wanted = set(ids)
    proposers = dict(session.exec(select(UseCase.id, UseCase.proposed_by_id)).all())
    histories: dict[int, dict[str, Any]] = {
        i: {"proposed_by": emails.get(proposers[i], ""), "stage_moves": [], "criteria": []} for i in ids}
    moves = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "use_case",
                                                  AuditEvent.action == "use_case.stage_moved")
                         .order_by(col(AuditEvent.at), col(AuditEvent.id))).all()
    for event in moves:
        use_case_id = int(event.entity_id)
        if use_case_id in wanted:
            after, before = event.after or {}, event.before or {}
            histories[use_case_id]["stage_moves"].append(_pruned({
                "from_stage": before.get("stage", ""), "to_stage": after.get("stage", ""), "at": _at(event.at),
                "by": event.actor_email, "approvers": list(after.get("approvers", [])),
                "reason": after.get("reason", "")}))
    decisions = session.exec(select(CriterionDecision).order_by(col(CriterionDecision.id))).all()
    for d in decisions:
        if d.use_case_id in wanted:
            histories[d.use_case_id]["criteria"].append(_pruned({
                "criterion": d.criterion, "to_stage": d.to_stage, "kind": d.kind, "by": emails.get(d.by_id, ""),
                "reason": d.reason, "at": _at(d.at)}))
    return histories


# ---- import ---------------------------------------------------------------------------------------------------

def import_portfolio(*, session: Session, actor: Principal, text: str, source: str = "<portfolio>") -> PortfolioImport:
    """Validate the whole file, then create and edit its use cases as one audited change; the caller commits (or,
    on an error, rolls back: nothing of the file stays)."""
    user = _importer(actor)
    document, lines = parse_portfolio(text, source=source)
    emails = dict(session.exec(select(User.id, User.email)).all())
    # One transaction, the caller's: a refused entry raises, and the caller's rollback (session_scope) undoes the
    # entries before it. No savepoint: on SQLite one would start the transaction with the reads, and a concurrent
    # import's commit would then fail this one with "database is locked" instead of the message below.
    created, updated, applied = _apply_all(session, user, list(zip(document.use_cases, lines)), source)
    histories = _histories(session, [uc.id for _, uc in applied], emails)
    not_applied = [note for spec, uc in applied for note in _not_applied(spec, uc, histories[uc.id])]
    result = PortfolioImport(created=created, updated=updated,
                             unchanged=len(document.use_cases) - len(created) - len(updated),
                             not_applied=tuple(not_applied))
    if created or updated:  # re-importing what is there records nothing
        record(session, user, PortfolioImported(source=source, created=created, updated=updated,
                                                unchanged=result.unchanged, not_applied=len(not_applied)))
    session.flush()
    return result


def _apply_all(session: Session, user: User, entries: list[tuple[UseCaseSpec, int]], source: str
               ) -> tuple[list[str], list[str], list[tuple[UseCaseSpec, UseCase]]]:
    """Apply every entry; (created keys, updated keys, each entry with its use case), or every problem by line."""
    existing = {uc.key: uc for uc in session.exec(select(UseCase)).all()}
    created, updated, applied, problems = [], [], [], []
    for spec, line in entries:
        try:
            outcome, use_case = _apply(session, user, spec, existing.get(spec.key))
        except StaleEdit:
            # Someone saved this use case (or created its key) since the import read the portal: the database may
            # refuse anything more in this transaction, so stop here; the caller's rollback undoes the rest.
            raise PortfolioFileError(f"{source}, line {line}: {spec.key}: someone changed this use case while the "
                                     "file was being imported. Nothing was imported; import it again.") from None
        except PortalError as error:
            problems.append(Problem(source, line, f"{spec.key}: {error.message}", ("use_cases",)))
            continue
        {"created": created, "updated": updated}.get(outcome, []).append(spec.key)
        applied.append((spec, use_case))
    if problems:
        raise PortfolioFileError.listing(problems, footer="Nothing was imported.")
    return created, updated, applied


def _importer(actor: Principal) -> User:
    """The admin importing: a person, so every edit is theirs in the audit log and the form's checks apply."""
    if isinstance(actor, SystemPrincipal):
        raise PermissionDenied(f"{actor.name} may not import a portfolio: a named admin imports it (coe-portal "
                               "portfolio import FILE --as ADMIN-EMAIL), so each change is theirs.")
    if not has_permission(actor, IMPORT_PERMISSION):
        raise PermissionDenied(f"Only an admin may import a portfolio file; your role ({actor.role}) may not. "
                               "Nothing was imported.")
    return actor


def _spec_form(spec: UseCaseSpec) -> UseCaseForm:
    """The form an entry fills in, normalised as the form's save would store it (so equal means unchanged)."""
    def names(values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))

    return UseCaseForm(
        title=spec.title, problem=spec.problem, who_has_it=spec.who_has_it, department=spec.department,
        team=spec.team, owner_email=spec.owner, value_amount=spec.value.amount, value_unit=spec.value.unit,
        value_assumption=spec.value.assumption,
        classification=spec.classification and DataClassification.parse(spec.classification),
        people_affected=spec.people_affected, human_review=spec.human_review, autonomy=spec.autonomy,
        models=names(spec.models), prompts=names(spec.prompts), templates=names(spec.templates),
        forks=names(spec.forks), courses=names(spec.courses), documents=names(spec.documents))


def _apply(session: Session, actor: User, spec: UseCaseSpec, use_case: UseCase | None) -> tuple[str, UseCase]:
    """Create or edit one use case through the form's services: 'created', 'updated' or 'unchanged'."""
    form = _spec_form(spec)
    if use_case is None:
        use_case = save_use_case(session=session, actor=actor, form=form, submit=not spec.draft, key=spec.key)
        outcome = "created"
    else:
        shown, revision = form_of(session=session, actor=actor, use_case_id=use_case.id)
        submit = use_case.draft and not spec.draft
        changed = submit or any(getattr(shown, f.name) != getattr(form, f.name) for f in fields(UseCaseForm))
        if changed:
            save_use_case(session=session, actor=actor, form=form, submit=submit, use_case_id=use_case.id,
                          base_revision=revision)
        outcome = "updated" if changed else "unchanged"
    operations = spec.operations.model_dump()
    if operations != {name: getattr(use_case, name) for name in OPERATIONS_FIELDS}:
        save_operations(session=session, actor=actor, use_case_id=use_case.id, base_revision=use_case.revision,
                        **operations)
        outcome = "updated" if outcome == "unchanged" else outcome
    wanted = spec.tier.reviewer
    if wanted and use_case.tier is not None and wanted > use_case.tier:  # only ever up: set_tier checks the rest
        set_tier(session=session, actor=actor, use_case_id=use_case.id, tier=RiskTier(wanted),
                 reason=spec.tier.reason, base_revision=use_case.revision)
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome, use_case


def _not_applied(spec: UseCaseSpec, uc: UseCase, history: dict[str, Any]) -> list[NotApplied]:
    """The stage, draft, tier and history values the file gives (and sets) that differ from the portal's."""
    given, notes = spec.model_fields_set, []

    def differs(field: str, in_file: Any, in_portal: Any) -> None:
        if in_file != in_portal:
            notes.append(NotApplied(spec.key, field, in_file, in_portal))

    if given & {"stage", "stage_reason", "paused_from"}:
        differs("stage", _stage(spec.stage.value, spec.stage_reason, spec.paused_from),
                _stage(uc.stage, uc.stage_reason, uc.paused_from))
    if "draft" in given:
        differs("draft", spec.draft, uc.draft)
    tier_given = spec.tier.model_fields_set if "tier" in given else set()
    if "proposed" in tier_given:
        differs("tier.proposed", spec.tier.proposed, _int(uc.proposed_tier))
    if tier_given & {"reviewer", "reason"}:
        differs("tier.reviewer", _tier(spec.tier.reviewer, spec.tier.reason), _tier(_int(uc.reviewer_tier),
                                                                                    uc.tier_reason))
    if "history" in given:
        notes += _history_notes(spec, HistorySpec.model_validate(history))
    return notes


def _stage(stage: str, reason: str, paused_from: Any) -> str:
    paused = f" (from {paused_from})" if paused_from else ""
    return stage + paused + (f": {reason}" if reason else "")


def _tier(tier: int | None, reason: str) -> str | None:
    return None if tier is None else f"{tier}" + (f" ({reason})" if reason else "")


def _history_notes(spec: UseCaseSpec, portal: HistorySpec) -> list[NotApplied]:
    notes = []
    for part in spec.history.model_fields_set:
        in_file, in_portal = getattr(spec.history, part), getattr(portal, part)
        if in_file != in_portal:
            notes.append(NotApplied(spec.key, f"history.{part}", _history_shown(in_file),
                                    _history_shown(in_portal)))
    return sorted(notes, key=lambda n: n.field)


def _history_shown(value: Any) -> Any:
    if isinstance(value, list):
        return f"{len(value)} recorded" if value else "none"
    return value

