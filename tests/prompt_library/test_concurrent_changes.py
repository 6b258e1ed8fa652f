"""Concurrent changes to one prompt: two decisions on one review never both commit; two saves at once never
end in a raw database error, the later one gets the editor's conflict."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.users import User
from prompt_library.models import Prompt, PromptReview, PromptVersion, ReviewKind, ReviewState
from prompt_library.review import ReviewDecidedMeanwhile, decide_review, request_review
from prompt_library.editing import EditConflict, save_version
from prompt_library.reading import visible_prompt
from tests.prompt_library.conftest import draft

THREADS = 10


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(i) in `count` threads; each result is its return value or the exception it raised."""
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except Exception as exc:  # the test inspects every failure
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_approve_and_reject_of_one_review_at_the_same_moment_only_one_commits(engine, session, make_user,
                                                                            make_prompt) -> None:
    prompt = make_prompt()
    review = request_review(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id,
                            kind=ReviewKind.PUBLISH, version=1)
    session.commit()
    reviewers = [make_user("reviewer") for _ in range(THREADS)]
    opened = threading.Barrier(THREADS)

    def decide(i: int) -> str:
        with Session(engine) as own:
            assert own.get(PromptReview, review.id).state == ReviewState.PENDING  # every reviewer sees it pending
            opened.wait()
            approve = i % 2 == 1
            decide_review(session=own, actor=reviewers[i], review_id=review.id, approve=approve,
                          comment="" if approve else "Not clear enough")
            own.commit()
            return ReviewState.APPROVED if approve else ReviewState.REJECTED

    results = run_together(THREADS, decide)
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert all(isinstance(r, ReviewDecidedMeanwhile) for r in results if not isinstance(r, str)), results
    assert f"Another reviewer {won[0]} this request while you were deciding" in next(
        r.message for r in results if isinstance(r, ReviewDecidedMeanwhile))
    session.expire_all()
    assert session.get(PromptReview, review.id).state == won[0]
    assert session.get(Prompt, prompt.id).status == ("published" if won[0] == ReviewState.APPROVED else "draft")
    assert len(events(session, "prompt.review_decided")) == 1


def test_two_saves_at_the_same_moment_one_lands_the_other_is_told_and_keeps_its_draft(engine, session,
                                                                                     make_prompt) -> None:
    prompt = make_prompt()
    owner = session.get(User, prompt.owner_id)
    opened = threading.Barrier(THREADS)
    drafts = [draft(user=f"Editor {i}: {{ticket}}", change_note=f"editor {i}") for i in range(THREADS)]

    def save(i: int) -> int:
        with Session(engine) as own:
            base = visible_prompt(session=own, actor=owner, prompt_id=prompt.id).latest_version
            opened.wait()  # everyone opened version 1 before anyone saves
            saved = save_version(session=own, actor=owner, prompt_id=prompt.id, draft=drafts[i], base_version=base)
            own.commit()
            return saved.number

    results = run_together(THREADS, save)
    assert [r for r in results if isinstance(r, int)] == [2], results
    conflicts = [(i, r) for i, r in enumerate(results) if not isinstance(r, int)]
    assert all(isinstance(r, EditConflict) for _, r in conflicts), results  # never an IntegrityError
    for i, conflict in conflicts:
        assert conflict.message.startswith("Someone saved version 2 while you edited version 1. Nothing was saved")
        assert conflict.draft is drafts[i] and f"+Editor {i}: {{ticket}}" in conflict.diff
    session.expire_all()
    numbers = session.exec(select(PromptVersion.number).where(PromptVersion.prompt_id == prompt.id)).all()
    assert sorted(numbers) == [1, 2] and session.get(Prompt, prompt.id).latest_version == 2
    assert len(events(session, "prompt.version_saved")) == 1
