"""Proposing and editing use cases (drafts included), the reviewer's tier raise, and reading the portfolio."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from sqlmodel import Session, col, select

from catalog.models import CatalogModel, DataClassification, RiskTier
from portal.core.audit import AuditEvent, record, utcnow
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from portal.core.principals import Principal
from portal.core.revisions import insert_new, save_if_unchanged
from portal.core.users import User
from portfolio.events import TierChanged, UseCaseSaved, UseCaseSubmitted
from portfolio.keys import unique_key
from portfolio.links import links_of, set_links
from portfolio.models import EDITABLE_FIELDS, LINK_FIELDS, Autonomy, PeopleAffected, Stage, UseCase, ValueUnit
from portfolio.tiers import RiskAnswers, TierProposal, propose_tier
from prompt_library.models import Prompt
from sandbox.documents.models import SandboxDocument
from templates.models import TemplateEntry, TemplateFork
from training.models import Course
from templates.registry import BUILTIN_DIR

NOUN = "use case"
MAX_TITLE, MAX_SHORT, MAX_LONG, MAX_PROBLEM = 200, 500, 1000, 5000
MIN_REASON = 5
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")  # a built-in template's folder name; nothing that walks out of the folder


@dataclass
class UseCaseForm:
    """What the propose form sends; empty values are allowed in a draft."""

    title: str = ""
    problem: str = ""
    who_has_it: str = ""
    department: str = ""
    team: str = ""
    owner_email: str = ""
    value_amount: float | None = None
    value_unit: ValueUnit = ValueUnit.MONEY
    value_assumption: str = ""
    classification: DataClassification | None = None
    people_affected: PeopleAffected | None = None
    human_review: bool | None = None
    autonomy: Autonomy | None = None
    models: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    forks: list[str] = field(default_factory=list)  # template fork ids, as text
    courses: list[str] = field(default_factory=list)  # course slugs
    documents: list[str] = field(default_factory=list)  # sandbox document ids, as text

    @classmethod
    def of(cls, use_case: UseCase, owner_email: str, links: dict[str, list[str]]) -> UseCaseForm:
        """The form as it shows a saved use case and its links."""
        values = {f.name: getattr(use_case, f.name) for f in fields(cls)
                  if f.name != "owner_email" and f.name not in LINK_FIELDS}
        return cls(**{**values, **{name: list(links.get(name, [])) for name in LINK_FIELDS},
                      "owner_email": owner_email, "value_unit": ValueUnit(use_case.value_unit),
                      "people_affected": _enum(PeopleAffected, use_case.people_affected),
                      "autonomy": _enum(Autonomy, use_case.autonomy)})


def _enum(kind, value):
    return None if value is None else kind(value)


def answers_of(use_case: UseCase) -> RiskAnswers:
    """The risk answers a use case holds."""
    return RiskAnswers(classification=use_case.classification,
                       people_affected=_enum(PeopleAffected, use_case.people_affected),
                       human_review=use_case.human_review, autonomy=_enum(Autonomy, use_case.autonomy))


def tier_proposal(use_case: UseCase) -> TierProposal | None:
    """The tier the portal proposes for the use case now, with its reasons (None while answers are missing)."""
    return propose_tier(answers_of(use_case))


def save_use_case(*, session: Session, actor: User, form: UseCaseForm, submit: bool,
                  use_case_id: int | None = None, base_revision: int = 0, key: str | None = None) -> UseCase:
    """Create or edit a use case; a draft may be incomplete, a submitted one must answer everything.

    A new use case gets `key` (an imported file names it), else one from its title; an edit keeps its key."""
    require(actor, Permission.BROWSE)
    existing = None if use_case_id is None else _editable(session, actor, use_case_id)
    was_draft = existing is None or existing.draft
    draft = was_draft and not submit
    values = _checked_values(session, form, complete=not draft)
    links = {name: values.pop(name) for name in LINK_FIELDS}
    proposal = None if draft else propose_tier(_answers(values))
    values |= {"draft": draft, "proposed_tier": proposal and proposal.tier, "updated_at": utcnow()}
    if existing is None:
        use_case = UseCase(**values, proposed_by_id=actor.id, stage=Stage.IDEA.value,
                           key=key or unique_key(session, values["title"]))
        use_case.tier = proposal and proposal.tier
        insert_new(session, use_case, noun=NOUN)
        old: dict[str, Any] = {}
    else:
        old = answers_and_links(session, existing)
        values["tier"] = proposal and max(proposal.tier, existing.reviewer_tier or proposal.tier)
        save_if_unchanged(session, existing, base_revision=base_revision, values=values, noun=NOUN)
        use_case = existing
    set_links(session, use_case.id, links)
    new = answers_and_links(session, use_case)
    changed = [name for name in EDITABLE_FIELDS if old.get(name) != new[name]] if old else list(EDITABLE_FIELDS)
    record(session, actor, UseCaseSaved(use_case_id=use_case.id, title=use_case.title, draft=draft,
                                        old={k: old[k] for k in changed if k in old},
                                        new={k: new[k] for k in changed}))
    if proposal and was_draft:
        record(session, actor, UseCaseSubmitted(use_case_id=use_case.id, title=use_case.title,
                                                proposed_tier=int(proposal.tier), reasons=list(proposal.reasons)))
    from portfolio.advance import advance_if_ready  # here: it reads portfolio.stages, which reads this module

    advance_if_ready(session=session, use_case_id=use_case.id)  # tier 1 moves to pilot on its own once ready
    return use_case


def answers_and_links(session: Session, use_case: UseCase) -> dict[str, Any]:
    """What an edit's audit event compares: the row's answers and its links."""
    return {**use_case.answers(), **links_of(session, use_case.id)}


def form_of(*, session: Session, actor: User, use_case_id: int) -> tuple[UseCaseForm, int]:
    """The form for editing a use case the actor may edit, and the revision it shows."""
    use_case = _editable(session, actor, use_case_id)
    owner = session.get(User, use_case.owner_id) if use_case.owner_id else None
    return (UseCaseForm.of(use_case, owner_email=owner.email if owner else "",
                           links=links_of(session, use_case.id)), use_case.revision)


def _editable(session: Session, actor: User, use_case_id: int) -> UseCase:
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if actor.id not in (use_case.proposed_by_id, use_case.owner_id) and not has_permission(actor, Permission.REVIEW):
        raise PermissionDenied("Only the person who proposed this use case, its owner or a reviewer may edit it.")
    return use_case


def _answers(values: dict[str, Any]) -> RiskAnswers:
    return RiskAnswers(classification=values["classification"],
                       people_affected=_enum(PeopleAffected, values["people_affected"]),
                       human_review=values["human_review"], autonomy=_enum(Autonomy, values["autonomy"]))


def _checked_values(session: Session, form: UseCaseForm, *, complete: bool) -> dict[str, Any]:
    """The row's values from the form, or InvalidInput naming every problem at once."""
    problems: list[str] = []
    text = {name: (getattr(form, name) or "").strip() for name in
            ("title", "problem", "who_has_it", "department", "team", "value_assumption")}
    limits = {"title": MAX_TITLE, "problem": MAX_PROBLEM, "who_has_it": MAX_SHORT, "department": 120,
              "team": 120, "value_assumption": MAX_LONG}
    problems += [f"{name.replace('_', ' ')} has more than {limits[name]} characters" for name, value in text.items()
                 if len(value) > limits[name]]
    if not text["title"]:
        problems.append("a title (even a draft needs one)")
    if form.value_amount is not None and form.value_amount < 0:
        problems.append("the expected value cannot be negative")
    owner = _owner(session, form.owner_email, problems)
    links = _checked_links(session, form, problems)
    if complete:
        problems += _missing_answers(form, text, owner)
    if problems:
        prefix = "Before submitting, fix or fill in: " if complete else "Cannot save the draft: "
        raise InvalidInput(prefix + "; ".join(problems) + ("." if complete else ". Nothing was saved."))
    return {**text, **links, "owner_id": owner.id if owner else None, "value_amount": form.value_amount,
            "value_unit": ValueUnit(form.value_unit).value, "classification": form.classification,
            "people_affected": form.people_affected and PeopleAffected(form.people_affected).value,
            "human_review": form.human_review, "autonomy": form.autonomy and Autonomy(form.autonomy).value}


