"""Sign-offs and waivers of graduation criteria, and the operations fields the criteria check."""

from __future__ import annotations

from sqlmodel import Session

from portal.core.audit import record, utcnow
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.revisions import save_if_unchanged
from portal.core.users import User
from portfolio.advance import advance_if_ready
from portfolio.criteria import CriteriaFile, default_criteria
from portfolio.events import CriterionDecided, OperationsSaved
from portfolio.models import CriterionDecision, CriterionKind, UseCase
from portfolio.service import MAX_LONG, MIN_REASON, NOUN, get_use_case

OPERATIONS_FIELDS = ("on_call_owner", "rollback_plan", "monitoring_url")


def decide_criterion(*, session: Session, actor: User, use_case_id: int, criterion: str, to_stage: str,
                     kind: CriterionKind, reason: str = "", criteria: CriteriaFile | None = None) -> CriterionDecision:
    """A reviewer who is not the owner signs off a criterion no data checks, or waives any criterion, saying why."""
    require(actor, Permission.REVIEW)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if actor.id == use_case.owner_id:
        raise PermissionDenied("You own this use case, so a reviewer who does not must sign or waive its criteria.")
    kind, reason = CriterionKind(kind), (reason or "").strip()
    spec = next((s for s in (criteria or default_criteria()).for_move(int(use_case.tier or 0), to_stage)
                 if s.key == criterion), None)
    if spec is None:
        raise InvalidInput(f"No criterion {criterion} guards a tier-{int(use_case.tier or 0)} move to {to_stage}.")
    if kind == CriterionKind.SIGNED and spec.check is not None:
        raise InvalidInput(f"The portal checks “{spec.title}” from its own data; it can be waived, not signed.")
    if len(reason) > MAX_LONG or (kind == CriterionKind.WAIVED and len(reason) < MIN_REASON):
        raise InvalidInput(f"Say why the criterion is waived (between {MIN_REASON} and {MAX_LONG} characters).")
    decision = CriterionDecision(use_case_id=use_case.id, criterion=spec.key, to_stage=to_stage, kind=kind.value,
                                 by_id=actor.id, reason=reason)
    session.add(decision)
    session.flush()
    record(session, actor, CriterionDecided(use_case_id=use_case.id, title=use_case.title, criterion=spec.key,
                                            to_stage=to_stage, kind=kind.value, reason=reason))
    advance_if_ready(session=session, use_case_id=use_case.id)  # tier 1 moves to pilot on its own once ready
    return decision


def save_operations(*, session: Session, actor: User, use_case_id: int, on_call_owner: str, rollback_plan: str,
                    monitoring_url: str, base_revision: int) -> UseCase:
    """The owner or a reviewer fills in the on-call owner, the rollback plan and the monitoring link."""
    require(actor, Permission.BROWSE)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if actor.id != use_case.owner_id and not has_permission(actor, Permission.REVIEW):
        raise PermissionDenied("Only the use case's owner or a reviewer may edit its operations.")
    new = {"on_call_owner": (on_call_owner or "").strip(), "rollback_plan": (rollback_plan or "").strip(),
           "monitoring_url": (monitoring_url or "").strip()}
    problems = [f"{name.replace('_', ' ')} has more than {limit} characters" for name, limit in
                (("on_call_owner", 200), ("rollback_plan", 5000), ("monitoring_url", 500)) if len(new[name]) > limit]
    if new["monitoring_url"] and not new["monitoring_url"].startswith(("https://", "http://")):
        problems.append("the monitoring link must be a web address starting with https://")
    if problems:
        raise InvalidInput("Cannot save the operations: " + "; ".join(problems) + ". Nothing was saved.")
    old = {name: getattr(use_case, name) for name in OPERATIONS_FIELDS}
    changed = [name for name in OPERATIONS_FIELDS if old[name] != new[name]]
    save_if_unchanged(session, use_case, base_revision=base_revision, noun=NOUN,
                      values={**new, "updated_at": utcnow()})
    record(session, actor, OperationsSaved(use_case_id=use_case.id, title=use_case.title,
                                           old={k: old[k] for k in changed}, new={k: new[k] for k in changed}))
    advance_if_ready(session=session, use_case_id=use_case.id)
    return use_case
