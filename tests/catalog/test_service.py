"""Catalog services: filtering in SQL, comparing, requesting, editing cards, who may use what."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import CatalogModel, DataClassification, Hosting, Mode, ModelStatus
from catalog.service import (
    CatalogFilter,
    browse_catalog,
    catalog_providers,
    compare_models,
    request_model,
    update_card,
    usable_models_for,
)
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, NotFound, PermissionDenied

S = ModelStatus
C = DataClassification


@pytest.fixture
def catalog(make_model):
    """Five cards that differ in every filtered field."""
    make_model(S.APPROVED, name="llama-8b", display_name="Llama 3.1 8B", provider="Meta", max_input_tokens=131072,
               input_price_per_mtok=0.05, output_price_per_mtok=0.08, max_classification=int(C.CONFIDENTIAL))
    make_model(S.APPROVED, name="gpt-4o-mini", display_name="GPT-4o mini", provider="OpenAI",
               hosting=Hosting.THIRD_PARTY_API.value, modalities_in="text,image", max_input_tokens=128000,
               input_price_per_mtok=0.15, output_price_per_mtok=0.60, risk_tier=2, max_classification=int(C.INTERNAL))
    make_model(S.RESTRICTED, name="qwen-72b", display_name="Qwen2.5 72B", provider="Alibaba", max_input_tokens=32768,
               input_price_per_mtok=0.9, risk_tier=3, max_classification=int(C.RESTRICTED),
               restricted_teams=["Data Platform"], restricted_departments=["Finance"])
    make_model(S.PROPOSED, name="mistral-large", display_name="Mistral Large", provider="Mistral",
               max_input_tokens=128000, input_price_per_mtok=2.0)
    make_model(S.APPROVED, name="bge-m3", display_name="BGE-M3", provider="BAAI", mode=Mode.EMBEDDING.value,
               max_input_tokens=8192, max_classification=int(C.CONFIDENTIAL))


def names(page) -> list[str]:
    return [m.name for m in page.models]


@pytest.mark.parametrize(("filters", "expected"), [
    (CatalogFilter(), ["bge-m3", "gpt-4o-mini", "llama-8b", "mistral-large", "qwen-72b"]),
    (CatalogFilter(search="LLAMA"), ["llama-8b"]),
    (CatalogFilter(search="alibaba"), ["qwen-72b"]),
    (CatalogFilter(provider="OpenAI"), ["gpt-4o-mini"]),
    (CatalogFilter(hosting=Hosting.THIRD_PARTY_API), ["gpt-4o-mini"]),
    (CatalogFilter(mode=Mode.EMBEDDING), ["bge-m3"]),
    (CatalogFilter(modality="image"), ["gpt-4o-mini"]),
    (CatalogFilter(modality="imag"), []),
    (CatalogFilter(statuses=(S.APPROVED, S.RESTRICTED), risk_tiers=(2, 3)), ["gpt-4o-mini", "qwen-72b"]),
    (CatalogFilter(allowed_for=C.CONFIDENTIAL), ["bge-m3", "llama-8b", "qwen-72b"]),
    (CatalogFilter(min_context=128000), ["gpt-4o-mini", "llama-8b", "mistral-large"]),
    (CatalogFilter(max_input_price=0.15), ["bge-m3", "gpt-4o-mini", "llama-8b"]),
    (CatalogFilter(max_output_price=0.1), ["bge-m3", "llama-8b", "mistral-large", "qwen-72b"]),
    (CatalogFilter(sort="context window", mode=Mode.CHAT), ["llama-8b", "gpt-4o-mini", "mistral-large", "qwen-72b"]),
    (CatalogFilter(search="%"), []),
])
def test_browse_filters(session, make_user, catalog, filters, expected) -> None:
    page = browse_catalog(session=session, actor=make_user(Role.VIEWER), filters=filters)
    assert names(page) == (expected if filters.sort != "name" else sorted(
        expected, key=lambda n: session.exec(select(CatalogModel.display_name).where(CatalogModel.name == n)).one()))
    assert page.total == len(expected)


def test_browse_pages(session, make_user, catalog) -> None:
    viewer = make_user(Role.VIEWER)
    first = browse_catalog(session=session, actor=viewer, filters=CatalogFilter(), limit=2)
    last = browse_catalog(session=session, actor=viewer, filters=CatalogFilter(), limit=2, offset=4)
    assert (first.total, len(first.models), len(last.models)) == (5, 2, 1)
    assert catalog_providers(session=session) == ["Alibaba", "BAAI", "Meta", "Mistral", "OpenAI"]


def test_compare_keeps_order_and_refuses_more_than_three(session, catalog) -> None:
    compared = compare_models(session=session, names=["qwen-72b", "llama-8b", "qwen-72b"])
    assert [m.name for m in compared] == ["qwen-72b", "llama-8b"]
    with pytest.raises(InvalidInput, match="at most 3 models"):
        compare_models(session=session, names=["llama-8b", "gpt-4o-mini", "qwen-72b", "bge-m3"])
    with pytest.raises(NotFound, match="no model 'nope'"):
        compare_models(session=session, names=["nope"])


def test_usable_models_respect_status_classification_mode_and_restriction(session, make_user, catalog) -> None:
    platform = make_user(Role.VIEWER, department="Engineering", team="Data Platform")
    marketing = make_user(Role.VIEWER, department="Marketing", team="Campaigns")
    finance = make_user(Role.VIEWER, department="Finance", team="FP&A")

    def usable(user, classification) -> list[str]:
        return [m.name for m in usable_models_for(session=session, user=user, classification=classification)]

    assert usable(platform, C.INTERNAL) == ["gpt-4o-mini", "llama-8b", "qwen-72b"]
    assert usable(marketing, C.INTERNAL) == ["gpt-4o-mini", "llama-8b"]
    assert usable(finance, C.RESTRICTED) == ["qwen-72b"]
    assert usable(marketing, C.RESTRICTED) == []


REQUEST = {"name": "deepseek-r1", "display_name": "DeepSeek R1", "provider": "DeepSeek",
           "use_case": "Reasoning over contract clauses", "justification": "Better at multi-step legal reasoning",
           "classification": "internal", "team": "Contracts"}


def test_contributor_requests_a_model_which_starts_proposed(session, make_user) -> None:
    contributor = make_user(Role.CONTRIBUTOR)
    model = request_model(session=session, actor=contributor, request={**REQUEST, "classification": 2})
    session.commit()
    assert (model.status, model.requested_by_id, model.max_classification, model.request_team) == (
        "proposed", contributor.id, 2, "Contracts")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.model_requested")).one()
    assert event.entity_id == "deepseek-r1"
    with pytest.raises(InvalidInput, match="already in the catalog"):
        request_model(session=session, actor=contributor, request={**REQUEST, "classification": 2})


@pytest.mark.parametrize(("change", "message"), [
    ({"use_case": "short"}, "use_case: String should have at least 10 characters"),
    ({"name": "  "}, "name: String should have at least 1 character"),
    ({"classification": "secret"}, "classification"),
    ({"team": ""}, "team"),
])
def test_bad_requests_name_the_field(session, make_user, change, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        request_model(session=session, actor=make_user(Role.CONTRIBUTOR), request={**REQUEST, "classification": 2,
                                                                                   **change})
    assert session.exec(select(CatalogModel)).all() == []


def test_viewer_cannot_request(session, make_user) -> None:
    with pytest.raises(PermissionDenied, match="that needs the contributor role"):
        request_model(session=session, actor=make_user(Role.VIEWER), request=REQUEST)


def test_admin_edits_a_card_and_the_audit_event_lists_the_changes(session, make_user, catalog) -> None:
    admin = make_user(Role.ADMIN)
    model = update_card(session=session, actor=admin, name="llama-8b", base_revision=1, changes={
        "input_price_per_mtok": 0.06, "modalities_in": ["Text", "image", "text"], "max_classification": 2,
        "display_name": "Llama 3.1 8B Instruct"})
    session.commit()
    assert (model.input_price_per_mtok, model.modalities_in, model.max_classification) == (0.06, "text,image", 2)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.card_edited")).one()
    assert event.before == {"input_price_per_mtok": 0.05, "modalities_in": "text", "max_classification": 3,
                            "display_name": "Llama 3.1 8B"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"status": "approved"}, "status: Extra inputs are not permitted"),
    ({"input_price_per_mtok": -1}, "input_price_per_mtok: Input should be greater than or equal to 0"),
    ({"risk_tier": 4}, "risk_tier"),
    ({"display_name": None}, "display_name: a value is required"),
    ({"next_review_on": "soon"}, "next_review_on"),
])
def test_card_edits_cannot_bypass_the_lifecycle_or_break_fields(session, make_user, catalog, changes, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        update_card(session=session, actor=make_user(Role.ADMIN), name="llama-8b", base_revision=1,
                    changes=changes)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR, Role.REVIEWER])
def test_only_admins_edit_cards(session, make_user, catalog, role) -> None:
    with pytest.raises(PermissionDenied, match="edit model cards"):
        update_card(session=session, actor=make_user(role), name="llama-8b", base_revision=1,
                    changes={"owner": "me"})
