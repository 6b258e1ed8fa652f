"""Labels and four eyes: publishing to the organisation and moving `production` need another person's approval.

Other labels (staging, custom) move at once. Moving production to an older version is a rollback; it is
reviewed like any promotion. A version whose tests fail on a recommended model never becomes production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from portal.core.audit import record, utcnow
from prompt_library.events import PromptLabelMoved, PromptUnpublished, ReviewDecided, ReviewRequested
from portal.core.auth import Permission, require
from portal.core.capabilities import NOTHING_REQUIRED, Capability, CapabilityGate
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, PortalError
from portal.core.users import User
from prompt_library.models import (
    PRODUCTION,
    Prompt,
    PromptComment,
    PromptLabel,
    PromptReview,
    PromptStatus,
    PromptVersion,
    ReviewKind,
    ReviewState,
    Visibility,
)
from prompt_library.runner import production_gate_problems
from prompt_library.card import CardChange, changes_on_approval, show_to_readers
from prompt_library.reading import diff_texts, editable_prompt, version_by_number, version_text, visible_prompt

_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_COMMENT = 2000


def labels_of(*, session: Session, prompt_id: int) -> dict[str, int]:
    """Label name -> version number."""
    rows = session.exec(select(PromptLabel.name, PromptVersion.number)
                        .join(PromptVersion, PromptVersion.id == PromptLabel.version_id)
                        .where(PromptLabel.prompt_id == prompt_id).order_by(PromptLabel.name)).all()
    return dict(rows)


def move_label(*, session: Session, actor: User, prompt_id: int, label: str, version: int) -> PromptLabel:
    """Point a label other than production at a version (promote, roll back); production goes through review."""
    label = label.strip().lower()
    if label == PRODUCTION:
        raise PermissionDenied("Moving production needs a reviewer's approval: request it instead.")
    if not _LABEL.match(label):
        raise InvalidInput("A label is 1–40 lower-case letters, digits, '-' or '_', starting with a letter.")
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    target = version_by_number(session=session, prompt_id=prompt.id, number=version)
    return _point(session, actor, prompt, label, target)


def _point(session: Session, actor: User, prompt: Prompt, label: str, target: PromptVersion) -> PromptLabel:
    row = session.exec(select(PromptLabel).where(PromptLabel.prompt_id == prompt.id,
                                                 PromptLabel.name == label)).first()
    before = None
    if row is None:
        row = PromptLabel(prompt_id=prompt.id, name=label, version_id=target.id, moved_by_id=actor.id)
    else:
        before = session.get(PromptVersion, row.version_id).number
        row.version_id, row.moved_by_id, row.moved_at = target.id, actor.id, utcnow()
    session.add(row)
    record(session, actor, PromptLabelMoved(slug=prompt.slug, label=label, from_version=before,
                                            to_version=target.number))
    session.flush()
    return row


def request_review(*, session: Session, actor: User, prompt_id: int, kind: ReviewKind | str,
                   version: int, comment: str = "",
                   capabilities: CapabilityGate = NOTHING_REQUIRED) -> PromptReview:
    """Ask a reviewer to publish the prompt or to move production to a version.

    `capabilities` is training's CourseGate (PORTAL_TRAINING_REQUIRED_COURSES): publishing may need a course.
    """
    kind = ReviewKind(kind)
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if kind is ReviewKind.PUBLISH:
        capabilities.require(session=session, user=actor, capability=Capability.PUBLISH_PROMPTS)
    target = version_by_number(session=session, prompt_id=prompt.id, number=version)
    if kind is ReviewKind.PRODUCTION:
        _refuse_failing(session, prompt, target)
    pending = session.exec(select(PromptReview).where(PromptReview.prompt_id == prompt.id,
                                                      PromptReview.kind == kind.value,
                                                      PromptReview.state == ReviewState.PENDING.value)).first()
    if pending is not None:
        raise InvalidInput("A review of this kind is already waiting for this prompt.")
    review = PromptReview(prompt_id=prompt.id, version_id=target.id, kind=kind.value, requested_by_id=actor.id,
                          comment=_checked(comment, required=False))
    session.add(review)
    if kind is ReviewKind.PUBLISH and prompt.status != PromptStatus.PUBLISHED:
        prompt.status = PromptStatus.IN_REVIEW.value
        session.add(prompt)
    session.flush()
    record(session, actor, ReviewRequested(slug=prompt.slug, kind=kind.value, version=target.number))
    return review


class ReviewDecidedMeanwhile(PortalError):
    """Another reviewer decided the request after this reviewer opened it: nothing changed."""

    def __init__(self, *, state: str) -> None:
        super().__init__(f"Another reviewer {state} this request while you were deciding on it. Nothing was "
                         "changed; open the queue again to see where it stands.")
        self.state = state


def decide_review(*, session: Session, actor: User, review_id: int, approve: bool, comment: str) -> PromptReview:
    """Approve or reject a request; the author of the version or the requester never decides it."""
    require(actor, Permission.REVIEW)
    review = session.get(PromptReview, review_id)
    if review is None or review.state != ReviewState.PENDING:
        raise NotFound("That review request does not exist or is already decided.")
    prompt, target = session.get(Prompt, review.prompt_id), session.get(PromptVersion, review.version_id)
    if actor.id in (review.requested_by_id, target.author_id, prompt.owner_id):
        raise PermissionDenied("You wrote or requested this, so another reviewer must decide it (four eyes).")
    comment = _checked(comment, required=not approve)
    if approve and review.kind == ReviewKind.PRODUCTION:
        _refuse_failing(session, prompt, target)  # before the claim: a refusal leaves the request pending
    _claim(session, review, actor, ReviewState.APPROVED if approve else ReviewState.REJECTED, comment)
    if approve:
        _carry_out(session, actor, review, prompt, target)
    elif review.kind == ReviewKind.PUBLISH and prompt.status == PromptStatus.IN_REVIEW:
        prompt.status = PromptStatus.DRAFT.value
    session.add_all([review, prompt])
    if comment:
        session.add(PromptComment(version_id=target.id, author_id=actor.id, body=comment))
    record(session, actor, ReviewDecided(slug=prompt.slug, kind=review.kind, version=target.number,
                                         state=review.state, comment=comment))
    session.flush()
    return review


def _claim(session: Session, review: PromptReview, actor: User, state: ReviewState, comment: str) -> None:
    """Decide the request only if it is still pending: approve and reject at the same moment cannot both win."""
    decided_at = utcnow()
    # One guarded UPDATE, this transaction's first write: PostgreSQL re-checks the condition after waiting on the
    # row lock, SQLite serialises writers, so the loser sees zero rows on both.
    with session.no_autoflush:
        claimed = session.execute(
            update(PromptReview).where(col(PromptReview.id) == review.id,
                                       col(PromptReview.state) == ReviewState.PENDING.value)
            .values(state=state.value, reviewer_id=actor.id, decided_at=decided_at, comment=comment)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            current = session.execute(select(PromptReview.state).where(PromptReview.id == review.id)).scalar_one()
            session.expire(review)
            raise ReviewDecidedMeanwhile(state=current)
    review.state, review.reviewer_id, review.decided_at, review.comment = state.value, actor.id, decided_at, comment


def _carry_out(session: Session, actor: User, review: PromptReview, prompt: Prompt, target: PromptVersion) -> None:
    if review.kind == ReviewKind.PRODUCTION:
        _refuse_failing(session, prompt, target)  # tests may have been re-run since the request
        _point(session, actor, prompt, PRODUCTION, target)
    else:
        prompt.status, prompt.visibility = PromptStatus.PUBLISHED.value, Visibility.ORGANISATION.value
    _approve_version(session, prompt, target)


def _approve_version(session: Session, prompt: Prompt, version: PromptVersion) -> None:
    """A reviewer approved this version: readers, its card, search and `latest` move to it when it is the newest
    approved."""
    if version.number > prompt.approved_version:
        prompt.approved_version = version.number
        show_to_readers(prompt, version)
        session.add(prompt)


def _refuse_failing(session: Session, prompt: Prompt, target: PromptVersion) -> None:
    problems = production_gate_problems(session=session, prompt=prompt, version=target)
    if problems:
        raise InvalidInput(f"v{target.number} cannot be labelled production: " + "; ".join(problems))


def _checked(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise InvalidInput("Say why in a comment, so the author knows what to change.")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"The comment is {len(comment)} characters long; at most {MAX_COMMENT} fit.")
    return comment


def review_queue(*, session: Session, actor: User) -> list[tuple[PromptReview, Prompt, PromptVersion]]:
    """Pending requests the actor may decide (not their own), oldest first."""
    require(actor, Permission.REVIEW)
    rows = session.exec(select(PromptReview, Prompt, PromptVersion)
                        .join(Prompt, Prompt.id == PromptReview.prompt_id)
                        .join(PromptVersion, PromptVersion.id == PromptReview.version_id)
                        .where(PromptReview.state == ReviewState.PENDING.value)
                        .order_by(col(PromptReview.requested_at))).all()
    return [(r, p, v) for r, p, v in rows if actor.id not in (r.requested_by_id, v.author_id, p.owner_id)]


@dataclass(frozen=True)
class PendingReview:
    """A request in the queue with what approving it changes: the messages (a diff) and the card readers see."""

    review: PromptReview
    prompt: Prompt
    version: PromptVersion
    baseline: int  # the version the diff starts from (0: none, `text` is the whole version)
    diff: str
    text: str
    card_changes: list[CardChange]


def pending_reviews(*, session: Session, actor: User) -> list[PendingReview]:
    """The actor's review queue, each request with its message diff and card changes."""
    return [_with_changes(session, review, prompt, version)
            for review, prompt, version in review_queue(session=session, actor=actor)]


