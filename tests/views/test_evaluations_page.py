"""The model evaluations page (AppTest): a catalog manager records, corrects and removes benchmark results."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from catalog.evaluations import add_evaluation
from catalog.models import CatalogModel, ModelStatus
from portal.core.audit import AuditEvent
from tests.conftest import REPO_ROOT
from tests.views.support import errors, rows, shown

PAGE = "views/model_evaluations.py"
NAME = "acme/chat-8b"
ADD = "FormSubmitter:eval_add_{id}_form-Record evaluation"


@pytest.fixture
def card(portal_db) -> CatalogModel:
    with Session(portal_db, expire_on_commit=False) as session:
        model = CatalogModel(name=NAME, display_name="Acme Chat 8B", status=ModelStatus.APPROVED.value)
        session.add(model)
        session.commit()
    return model


def fill(at, key: str, **values) -> None:
    for field, value in values.items():
        if field == "date":
            at.date_input(key=f"{key}_date").set_value(value)
        elif field == "notes":
            at.text_area(key=f"{key}_notes").input(value)
        else:
            at.text_input(key=f"{key}_{field}").input(value)


def stored(engine) -> list[dict]:
    return next(m for m in rows(engine, CatalogModel) if m.name == NAME).evaluations


def test_a_manager_records_an_evaluation_and_it_shows_on_the_card(open_page, card, portal_db) -> None:
    at = open_page("admin", PAGE, model=NAME)
    assert "No evaluation is recorded for this model yet." in shown(at)
    key = f"eval_add_{card.id}"
    fill(at, key, benchmark="MMLU (5-shot)", score="69.4", date=dt.date(2024, 7, 23), notes="our harness",
         link="https://example.com/mmlu")
    at.button(key=ADD.format(id=card.id)).click().run()
    assert not at.error, errors(at)
    assert "Recorded MMLU \\(5\\-shot\\) on acme/chat\\-8b." in shown(at)
    table = at.dataframe[0].value
    assert list(table["benchmark"]) == ["MMLU (5-shot)"] and list(table["link"]) == ["https://example.com/mmlu"]
    assert at.text_input(key=f"{key}_benchmark").value == ""  # the form is ready for the next one
    assert stored(portal_db) == [{"benchmark": "MMLU (5-shot)", "score": 69.4, "date": "2024-07-23",
                                  "notes": "our harness", "link": "https://example.com/mmlu"}]
    assert [e.action for e in rows(portal_db, AuditEvent) if e.entity_id == NAME] == ["catalog.evaluation_added"]
    card_page = open_page("viewer", "views/model_card.py", model=NAME)
    assert "MMLU (5-shot)" in list(card_page.dataframe[-1].value["benchmark"])


def test_a_bad_score_is_named_and_the_draft_kept(open_page, card, portal_db) -> None:
    at = open_page("admin", PAGE, model=NAME)
    key = f"eval_add_{card.id}"
    fill(at, key, benchmark="GSM8K", score="high", notes="first try")
    at.button(key=ADD.format(id=card.id)).click().run()
    assert errors(at) == ["Please correct the evaluation: score: a number is needed."]
    assert (at.text_input(key=f"{key}_benchmark").value, at.text_input(key=f"{key}_score").value,
            at.text_area(key=f"{key}_notes").value) == ("GSM8K", "high", "first try")
    assert stored(portal_db) == []


def test_a_correction_on_a_card_saved_meanwhile_is_refused_and_kept(open_page, card, portal_db,
                                                                     user_with_role) -> None:
    admin = user_with_role("admin")
    with Session(portal_db) as session:
        add_evaluation(session=session, actor=admin, name=NAME, base_revision=1,
                       evaluation={"benchmark": "GSM8K", "score": 80, "date": dt.date(2024, 8, 1)})
        session.commit()
    at = open_page("admin", PAGE, model=NAME)
    at.selectbox(key=f"eval_pick_{card.id}").set_value(0).run()
    key = f"eval_edit_{card.id}_0"
    assert at.text_input(key=f"{key}_score").value == "80"
    at.text_input(key=f"{key}_score").input("82.5")
    with Session(portal_db) as session:  # another manager records one while this form is open
        add_evaluation(session=session, actor=admin, name=NAME, base_revision=2,
                       evaluation={"benchmark": "HumanEval", "score": 40, "date": dt.date(2024, 8, 2)})
        session.commit()
    at.button(key=f"FormSubmitter:{key}_form-Save evaluation").click().run()
    assert errors(at) == [("Someone saved revision 3 of this card while you edited revision 2. Nothing was saved; "
                           "your changes are still in the form: take the latest card, then save again.")]
    assert at.text_input(key=f"{key}_score").value == "82.5"
    at.button(key=f"{key}_take_latest").click().run()
    at.button(key=f"FormSubmitter:{key}_form-Save evaluation").click().run()
    assert not at.error, errors(at)
    assert [(e["benchmark"], e["score"]) for e in stored(portal_db)] == [("GSM8K", 82.5), ("HumanEval", 40.0)]
    at.selectbox(key=f"eval_pick_{card.id}").set_value(1).run()
    at.button(key=f"FormSubmitter:eval_edit_{card.id}_1_form-Remove evaluation").click().run()
    assert not at.error, errors(at)
    assert [e["benchmark"] for e in stored(portal_db)] == ["GSM8K"]


@pytest.mark.parametrize("role", ["viewer", "contributor", "reviewer"])
def test_only_catalog_managers_open_the_page(open_portal, user_with_role, card, role) -> None:
    at = open_portal(user_with_role(role), script=str(REPO_ROOT / "portal" / PAGE))
    assert len(at.error) == 1 and "needs the admin role" in at.error[0].value
    assert not at.get("text_input")
