"""The model lifecycle as a state machine: which moves exist, who may make them, and what each needs.

    proposed ──► under review ──► approved ◄──► restricted (named teams/departments)
        │             │  │            │              │
        └──► rejected ◄┘  └► proposed  └──► deprecated ◄┘ ──► retired
                                            (date + replacement; can be reinstated)

Every move needs a reason and records one audit event in the same transaction. Reviewers and admins
make the moves; the person who requested a model never approves it (four eyes). The only system principal
holding `review` is the seed's (portal.core.principals), which moves the demo cards it has just created and
nobody requested; an import never moves a card (catalog.as_code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from catalog.models import CatalogModel, ModelStatus
from catalog.events import ModelTransitioned
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, PermissionDenied, PortalError
from portal.core.principals import Principal

S = ModelStatus
# (from, to) -> the verb a reviewer sees on the button.
TRANSITIONS: dict[tuple[ModelStatus, ModelStatus], str] = {
    (S.PROPOSED, S.UNDER_REVIEW): "start review",
    (S.PROPOSED, S.REJECTED): "reject",
    (S.UNDER_REVIEW, S.APPROVED): "approve",
    (S.UNDER_REVIEW, S.RESTRICTED): "approve for named teams",
    (S.UNDER_REVIEW, S.REJECTED): "reject",
    (S.UNDER_REVIEW, S.PROPOSED): "send back",
    (S.APPROVED, S.RESTRICTED): "restrict",
    (S.RESTRICTED, S.APPROVED): "open to everyone",
    (S.APPROVED, S.DEPRECATED): "deprecate",
    (S.RESTRICTED, S.DEPRECATED): "deprecate",
    (S.DEPRECATED, S.APPROVED): "reinstate",
    (S.DEPRECATED, S.RETIRED): "retire",
}
APPROVING = (S.APPROVED, S.RESTRICTED)
MAX_REASON_LENGTH = 1000
DEFAULT_REVIEW_INTERVAL = timedelta(days=180)


@dataclass(frozen=True)
class TransitionRequest:
    """What a reviewer asks for: the target status, why, and what that target needs."""

    target: ModelStatus
    reason: str
    teams: list[str] = field(default_factory=list)  # for restricted
    departments: list[str] = field(default_factory=list)  # for restricted
    deprecated_on: date | None = None  # for deprecated
    replacement_name: str = ""  # for deprecated
    next_review_on: date | None = None  # for approved / restricted
    retired_on: date | None = None  # for retired: today when not given


def allowed_targets(status: ModelStatus | str) -> list[ModelStatus]:
    """The statuses a model in `status` can move to."""
    return [target for (source, target) in TRANSITIONS if source == ModelStatus(status)]


def apply_transition(*, session: Session, actor: Principal, model: CatalogModel, request: TransitionRequest,
                     replacement: CatalogModel | None = None) -> CatalogModel:
    """Move the model to the requested status after every check; records the audit event."""
    require(actor, Permission.REVIEW)
    source = model.status
    if (source, request.target) not in TRANSITIONS:
        raise InvalidInput(f"A {source.label} model cannot become {request.target.label}; from here it can become: "
                           + (", ".join(t.label for t in allowed_targets(source)) or "nothing (final)") + ".")
    reason = checked_reason(request.reason)
    if request.target in APPROVING and model.requested_by_id is not None and model.requested_by_id == actor.id:
        raise PermissionDenied("You requested this model, so someone else must approve it (four eyes).")
    before = model.snapshot()
    _apply_target(model, actor, request, replacement)
    _claim(session, model, source, request.target)
    model.status = request.target
    model.updated_at = utcnow()
    session.add(model)
    record(session, actor, ModelTransitioned(model=model.name, from_status=source, to_status=request.target,
                                             reason=reason, old=before, new=model.snapshot()))
    session.flush()
    return model


class LifecycleConflict(PortalError):
    """Someone moved the model after the reviewer opened it: nothing changed."""

    def __init__(self, *, name: str, expected: ModelStatus, current: ModelStatus) -> None:
        super().__init__(f"Someone moved '{name}' to {current.label} while you were deciding on it as "
                         f"{expected.label}. Nothing was changed; open the card again to see where it stands.")
        self.expected, self.current = expected, current


def _claim(session: Session, model: CatalogModel, source: ModelStatus, target: ModelStatus) -> None:
    """Move the row from `source` to `target` only if it is still at `source`: two moves at once cannot both win."""
    # One guarded UPDATE: PostgreSQL re-checks the condition after waiting on the row lock, SQLite serialises
    # writers, so the loser sees zero rows on both.
    # No autoflush: the claim must be this transaction's first write to the row.
    with session.no_autoflush:
        claimed = session.execute(
            update(CatalogModel).where(col(CatalogModel.id) == model.id, col(CatalogModel.status) == source)
            .values(status=target).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            return
        current = session.execute(select(CatalogModel.status).where(CatalogModel.id == model.id)).scalar_one()
    name = model.name
    session.expire(model)  # drop the refused move's changes, so nothing can flush them later
    raise LifecycleConflict(name=name, expected=source, current=current)


def checked_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason for this change; it goes into the audit log.")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(f"The reason is {len(reason)} characters long; at most {MAX_REASON_LENGTH} fit.")
    return reason


def _apply_target(model: CatalogModel, actor: Principal, request: TransitionRequest,
                  replacement: CatalogModel | None) -> None:
    """Set the fields the target status needs, refusing when they are missing."""
    target = request.target
    if target == S.RESTRICTED:
        teams = _clean_names(request.teams)
        departments = _clean_names(request.departments)
        if not teams and not departments:
            raise InvalidInput("Name at least one team or department the model is restricted to.")
        model.restricted_teams, model.restricted_departments = teams, departments
    elif target == S.APPROVED:
        model.restricted_teams, model.restricted_departments = [], []
    if target in APPROVING:
        model.approved_by_id, model.approved_at = actor.id, utcnow()
        model.next_review_on = request.next_review_on or (utcnow().date() + DEFAULT_REVIEW_INTERVAL)
    if target == S.DEPRECATED:
        _check_replacement(model, replacement, request.replacement_name)
        if request.deprecated_on is None:
            raise InvalidInput("Give the date from which the model is deprecated.")
        model.deprecated_on, model.replacement_name = request.deprecated_on, request.replacement_name
    elif target == S.APPROVED and model.status == S.DEPRECATED:
        model.deprecated_on, model.replacement_name = None, ""
    if target == S.RETIRED:
        model.retired_on = request.retired_on or utcnow().date()


def _check_replacement(model: CatalogModel, replacement: CatalogModel | None, name: str) -> None:
    if not name:
        raise InvalidInput("Name the model that replaces this one, so its users know where to go.")
    if replacement is None:
        raise InvalidInput(f"There is no model '{name}' in the catalog to replace it with.")
    if replacement.id == model.id:
        raise InvalidInput("A model cannot replace itself.")
    if replacement.status not in APPROVING:
        raise InvalidInput(f"The replacement '{name}' is {replacement.status.label}; "
                           "pick an approved or restricted model.")


def _clean_names(names: list[str]) -> list[str]:
    return sorted({name.strip() for name in names if name and name.strip()})