def _missing_answers(form: UseCaseForm, text: dict[str, str], owner: User | None) -> list[str]:
    missing = [label for name, label in (("problem", "the problem"), ("who_has_it", "who has the problem"),
                                         ("department", "the owning department"),
                                         ("value_assumption", "the assumption behind the expected value"))
               if not text[name]]
    if owner is None:
        missing.append("a named owner")
    if not form.value_amount:
        missing.append("the expected value per year")
    missing += RiskAnswers(form.classification, form.people_affected, form.human_review, form.autonomy).missing()
    return missing


def _owner(session: Session, email: str, problems: list[str]) -> User | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    owner = session.exec(select(User).where(User.email == email)).first()
    if owner is None or not owner.active:
        problems.append(f"the owner {email} is not an active portal user (they sign in once to become one)")
    return owner if owner is not None and owner.active else None


def _checked_links(session: Session, form: UseCaseForm, problems: list[str]) -> dict[str, list[str]]:
    """The linked assets by form field, each by a name (or id) the portal knows; duplicates dropped."""
    links = {}
    for name in LINK_FIELDS:
        refs = list(dict.fromkeys(str(n).strip() for n in getattr(form, name) or [] if n and str(n).strip()))
        unknown = sorted(set(refs) - _known(session, name, refs)) if refs else []
        if unknown:
            problems.append(f"no {name[:-1]} is named {', '.join(unknown)}" if name in ("models", "prompts",
                                                                                      "templates", "courses")
                            else f"there is no {name[:-1]} {', '.join(unknown)}")
        links[name] = refs
    return links


