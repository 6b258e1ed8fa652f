"""Catalog fixtures: a factory for model cards in any lifecycle state."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session

from catalog.models import CatalogModel, DataClassification, ModelStatus


@pytest.fixture
def make_model(session: Session):
    """Factory: a committed model card with the given status and fields."""

    def make(status: ModelStatus | str = ModelStatus.APPROVED, *, name: str | None = None, **fields) -> CatalogModel:
        name = name or f"model-{uuid.uuid4().hex[:8]}"
        defaults = {"display_name": name, "provider": "Meta", "max_input_tokens": 8192,
                    "max_classification": int(DataClassification.INTERNAL), "risk_tier": 1}
        if ModelStatus(status) == ModelStatus.RESTRICTED:
            defaults["restricted_teams"] = ["Data Platform"]
        model = CatalogModel(name=name, status=ModelStatus(status).value, **{**defaults, **fields})
        session.add(model)
        session.commit()
        return model

    return make
