"""A model card lists the published prompts that recommend the model."""

from __future__ import annotations

from prompt_library.dependents import prompt_dependents
from prompt_library.review import decide_review, request_review
from portal.core.users import User


def test_published_prompts_recommending_a_model_are_its_dependents(session, make_prompt, make_user) -> None:
    published = make_prompt(title="Uses it", recommended_models=["fake-small"])
    make_prompt(title="Private draft", recommended_models=["fake-small"])
    make_prompt(title="Other model", recommended_models=["fake-small-2"])
    review = request_review(session=session, actor=session.get(User, published.owner_id), prompt_id=published.id,
                            kind="publish", version=1)
    decide_review(session=session, actor=make_user("reviewer"), review_id=review.id, approve=True, comment="")
    session.commit()
    assert [(d.kind, d.name) for d in prompt_dependents(session=session, model_name="fake-small")] == [
        ("prompt", "Uses it")]
    assert prompt_dependents(session=session, model_name="fake") == []