def _with_changes(session: Session, review: PromptReview, prompt: Prompt, version: PromptVersion) -> PendingReview:
    baseline = _baseline(session, review, prompt, version)
    diff = ""
    if baseline:
        before = version_by_number(session=session, prompt_id=prompt.id, number=baseline)
        diff = diff_texts(version_text(before), version_text(version), f"v{baseline}", f"v{version.number}")
    return PendingReview(review=review, prompt=prompt, version=version, baseline=baseline, diff=diff,
                         text=version_text(version), card_changes=changes_on_approval(prompt, version))


def _baseline(session: Session, review: PromptReview, prompt: Prompt, version: PromptVersion) -> int:
    """What approval replaces: production's version, else the approved one, else the version before."""
    # Against the version before alone, a reviewer of v3 would never see what v2 changed, unreviewed.
    production = labels_of(session=session, prompt_id=prompt.id).get(PRODUCTION, 0)
    if review.kind == ReviewKind.PRODUCTION and production and production != version.number:
        return production
    if 0 < prompt.approved_version < version.number:
        return prompt.approved_version
    return version.number - 1


def add_comment(*, session: Session, actor: User, prompt_id: int, version: int, body: str) -> PromptComment:
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    target = version_by_number(session=session, prompt_id=prompt.id, number=version)
    comment = PromptComment(version_id=target.id, author_id=actor.id, body=_checked(body, required=True))
    session.add(comment)
    session.flush()
    return comment


def comments_by_version(*, session: Session, prompt_id: int) -> dict[int, list[PromptComment]]:
    """Every comment on the prompt's versions, by version number, oldest first (one query for all versions)."""
    rows = session.exec(select(PromptVersion.number, PromptComment).join(
        PromptVersion, col(PromptVersion.id) == PromptComment.version_id).where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptComment.created_at), col(PromptComment.id))).all()
    by_version: dict[int, list[PromptComment]] = {}
    for number, comment in rows:
        by_version.setdefault(number, []).append(comment)
    return by_version


def unpublish(*, session: Session, actor: User, prompt_id: int) -> Prompt:
    """Take a prompt out of the library (kept with its history; the search index drops it on the next sync)."""
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    before = prompt.status
    prompt.status, prompt.visibility = PromptStatus.ARCHIVED.value, Visibility.PRIVATE.value
    session.add(prompt)
    record(session, actor, PromptUnpublished(slug=prompt.slug, from_status=before, to_status=prompt.status))
    return prompt
