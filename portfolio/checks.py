"""Graduation checks that read other features' data: template lineage, courses held, and use in the last 30 days.

Each is computed in SQL (aggregates over the owner and the owning team's members), never by loading their rows.
The owning team is the owner and every person whose team is the use case's team; a use case without a team has
only its owner. Names a use case links to come from portfolio.links.linked, whatever stores them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, literal, or_, union_all
from sqlmodel import Session, col, select

from metering.models import CallStatus, UsageEvent
from portal.core.audit import utcnow
from portal.core.users import User
from portfolio.links import linked
from portfolio.models import UseCase
from prompt_library.models import Prompt, PromptTestRun
from templates.models import TemplateEntry, TemplateFork
from templates.registry import BUILTIN_DIR
from training.models import Certificate, Course
from training.unlocks import named_courses

RECENT_DAYS = 30  # "used recently" looks back this far; its cost is the cost of one month
USED = (CallStatus.OK.value, CallStatus.INTERRUPTED.value)  # calls that answered (fully or in part)


@dataclass(frozen=True)
class GraduationPolicy:
    """What the checks obey from the settings (portal.deps builds it); the defaults are the settings' defaults."""

    team_trained_share: float = 0.5  # of the owning team's members who must hold the required courses


@dataclass(frozen=True)
class Met:
    """A check that passed, with what the page should say about it (a cost, a count)."""

    detail: str


Outcome = str | Met | None  # None: met, nothing to add; a str: what is missing


@dataclass(frozen=True)
class CheckInput:
    """What a check reads besides the database: the use case, its criterion's courses, the policy and the time."""

    use_case: UseCase
    courses: Sequence[str] = ()
    policy: GraduationPolicy = GraduationPolicy()
    now: datetime | None = None


def _members(use_case: UseCase) -> Select:
    """The ids of the owner and the owning team's members, for `in_` inside a check's query."""
    whose = User.id == use_case.owner_id
    return select(User.id).where(or_(whose, User.team == use_case.team) if use_case.team else whose)


def _team_words(use_case: UseCase) -> str:
    return f"the owner or the {use_case.team} team" if use_case.team else "the owner (the use case names no team)"


def forked_current(session: Session, given: CheckInput) -> Outcome:
    """Each linked template has a fork by the owner or the team (or a linked fork) on the template's current version."""
    use_case = given.use_case
    names = linked(session, use_case.id, "template")
    if not names:
        return Met("it links no template")
    fork_ids = [int(ref) for ref in linked(session, use_case.id, "fork") if ref.isdigit()]
    theirs = or_(col(TemplateFork.user_id).in_(_members(use_case)), col(TemplateFork.id).in_(fork_ids))
    current = func.sum(case((TemplateFork.template_version == TemplateEntry.version, 1), else_=0))
    rows = session.exec(
        select(TemplateEntry.name, func.count(col(TemplateFork.id)), current, func.max(TemplateFork.id))
        .select_from(TemplateEntry)
        .outerjoin(TemplateFork, and_(TemplateFork.template_id == TemplateEntry.id, theirs))
        .where(col(TemplateEntry.name).in_(names)).group_by(TemplateEntry.name)).all()
    found = {name: (forks, on_current or 0, newest) for name, forks, on_current, newest in rows}
    behind = _newest_forks(session, [newest for forks, on_current, newest in found.values() if forks and
                                     not on_current])
    problems = []
    for name in names:
        forks, on_current, newest = found.get(name, (None, 0, None))
        if forks is None and not _builtin(name):
            problems.append(f"{name} is not a registered template")
        elif not forks:  # a built-in is registered when the templates are first opened: none forked it yet
            problems.append(f"{name} has no fork by {_team_words(use_case)}")
        elif not on_current:
            problems.append(behind[newest])
    return "; ".join(problems) or None


def _builtin(name: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9][a-z0-9-]*", name)) and (BUILTIN_DIR / name).is_dir()


def _newest_forks(session: Session, fork_ids: list[int]) -> dict[int, str]:
    """For each fork, the sentence saying it is behind its template's current version, and by what."""
    if not fork_ids:
        return {}
    rows = session.exec(select(TemplateFork, TemplateEntry.name, TemplateEntry.version, User.email)
                        .join(TemplateEntry, col(TemplateEntry.id) == TemplateFork.template_id)
                        .join(User, col(User.id) == TemplateFork.user_id)
                        .where(col(TemplateFork.id).in_(fork_ids))).all()
    said = {}
    for fork, name, version, email in rows:
        waiting = (f"; an update to {version} waits on its branch {fork.update_branch}"
                   if fork.update_version == version and fork.update_branch else "")
        said[fork.id] = (f"{name}'s newest fork, {fork.project_name} (by {email}, {fork.created_at:%Y-%m-%d}), is on "
                         f"version {fork.template_version}, behind the template's current {version}{waiting}")
    return said


