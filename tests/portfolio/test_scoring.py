"""Prioritisation: who may score and rank a use case, bad input, history kept, and reviewers acting at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from portfolio.scoring import (
    ChangedMeanwhile,
    Standing,
    decide_priority,
    prioritisation,
    priority_order,
    score_use_case,
    standings,
)
from portfolio.scoring_models import PriorityDecision, UseCaseScore
from portfolio.service import UseCaseForm, save_use_case
from tests.concurrency import run_together

OWNER = "owner"
GOOD = dict(value=4, feasibility=3, value_reason="Saves 1200 clerk hours", feasibility_reason="Data is in the ERP")

# Who scores a contributor's submitted use case -> scored, or refused with the start of the reason.
WHO_SCORES = [
    ("viewer", "refused: Your role (viewer) may not score or rank use cases; that needs the reviewer role."),
    ("contributor", "refused: Your role (contributor) may not score or rank use cases"),
    (OWNER, "refused: You own this use case, so other reviewers score and rank it."),
    ("reviewer", "scored"),
    ("risk_reviewer", "scored"),
    ("admin", "scored"),
]


def actor_for(who, make_user, owner):
    return owner if who == OWNER else make_user(who)


@pytest.mark.parametrize("who, outcome", WHO_SCORES)
def test_who_may_score(session, make_user, make_use_case, who, outcome) -> None:
    owner = make_user("reviewer")  # an owner who may review, so only the owner rule can refuse them
    use_case = make_use_case(2, owner=owner)
    try:
        score_use_case(session=session, actor=actor_for(who, make_user, owner), use_case_id=use_case.id,
                       seen_version=0, **GOOD)
        session.commit()
    except PermissionDenied as refused:
        session.rollback()
        assert outcome.startswith("refused: ") and refused.message.startswith(outcome.removeprefix("refused: "))
        assert session.exec(select(UseCaseScore)).all() == []
        return
    assert outcome == "scored"
    assert standings(session=session, actor=owner, use_case_ids=[use_case.id]) == {use_case.id: Standing(4, 3)}


@pytest.mark.parametrize("who, outcome", WHO_SCORES)
def test_who_may_rank(session, make_user, make_use_case, who, outcome) -> None:
    owner = make_user("reviewer")
    use_case = make_use_case(2, owner=owner)
    try:
        decide_priority(session=session, actor=actor_for(who, make_user, owner), use_case_id=use_case.id,
                        priority=2, note="Next after invoice extraction", seen_version=0)
        session.commit()
    except PermissionDenied as refused:
        session.rollback()
        assert outcome.startswith("refused: ") and refused.message.startswith(outcome.removeprefix("refused: "))
        assert session.exec(select(PriorityDecision)).all() == []
        return
    assert outcome == "scored"
    assert standings(session=session, actor=owner, use_case_ids=[use_case.id])[use_case.id].priority == 2


BAD_SCORES = [
    (dict(value=0), "the value score must be a whole number from 1 to 5, not 0"),
    (dict(feasibility=6), "the feasibility score must be a whole number from 1 to 5, not 6"),
    (dict(value=True), "the value score must be a whole number from 1 to 5, not True"),
    (dict(value_reason="   "), "say why the value scores as it does (5 to 300 characters, not 0)"),
    (dict(feasibility_reason="x" * 301), "say why the feasibility scores as it does (5 to 300 characters, not 301)"),
]


@pytest.mark.parametrize("change, problem", BAD_SCORES)
def test_a_bad_score_names_the_problem_and_saves_nothing(session, make_user, make_use_case, change,
                                                         problem) -> None:
    use_case = make_use_case(1)
    with pytest.raises(InvalidInput) as refused:
        score_use_case(session=session, actor=make_user("reviewer"), use_case_id=use_case.id, seen_version=0,
                       **{**GOOD, **change})
    assert refused.value.message == f"Cannot save the score: {problem}. Nothing was saved."
    session.rollback()
    assert session.exec(select(UseCaseScore)).all() == []


def test_every_problem_of_a_score_is_named_at_once(session, make_user, make_use_case) -> None:
    use_case = make_use_case(1)
    with pytest.raises(InvalidInput) as refused:
        score_use_case(session=session, actor=make_user("reviewer"), use_case_id=use_case.id, seen_version=0,
                       value=9, feasibility=0, value_reason="ok", feasibility_reason="")
    assert refused.value.message.count(";") == 3


@pytest.mark.parametrize("priority, note, problem", [
    (0, "Too early to say", "the priority must be a whole number from 1 (first) to 999, not 0"),
    (1000, "Too early to say", "the priority must be a whole number from 1 (first) to 999, not 1000"),
    (1, "no", "say why in the decision note (5 to 1000 characters, not 2)"),
])
def test_a_bad_priority_names_the_problem(session, make_user, make_use_case, priority, note, problem) -> None:
    use_case = make_use_case(1)
    with pytest.raises(InvalidInput) as refused:
        decide_priority(session=session, actor=make_user("reviewer"), use_case_id=use_case.id, priority=priority,
                        note=note, seen_version=0)
    assert refused.value.message == f"Cannot record the priority: {problem}. Nothing was saved."


def test_a_draft_is_neither_scored_nor_ranked(session, make_user) -> None:
    owner = make_user("contributor")
    draft = save_use_case(session=session, actor=owner, form=UseCaseForm(title="Half an idea"), submit=False)
    session.commit()
    with pytest.raises(InvalidInput, match="This use case is a draft: it is scored and ranked once it is submitted"):
        score_use_case(session=session, actor=make_user("reviewer"), use_case_id=draft.id, seen_version=0, **GOOD)


def test_a_new_score_supersedes_the_last_and_the_history_stays(session, make_user, make_use_case) -> None:
    use_case = make_use_case(2)
    ravi, rosa = make_user("reviewer", email="ravi@example.com"), make_user("risk_reviewer", email="rosa@example.com")
    score_use_case(session=session, actor=ravi, use_case_id=use_case.id, seen_version=0, **GOOD)
    score_use_case(session=session, actor=rosa, use_case_id=use_case.id, seen_version=1,
                   value=5, feasibility=2, value_reason="Customers notice it", feasibility_reason="Tier-3 review first")
    session.commit()
    assert standings(session=session, actor=ravi, use_case_ids=[use_case.id])[use_case.id] == Standing(5, 2)
    shown = prioritisation(session=session, actor=ravi, use_case_id=use_case.id)
    assert [(s.value, s.feasibility, s.by) for s in shown.scores] == [(5, 2, "rosa@example.com"),
                                                                     (4, 3, "ravi@example.com")]
    assert shown.score_version == 2
    scored = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.scored")
                          .order_by(AuditEvent.id)).all()
    assert [(e.entity_id, e.before, e.after["value"]) for e in scored] == [
        (str(use_case.id), {}, 4), (str(use_case.id), {"value": 4, "feasibility": 3}, 5)]


def test_a_score_on_a_stale_page_is_refused_naming_who_scored_meanwhile(session, make_user, make_use_case) -> None:
    use_case = make_use_case(2)
    first, late = make_user("reviewer", email="first@example.com"), make_user("reviewer")
    score_use_case(session=session, actor=first, use_case_id=use_case.id, seen_version=0, **GOOD)
    session.commit()
    with pytest.raises(ChangedMeanwhile) as refused:
        score_use_case(session=session, actor=late, use_case_id=use_case.id, seen_version=0,
                       **{**GOOD, "value": 1})
    assert refused.value.message.startswith("first@example.com scored this use case (value 4, feasibility 3) after "
                                            "your page showed it. Nothing was saved; your entry is still in the form")
    session.rollback()
    assert len(session.exec(select(UseCaseScore)).all()) == 1


def test_the_priority_history_keeps_each_decision_who_took_it_and_why(session, make_user, make_use_case) -> None:
    use_case = make_use_case(1)
    ravi = make_user("reviewer", email="ravi@example.com")
    for version, (rank, note) in enumerate([(3, "After the ERP upgrade"), (1, "The ERP upgrade is done"),
                                            (None, "Paused with the team's move")]):
        decide_priority(session=session, actor=ravi, use_case_id=use_case.id, priority=rank, note=note,
                        seen_version=version)
    session.commit()
    shown = prioritisation(session=session, actor=ravi, use_case_id=use_case.id)
    assert [(d.priority, d.note, d.by) for d in shown.decisions] == [
        (None, "Paused with the team's move", "ravi@example.com"), (1, "The ERP upgrade is done", "ravi@example.com"),
        (3, "After the ERP upgrade", "ravi@example.com")]
    assert shown.priority is None
    with pytest.raises(InvalidInput, match="already has no priority; nothing was changed"):
        decide_priority(session=session, actor=ravi, use_case_id=use_case.id, priority=None, note="Still paused",
                        seen_version=3)
    decided = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.priority_decided")).all()
    assert [(e.before, e.after) for e in decided][-1] == ({"priority": 1}, {"priority": None,
                                                                             "note": "Paused with the team's move"})


def test_standings_read_the_latest_of_many_use_cases_in_one_query(engine, session, make_user, make_use_case) -> None:
    reviewer = make_user("reviewer")
    cases = [make_use_case(1) for _ in range(3)]
    for version, value in enumerate((2, 5)):
        score_use_case(session=session, actor=reviewer, use_case_id=cases[0].id, seen_version=version,
                       **{**GOOD, "value": value})
    decide_priority(session=session, actor=reviewer, use_case_id=cases[1].id, priority=1, note="First things first",
                    seen_version=0)
    session.commit()
    statements = []
    def listen(*args) -> None:  # (conn, cursor, statement, ...)
        statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listen)
    try:
        found = standings(session=session, actor=reviewer, use_case_ids=[c.id for c in cases])
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 1
    assert found == {cases[0].id: Standing(5, 3, None), cases[1].id: Standing(None, None, 1),
                     cases[2].id: Standing()}


def test_the_priority_order_puts_ranks_first_and_breaks_ties_by_value_times_feasibility() -> None:
    items = {"unranked high": Standing(5, 5), "rank 2": Standing(1, 1, 2), "rank 1 low": Standing(2, 2, 1),
             "rank 1 high": Standing(4, 4, 1), "unscored": Standing(), "unranked low": Standing(1, 2)}
    order = sorted(items, key=lambda name: priority_order(items[name]))
    assert order == ["rank 1 high", "rank 1 low", "rank 2", "unranked high", "unranked low", "unscored"]


THREADS = 10


@pytest.mark.parametrize("act", ["score", "rank"])
def test_reviewers_acting_at_the_same_moment_one_lands_the_others_are_told(engine, session, make_user,
                                                                          make_use_case, act) -> None:
    use_case = make_use_case(2)
    reviewers = [make_user("reviewer") for _ in range(THREADS)]
    opened = threading.Barrier(THREADS)

    def act_once(i: int) -> str:
        with Session(engine) as own:
            seen = prioritisation(session=own, actor=reviewers[i], use_case_id=use_case.id)
            opened.wait()  # every reviewer's page showed the use case before anyone saved
            if act == "score":
                score_use_case(session=own, actor=reviewers[i], use_case_id=use_case.id,
                               seen_version=seen.score_version, **{**GOOD, "value": 1 + i % 5})
            else:
                decide_priority(session=own, actor=reviewers[i], use_case_id=use_case.id, priority=i + 1,
                                note=f"Reviewer {i} decides", seen_version=seen.priority_version)
            own.commit()
            return "saved"

    results = run_together(THREADS, act_once)
    assert results.count("saved") == 1, results
    assert all(isinstance(r, ChangedMeanwhile) for r in results if r != "saved"), results
    session.expire_all()
    table = UseCaseScore if act == "score" else PriorityDecision
    assert len(session.exec(select(table)).all()) == 1
    action = "use_case.scored" if act == "score" else "use_case.priority_decided"
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()) == 1