def _known(session: Session, name: str, refs: list[str]) -> set[str]:
    """Which of the refs name an existing asset of the form field's kind."""
    ids = [int(r) for r in refs if r.isdigit()]
    if name == "models":
        return set(session.exec(select(CatalogModel.name).where(col(CatalogModel.name).in_(refs))))
    if name == "prompts":
        return set(session.exec(select(Prompt.slug).where(col(Prompt.slug).in_(refs))))
    if name == "templates":
        return {*session.exec(select(TemplateEntry.name).where(col(TemplateEntry.name).in_(refs))),
                *(r for r in refs if SLUG.fullmatch(r) and (BUILTIN_DIR / r).is_dir())}
    if name == "courses":
        return set(session.exec(select(Course.slug).where(col(Course.slug).in_(refs))))
    table = TemplateFork if name == "forks" else SandboxDocument
    return {str(i) for i in session.exec(select(table.id).where(col(table.id).in_(ids)))}


def get_use_case(*, session: Session, actor: Principal, use_case_id: int) -> UseCase:
    """One use case; a draft only for its proposer, its owner and reviewers."""
    require(actor, Permission.BROWSE)
    use_case = session.get(UseCase, use_case_id)
    if use_case is None or (use_case.draft and actor.id not in (use_case.proposed_by_id, use_case.owner_id)
                            and not has_permission(actor, Permission.REVIEW)):
        raise NotFound(f"There is no use case {use_case_id} (or it is someone else's draft).")
    return use_case


def set_tier(*, session: Session, actor: User, use_case_id: int, tier: RiskTier, reason: str,
             base_revision: int) -> UseCase:
    """A reviewer sets the tier above the proposal (never below it), saying why."""
    require(actor, Permission.REVIEW)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if use_case.proposed_tier is None:
        raise InvalidInput("This use case is still a draft: the tier is proposed once it is submitted.")
    tier, reason = RiskTier(tier), (reason or "").strip()
    if tier < use_case.proposed_tier:
        raise InvalidInput(f"The tier cannot go below the proposed tier {int(use_case.proposed_tier)}; "
                           "change the answers if they are wrong.")
    if tier == use_case.tier:
        raise InvalidInput(f"The use case is already tier {int(tier)}.")
    if len(reason) < MIN_REASON or len(reason) > MAX_LONG:
        raise InvalidInput(f"Say why the tier changes (between {MIN_REASON} and {MAX_LONG} characters).")
    before = use_case.tier
    save_if_unchanged(session, use_case, base_revision=base_revision, noun=NOUN,
                      values={"reviewer_tier": tier, "tier": tier, "tier_reason": reason, "updated_at": utcnow()})
    record(session, actor, TierChanged(use_case_id=use_case.id, title=use_case.title, from_tier=int(before),
                                       to_tier=int(tier), reason=reason))
    return use_case


def check_revision(use_case: UseCase, base_revision: int) -> None:
    """Refuse to act on a use case that changed since the page showed it."""
    if use_case.revision != base_revision:
        raise StaleEdit(noun=NOUN, base=base_revision, latest=use_case.revision)


def timeline(*, session: Session, actor: Principal, use_case_id: int) -> list[AuditEvent]:
    """Everything recorded about the use case, oldest first."""
    get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    return list(session.exec(select(AuditEvent).where(
        AuditEvent.entity_type == "use_case", AuditEvent.entity_id == str(use_case_id),
    ).order_by(col(AuditEvent.at), col(AuditEvent.id))).all())