def courses_held(session: Session, given: CheckInput) -> Outcome:
    """The owner holds every required course, and so does the configured share of the owning team."""
    use_case, slugs, now = given.use_case, list(given.courses), given.now
    owner_holds = _owner_holds(session, use_case, slugs, now)
    unknown = [slug for slug in slugs if slug not in owner_holds]
    if unknown:
        return ("the criteria file names course(s) the portal does not know: " + ", ".join(unknown) +
                "; fix the slug in portfolio/criteria.yaml, or load the courses (coe-portal training sync)")
    members, trained = _team_trained(session, use_case, slugs, now)
    share = given.policy.team_trained_share
    courses = named_courses(session=session, slugs=slugs)
    team = f"the {use_case.team} team (the owner included)" if use_case.team else "the owner's team of one"
    counted = f"{trained} of {members} in {team} ({_percent(trained, members)}; {share:.0%} needed)"
    lacking = [slug for slug in slugs if not owner_holds[slug]]
    problems = []
    if lacking:
        problems.append(f"the owner holds no valid certificate of {named_courses(session=session, slugs=lacking)}")
    if trained < share * members - 1e-9:
        problems.append(f"{counted} hold {courses}")
    return "; ".join(problems) if problems else Met(f"the owner and {counted} hold {courses}")


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def _valid(now: datetime | None):
    return or_(col(Certificate.expires_at).is_(None), col(Certificate.expires_at) > (now or utcnow()))


def _owner_holds(session: Session, use_case: UseCase, slugs: list[str], now: datetime | None) -> dict[str, bool]:
    """Each required course the portal knows, and whether the owner holds a valid certificate of it."""
    owners = and_(col(Certificate.course_id) == Course.id, Certificate.user_id == use_case.owner_id, _valid(now))
    rows = session.exec(select(Course.slug, func.count(col(Certificate.id)))
                        .outerjoin(Certificate, owners)
                        .where(col(Course.slug).in_(slugs)).group_by(Course.slug)).all()
    return {slug: bool(held) for slug, held in rows}


def _team_trained(session: Session, use_case: UseCase, slugs: list[str], now: datetime | None) -> tuple[int, int]:
    """How many of the owning team's active members there are, and how many hold every course (one aggregate)."""
    owner = User.id == use_case.owner_id
    member = or_(owner, and_(User.team == use_case.team, col(User.active))) if use_case.team else owner
    held = (select(Certificate.user_id, func.count(func.distinct(Certificate.course_id)).label("held"))
            .join(Course, col(Course.id) == Certificate.course_id)
            .where(col(Course.slug).in_(slugs), _valid(now),
                   col(Certificate.user_id).in_(select(User.id).where(member).correlate(None)))
            .group_by(Certificate.user_id).subquery())
    members, trained = session.exec(
        select(func.count(), func.coalesce(func.sum(case((func.coalesce(held.c.held, 0) >= len(slugs), 1),
                                                         else_=0)), 0))
        .select_from(User).outerjoin(held, held.c.user_id == User.id).where(member)).one()
    return members, trained


def used_recently(session: Session, given: CheckInput) -> Outcome:
    """Each linked model and prompt was used through the portal by the owner or the team in the last 30 days."""
    use_case = given.use_case
    models, prompts = linked(session, use_case.id, "model"), linked(session, use_case.id, "prompt")
    if not models and not prompts:
        return Met("it links no model or prompt, so there is no use to look for")
    used = _recent_use(session, use_case, models, prompts, given.now)
    cost = sum(spent for _, spent in used.values())
    unused = [f"model {name}" for name in models if ("model", name) not in used]
    unused += [f"prompt {slug}" for slug in prompts if ("prompt", slug) not in used]
    # The portal records a prompt's test runs, not the applications that fetch it: say what counted.
    how = "; a prompt's use is its test runs in the portal" if prompts else ""
    if unused:
        return (f"not used through the portal in the last {RECENT_DAYS} days by {_team_words(use_case)}: "
                + ", ".join(unused) + how + f"; ${cost:,.2f} spent in those {RECENT_DAYS} days")
    calls = sum(uses for (kind, _), (uses, _) in used.items() if kind == "model")
    runs = sum(uses for (kind, _), (uses, _) in used.items() if kind == "prompt")
    return Met(f"used in the last {RECENT_DAYS} days: {len(models)} model(s) in {calls} call(s), {len(prompts)} "
               f"prompt(s) in {runs} test run(s){how}; cost per month ${cost:,.2f} (the last {RECENT_DAYS} days)")


def _recent_use(session: Session, use_case: UseCase, models: list[str], prompts: list[str],
                now: datetime | None) -> dict[tuple[str, str], tuple[int, float]]:
    """(kind, name) -> (uses, dollars) in the window, for the team's calls to linked models and runs of its prompts."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    members = _members(use_case)
    calls = (select(literal("model").label("kind"), col(UsageEvent.model_name).label("name"),
                    func.count().label("uses"), func.coalesce(func.sum(UsageEvent.cost_usd), 0.0).label("cost"))
             .where(col(UsageEvent.model_name).in_(models), col(UsageEvent.at) >= since,
                    col(UsageEvent.user_id).in_(members), col(UsageEvent.status).in_(USED))
             .group_by(UsageEvent.model_name))
    # A run on a linked model was metered as a call above already: count only the other runs' cost.
    run_cost = case((col(PromptTestRun.model_name).in_(models), 0.0), else_=PromptTestRun.cost_usd)
    runs = (select(literal("prompt").label("kind"), col(Prompt.slug).label("name"), func.count().label("uses"),
                   func.coalesce(func.sum(run_cost), 0.0).label("cost"))
            .join(Prompt, col(Prompt.id) == PromptTestRun.prompt_id)
            .where(col(Prompt.slug).in_(prompts), col(PromptTestRun.finished_at) >= since,
                   col(PromptTestRun.run_by_id).in_(members))
            .group_by(Prompt.slug))
    rows = session.execute(union_all(calls, runs)).all()
    return {(kind, name): (uses, float(cost)) for kind, name, uses, cost in rows}
