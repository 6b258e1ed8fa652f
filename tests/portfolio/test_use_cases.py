"""Proposing use cases: drafts saved and finished later, what a submission needs, stale edits, the tier raise."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from catalog.models import RiskTier
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from portfolio.links import linked
from portfolio.models import UseCase
from portfolio.service import UseCaseForm, get_use_case, save_use_case, set_tier, timeline
from tests.portfolio.conftest import complete_form


def actions(session: Session, use_case_id: int) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.entity_type == "use_case", AuditEvent.entity_id == str(use_case_id)).order_by(AuditEvent.id))]


def test_a_viewer_saves_an_incomplete_draft_and_finishes_it_later(session, make_user) -> None:
    viewer = make_user("viewer")
    draft = save_use_case(session=session, actor=viewer, submit=False,
                          form=UseCaseForm(title="Meeting notes", problem="Notes take an hour a meeting."))
    session.commit()
    assert (draft.draft, draft.proposed_tier, draft.tier, draft.revision) == (True, None, None, 1)
    other = make_user("viewer")
    with pytest.raises(NotFound):  # a draft is its proposer's until submitted
        get_use_case(session=session, actor=other, use_case_id=draft.id)
    form = complete_form(viewer, tier=1, title="Meeting notes")
    done = save_use_case(session=session, actor=viewer, form=form, submit=True, use_case_id=draft.id,
                         base_revision=1)
    session.commit()
    assert (done.draft, done.proposed_tier, done.tier, done.revision) == (False, RiskTier(1), RiskTier(1), 2)
    assert get_use_case(session=session, actor=other, use_case_id=draft.id).title == "Meeting notes"
    assert actions(session, draft.id) == ["use_case.saved", "use_case.saved", "use_case.submitted"]
    submitted = [e for e in timeline(session=session, actor=other, use_case_id=draft.id)
                 if e.action == "use_case.submitted"][0]
    assert submitted.after["proposed_tier"] == 1 and "reaches staff only" in submitted.after["reasons"]


def test_submitting_an_incomplete_use_case_names_everything_missing_and_saves_nothing(session, make_user) -> None:
    viewer = make_user("viewer")
    with pytest.raises(InvalidInput) as refused:
        save_use_case(session=session, actor=viewer, submit=True, form=UseCaseForm(title="Meeting notes"))
    assert refused.value.message == (
        "Before submitting, fix or fill in: the problem; who has the problem; the owning department; the "
        "assumption behind the expected value; a named owner; the expected value per year; data classification; "
        "people affected; human review of every output; autonomy.")
    session.rollback()
    assert session.exec(select(UseCase)).all() == []


@pytest.mark.parametrize("changes, problem", [
    ({"title": "  "}, "a title (even a draft needs one)"),
    ({"owner_email": "nobody@example.com"}, "the owner nobody@example.com is not an active portal user"),
    ({"models": ["no-such-model"]}, "no model is named no-such-model"),
    ({"prompts": ["no-such-prompt"]}, "no prompt is named no-such-prompt"),
    ({"templates": ["no-such-template"]}, "no template is named no-such-template"),
    ({"templates": ["../builtin"]}, "no template is named ../builtin"),
    ({"value_amount": -5.0}, "the expected value cannot be negative"),
    ({"title": "x" * 201}, "title has more than 200 characters"),
])
def test_a_draft_with_a_bad_value_is_refused_naming_it(session, make_user, changes, problem) -> None:
    viewer = make_user("viewer")
    form = UseCaseForm(**{"title": "Meeting notes", **changes})
    with pytest.raises(InvalidInput, match="Cannot save the draft: ") as refused:
        save_use_case(session=session, actor=viewer, form=form, submit=False)
    assert problem in refused.value.message


def test_links_name_known_models_prompts_and_templates(session, make_user, make_model) -> None:
    owner = make_user("contributor")
    model = make_model(name="meta-llama/Llama-3.1-8B-Instruct")
    use_case = save_use_case(session=session, actor=owner, submit=True, form=complete_form(
        owner, models=[model.name, model.name], templates=["rag-chatbot"]))
    assert (linked(session, use_case.id, "model"), linked(session, use_case.id, "template")) == (
        [model.name], ["rag-chatbot"])


def test_an_edit_started_from_an_old_revision_is_refused_and_changes_nothing(session, make_user,
                                                                             make_use_case) -> None:
    use_case = make_use_case(tier=1)
    editor = make_user("reviewer")
    save_use_case(session=session, actor=editor, submit=True, use_case_id=use_case.id, base_revision=1,
                  form=complete_form(editor, title="Invoice matching v2"))
    session.commit()
    with pytest.raises(StaleEdit, match="Someone saved revision 2 of this use case while you edited revision 1"):
        save_use_case(session=session, actor=editor, submit=True, use_case_id=use_case.id, base_revision=1,
                      form=complete_form(editor, title="Invoice matching v3"))
    session.rollback()
    session.expire_all()
    assert session.get(UseCase, use_case.id).title == "Invoice matching v2"


def test_only_the_proposer_owner_or_a_reviewer_edits(session, make_user, make_use_case) -> None:
    use_case = make_use_case()
    with pytest.raises(PermissionDenied, match="Only the person who proposed this use case"):
        save_use_case(session=session, actor=make_user("contributor"), submit=True, use_case_id=use_case.id,
                      base_revision=1, form=complete_form(make_user("viewer")))


def test_editing_the_answers_recomputes_the_tier(session, make_user, make_use_case) -> None:
    use_case = make_use_case(tier=1)
    reviewer = make_user("reviewer")
    save_use_case(session=session, actor=reviewer, submit=True, use_case_id=use_case.id, base_revision=1,
                  form=complete_form(reviewer, tier=3))
    assert (use_case.proposed_tier, use_case.tier) == (RiskTier(3), RiskTier(3))


def test_a_reviewer_raises_the_tier_with_a_reason_never_below_the_proposal(session, make_user,
                                                                          make_use_case) -> None:
    use_case = make_use_case(tier=2)
    reviewer = make_user("reviewer")
    with pytest.raises(InvalidInput, match="cannot go below the proposed tier 2"):
        set_tier(session=session, actor=reviewer, use_case_id=use_case.id, tier=RiskTier(1), reason="low risk",
                 base_revision=1)
    with pytest.raises(InvalidInput, match="Say why the tier changes"):
        set_tier(session=session, actor=reviewer, use_case_id=use_case.id, tier=RiskTier(3), reason=" ",
                 base_revision=1)
    with pytest.raises(PermissionDenied):
        set_tier(session=session, actor=make_user("contributor"), use_case_id=use_case.id, tier=RiskTier(3),
                 reason="customer letters are sensitive", base_revision=1)
    set_tier(session=session, actor=reviewer, use_case_id=use_case.id, tier=RiskTier(3),
             reason="customer letters are sensitive", base_revision=1)
    session.commit()
    assert (use_case.proposed_tier, use_case.reviewer_tier, use_case.tier) == (RiskTier(2), RiskTier(3), RiskTier(3))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.tier_changed")).one()
    assert (event.actor_email, event.before, event.after) == (
        reviewer.email, {"tier": 2}, {"tier": 3, "reason": "customer letters are sensitive"})
    # A later edit that proposes a lower tier keeps the reviewer's raise.
    save_use_case(session=session, actor=reviewer, submit=True, use_case_id=use_case.id, base_revision=2,
                  form=complete_form(reviewer, tier=1))
    assert (use_case.proposed_tier, use_case.tier) == (RiskTier(1), RiskTier(3))
