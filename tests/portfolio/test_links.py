"""A use case's links in their own table: saved and edited through the form, audited, read both ways, and the
model card's dependents that count use cases in production first."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from catalog.service import Dependent, DependentsRegistry
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput
from portfolio.criteria import _models_cleared, _prompts_tested
from portfolio.links import LinkKind, UseCaseLink, linked, use_case_dependents, use_cases_using
from portfolio.service import form_of, save_use_case
from templates.models import TemplateEntry, TemplateFork
from tests.portfolio.conftest import complete_form
from training.models import Course


@pytest.fixture
def assets(session, make_user, make_model):
    """Two models, a course, and a fork of a registered template made by a contributor."""
    forker = make_user("contributor")
    make_model(name="acme/small")
    make_model(name="acme/large")
    template = TemplateEntry(name="rag-chatbot", display_name="RAG chatbot", version="1.0.0", source_url="builtin",
                             mirror_ref="1")
    session.add_all([template, Course(slug="prompting-basics")])
    session.flush()
    fork = TemplateFork(template_id=template.id, template_version="1.0.0", project_name="ap-bot",
                        user_id=forker.id, team="AP", destination="zip")
    session.add(fork)
    session.commit()
    return fork


def _stage(session, use_case, stage: str) -> None:
    use_case.stage = stage  # set directly: how a use case got there is not what these tests are about
    session.add(use_case)
    session.commit()


def test_links_are_rows_in_the_order_given_and_every_kind_is_kept(session, make_user, assets) -> None:
    owner = make_user("contributor")
    use_case = save_use_case(session=session, actor=owner, submit=True, form=complete_form(
        owner, models=["acme/large", "acme/small", "acme/large"], templates=["rag-chatbot"], forks=[str(assets.id)],
        courses=["prompting-basics"]))
    session.commit()
    assert linked(session, use_case.id, "model") == ["acme/large", "acme/small"]
    assert (linked(session, use_case.id, LinkKind.FORK), linked(session, use_case.id, "course")) == (
        [str(assets.id)], ["prompting-basics"])
    form, _ = form_of(session=session, actor=owner, use_case_id=use_case.id)
    assert (form.models, form.templates, form.forks, form.courses) == (
        ["acme/large", "acme/small"], ["rag-chatbot"], [str(assets.id)], ["prompting-basics"])


@pytest.mark.parametrize(("changes", "problem"), [
    ({"forks": ["999"]}, "there is no fork 999"),
    ({"forks": ["ap-bot"]}, "there is no fork ap-bot"),
    ({"courses": ["no-such-course"]}, "no course is named no-such-course"),
    ({"documents": ["42"]}, "there is no document 42"),
])
def test_an_unknown_fork_course_or_document_is_refused_and_nothing_is_saved(session, make_user, assets, changes,
                                                                           problem) -> None:
    owner = make_user("contributor")
    with pytest.raises(InvalidInput, match="Cannot save the draft: ") as refused:
        save_use_case(session=session, actor=owner, submit=False, form=complete_form(owner, **changes))
    assert problem in refused.value.message
    session.rollback()
    assert session.exec(select(UseCaseLink)).all() == []


def test_an_edit_replaces_the_links_and_its_audit_event_says_which_changed(session, make_user, assets) -> None:
    owner = make_user("contributor")
    use_case = save_use_case(session=session, actor=owner, submit=True,
                             form=complete_form(owner, models=["acme/small"], courses=["prompting-basics"]))
    session.commit()
    save_use_case(session=session, actor=owner, submit=True, use_case_id=use_case.id, base_revision=1,
                  form=complete_form(owner, models=["acme/large"], courses=["prompting-basics"]))
    session.commit()
    assert linked(session, use_case.id, "model") == ["acme/large"]
    last = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.saved")
                        .order_by(AuditEvent.id.desc())).first()
    assert (last.before, last.after) == ({"models": ["acme/small"]}, {"models": ["acme/large"], "draft": False})


def test_an_asset_lists_the_use_cases_using_it_production_first_and_drafts_only_to_whom_may_see_them(
        session, make_user, assets) -> None:
    owner, stranger, reviewer = make_user("contributor"), make_user("viewer"), make_user("reviewer")
    made = {}
    for title, stage in (("Idea one", "idea"), ("Pilot one", "pilot"), ("Live one", "production"),
                         ("Scaled one", "scaled")):
        made[title] = save_use_case(session=session, actor=owner, submit=True,
                                    form=complete_form(owner, title=title, models=["acme/small"]))
        _stage(session, made[title], stage)
    save_use_case(session=session, actor=owner, submit=False, form=complete_form(owner, title="Draft one",
                                                                                  models=["acme/small"]))
    session.commit()
    titles = [u.title for u in use_cases_using(session, stranger, "model", "acme/small")]
    assert titles == ["Live one", "Scaled one", "Pilot one", "Idea one"]
    assert "Draft one" in [u.title for u in use_cases_using(session, owner, "model", "acme/small")]
    assert "Draft one" in [u.title for u in use_cases_using(session, reviewer, "model", "acme/small")]
    assert use_cases_using(session, stranger, "model", "acme/large") == []
    first = use_cases_using(session, stranger, "model", "acme/small")[0]
    assert (first.id, first.stage, first.tier) == (made["Live one"].id, "production", 1)


def test_the_retirement_impact_counts_use_cases_in_production_first_before_other_dependents(
        session, make_user, assets) -> None:
    owner = make_user("contributor")
    for title, stage in (("Pilot a", "pilot"), ("Pilot b", "pilot"), ("Live", "production"), ("Gone", "retired")):
        use_case = save_use_case(session=session, actor=owner, submit=True,
                                 form=complete_form(owner, title=title, models=["acme/small"]))
        _stage(session, use_case, stage)
    session.commit()

    def other_feature(*, session, model_name):
        return [Dependent(kind="prompt", name="Refund reply")]

    registry = DependentsRegistry(sources=[other_feature, use_case_dependents])
    found = registry.dependents(session=session, model_name="acme/small")
    assert [(d.kind, d.name) for d in found] == [("use case", "1 in production"), ("use case", "2 in pilot"),
                                                 ("prompt", "Refund reply")]


def test_each_linked_asset_criterion_is_one_query_however_many_links(session, make_user, assets, engine) -> None:
    owner = make_user("contributor")
    use_case = save_use_case(session=session, actor=owner, submit=True, form=complete_form(
        owner, models=["acme/small", "acme/large"]))
    session.add_all(UseCaseLink(use_case_id=use_case.id, kind="prompt", ref=f"missing-{n}") for n in range(20))
    session.commit()
    statements: list[str] = []
    def listener(*args) -> None:  # (conn, cursor, statement, ...)
        statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert _models_cleared(session, use_case) is None
        models_queries = len(statements)
        problems = _prompts_tested(session, use_case)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert (models_queries, len(statements)) == (1, 2)
    assert problems.startswith("missing-0 is not in the prompt library; missing-1 is not")
