"""The card model family: one base, enum-typed attributes on unchanged columns, one label per enum value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import Session

from catalog.card_file import FILE_SHAPES, CatalogFileError, CatalogModelFile, validate_catalog
from catalog.models import (
    EDITABLE_FIELDS,
    CatalogModel,
    CatalogModelBase,
    CatalogModelCreate,
    CatalogModelPublic,
    CatalogModelUpdate,
    DataClassification,
    Hosting,
    Mode,
    ModelStatus,
    RiskTier,
)


def test_a_stored_card_reads_back_enum_typed_while_the_columns_hold_plain_values(engine, session) -> None:
    card = CatalogModel(name="m", display_name="M", status="restricted", risk_tier=2, max_classification=3,
                        hosting="third_party_api", mode="embedding", restricted_teams=["Data Platform"])
    assert (card.status, card.risk_tier, card.max_classification) == (
        ModelStatus.RESTRICTED, RiskTier.LIGHT_REVIEW, DataClassification.CONFIDENTIAL)
    session.add(card)
    session.commit()
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT status, risk_tier, max_classification, hosting, mode "
                                      "FROM catalog_model")).one()
    assert tuple(raw) == ("restricted", 2, 3, "third_party_api", "embedding")
    with Session(engine) as fresh:
        stored = fresh.get(CatalogModel, card.id)
        assert [type(v) for v in (stored.status, stored.risk_tier, stored.max_classification, stored.hosting,
                                  stored.mode)] == [ModelStatus, RiskTier, DataClassification, Hosting, Mode]
        stored.status = "approved"  # rows are not validated, yet the attribute stays an enum
        assert stored.status is ModelStatus.APPROVED
        assert CatalogModelPublic.model_validate(stored).max_classification is DataClassification.CONFIDENTIAL


@pytest.mark.parametrize("enum", [ModelStatus, DataClassification, RiskTier, Hosting, Mode])
def test_every_enum_value_has_one_label(enum) -> None:
    labels = [member.label for member in enum]
    assert all(labels) and len(set(labels)) == len(labels)


def test_risk_tier_labels_say_what_each_tier_means() -> None:
    assert [t.label for t in RiskTier] == ["1 — self-service with guardrails", "2 — light-touch review",
                                           "3 — full review"]


def test_the_update_has_every_editable_field_optional_and_nothing_else() -> None:
    assert list(CatalogModelUpdate.model_fields) == list(EDITABLE_FIELDS)
    assert CatalogModelUpdate.model_validate({}).model_dump(exclude_unset=True) == {}
    with pytest.raises(ValidationError, match="status"):
        CatalogModelUpdate.model_validate({"status": "approved"})


def test_the_file_states_every_base_field_in_the_base_order() -> None:
    renamed = {base: shape[0] for base, shape in FILE_SHAPES.items()}
    assert list(CatalogModelFile.model_fields) == [renamed.get(name, name) for name in CatalogModelBase.model_fields]


# One constraint, declared once on the base, holds in every shape that carries the field.
@pytest.mark.parametrize(("field", "value", "message"), [
    ("license", "x" * 201, "at most 200 characters"),
    ("owner", "a\x00b", "NUL character"),
    ("input_price_per_mtok", 10_001.0, "less than or equal to 10000"),
    ("max_output_tokens", 0, "greater than or equal to 1"),
])
def test_a_base_constraint_holds_for_create_update_and_file(field, value, message) -> None:
    with pytest.raises(ValidationError, match=message):
        CatalogModelCreate.model_validate({"name": "m", "display_name": "M", field: value})
    with pytest.raises(ValidationError, match=message):
        CatalogModelUpdate.model_validate({field: value})
    with pytest.raises(CatalogFileError, match=message):
        validate_catalog(f"models:\n  - name: m\n    {field}: {value!r}\n".replace("'", '"'))
