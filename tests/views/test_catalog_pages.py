"""The catalog's pages (AppTest): browse and filter, cards, compare, requests, lifecycle moves and operations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from catalog.lifecycle import TransitionRequest
from catalog.models import CatalogModel, CatalogRiskChange, DataClassification, ModelStatus, ProbeResult
from catalog.service import transition_model, update_card
from portal.core.audit import AuditEvent, utcnow
from portal.core.auth import Role
from portal.core.errors import PermissionDenied
from portal.core.safe_markdown import safe_markdown
from tests.conftest import REPO_ROOT
from tests.views.support import unescaped

CATALOG, CARD = "views/catalog.py", "views/model_card.py"
REQUEST, OPERATIONS = "views/model_request.py", "views/catalog_admin.py"
EVALUATIONS = "views/model_evaluations.py"
C = DataClassification

# name: (fields) — a small catalog whose rows differ along every filter.
MODELS: dict[str, dict] = {
    "llama-3.1-8b-instruct": dict(display_name="Llama 3.1 8B Instruct", provider="Meta", hosting="self_hosted",
                                  status="approved", risk_tier=1, max_classification=C.CONFIDENTIAL,
                                  max_input_tokens=128_000, input_price_per_mtok=0.10, output_price_per_mtok=0.20,
                                  family="llama", license="Llama 3.1 Community License", served=True),
    "gpt-4o": dict(display_name="GPT-4o", provider="OpenAI", hosting="third_party_api", status="approved",
                   risk_tier=2, max_classification=C.INTERNAL, max_input_tokens=128_000, modalities_in="text,image",
                   input_price_per_mtok=2.50, output_price_per_mtok=10.00, supports_vision=True),
    "claude-sonnet": dict(display_name="Claude Sonnet", provider="Anthropic", hosting="third_party_api",
                          status="restricted", restricted_teams=["Data Platform"], risk_tier=3,
                          max_classification=C.RESTRICTED, max_input_tokens=200_000, modalities_in="text,image",
                          input_price_per_mtok=3.00, output_price_per_mtok=15.00),
    "bge-m3": dict(display_name="BGE-M3 embeddings", provider="BAAI", hosting="self_hosted", mode="embedding",
                   status="approved", risk_tier=1, max_classification=C.CONFIDENTIAL, max_input_tokens=8_192,
                   input_price_per_mtok=0.01),
    "llama-2-7b-chat": dict(display_name="Llama 2 7B Chat", provider="Meta", hosting="self_hosted",
                            status="deprecated", risk_tier=1, max_classification=C.INTERNAL, max_input_tokens=4_096,
                            input_price_per_mtok=0.05, output_price_per_mtok=0.05,
                            deprecated_on=date(2026, 10, 1), replacement_name="llama-3.1-8b-instruct"),
    "mistral-small": dict(display_name="Mistral Small", provider="Mistral AI", hosting="third_party_api",
                          status="proposed", risk_tier=3, max_classification=C.PUBLIC, max_input_tokens=32_000,
                          input_price_per_mtok=0.20, output_price_per_mtok=0.60,
                          request_use_case="Summarise support tickets in French and German.",
                          request_justification="The approved models write poor German.",
                          request_team="Customer Apps"),
    "falcon-7b": dict(display_name="Falcon 7B", provider="TII", status="retired", risk_tier=2,
                      max_input_tokens=2_048, retired_on=date(2026, 1, 1)),
}
USABLE = {"llama-3.1-8b-instruct", "gpt-4o", "claude-sonnet", "bge-m3", "llama-2-7b-chat"}


@pytest.fixture
def catalog(portal_db, user_with_role) -> dict[str, CatalogModel]:
    """The MODELS above in the portal's database; Mistral Small was requested by a contributor."""
    contributor = user_with_role("contributor")
    with Session(portal_db, expire_on_commit=False) as session:
        rows = {name: CatalogModel(name=name, **fields) for name, fields in MODELS.items()}
        rows["mistral-small"].requested_by_id = contributor.id
        session.add_all(rows.values())
        session.commit()
    return rows


def shown(at) -> str:
    """Everything the page shows as text."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "text", "error", "warning",
                                  "success", "info") for e in getattr(at, kind)]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    return "\n".join(str(p) for p in parts)


def errors(at) -> list[str]:
    """The error messages as a reader sees them: actions show a refusal as plain text (escaped Markdown)."""
    return [unescaped(e.value) for e in at.error]




def table_names(at) -> set[str]:
    return set(at.dataframe[0].value["gateway name"]) if len(at.dataframe) else set()


# --- every page as every role ---------------------------------------------------------------------------------

PAGES_FOR = {"viewer": [CATALOG, CARD], "contributor": [CATALOG, CARD, REQUEST],
             "reviewer": [CATALOG, CARD, REQUEST, OPERATIONS], "risk_reviewer": [CATALOG, CARD, REQUEST, OPERATIONS],
             "admin": [CATALOG, CARD, REQUEST, OPERATIONS, EVALUATIONS]}


HOME_LINKS = {"viewer": ["Model catalog"], "contributor": ["Model catalog", "Request a model"],
              "reviewer": ["Model catalog", "Request a model", "Catalog operations"],
              "risk_reviewer": ["Model catalog", "Request a model", "Catalog operations"],
              "admin": ["Model catalog", "Request a model", "Catalog operations"]}
OTHER_AREAS = ("Home", "Admin", "Sandbox", "Compare models", "My usage", "Prompt library", "Solution templates",
               "Training", "Training dashboard")  # tested with their own pages


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_home_lists_the_catalog_areas_the_role_may_use(open_portal, user_with_role, role) -> None:
    at = open_portal(user_with_role(role))
    labels = [link.value.split(" — ")[0] for link in at.get("page_link")]
    assert [label for label in labels if label not in OTHER_AREAS] == HOME_LINKS[role]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_catalog_page_runs_for_every_role(open_page, catalog, role) -> None:
    for page in PAGES_FOR[role]:
        at = open_page(role, page, model="mistral-small")
        assert not errors(at), f"{page} as {role}: {errors(at)}"
        assert at.title, page


@pytest.mark.parametrize(("role", "page", "refusal"), [
    ("viewer", REQUEST, "may not create prompts, request models, fork templates"),
    ("viewer", OPERATIONS, "may not approve others' prompts and model requests"),
    ("contributor", OPERATIONS, "may not approve others' prompts and model requests"),
])
def test_pages_missing_from_a_roles_menu_refuse_when_opened_directly(open_portal, user_with_role, catalog, role,
                                                                    page, refusal) -> None:
    with pytest.raises(ValueError):
        open_portal(user_with_role(role)).switch_page(page)
    at = open_portal(user_with_role(role), script=str(REPO_ROOT / "portal" / page))
    assert not at.exception
    assert refusal in errors(at)[0]
    assert not at.dataframe and not at.main.button and not at.get("page_link")


def test_card_without_a_model_points_back_to_the_catalog(open_page, catalog) -> None:
    at = open_page("viewer", CARD)
    assert "Pick a model in the catalog" in shown(at)


def test_card_of_an_unknown_model_says_so(open_page, catalog) -> None:
    at = open_page("viewer", CARD, model="no-such-model")
    assert errors(at) == ["There is no model 'no-such-model' in the catalog."]


# --- browse and filter --------------------------------------------------------------------------------------

def test_catalog_shows_the_usable_models_by_default(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    assert table_names(at) == USABLE
    assert "5 model(s) match" in shown(at)
    row = at.dataframe[0].value.set_index("gateway name").loc["llama-3.1-8b-instruct"]
    assert (row["display name"], row["provider"], row["status"], row["cleared up to"], row["context"],
            row["$ in / M"], row["served"]) == ("Llama 3.1 8B Instruct", "Meta", "approved", "confidential",
                                                128_000, 0.10, "yes")


@pytest.mark.parametrize(("widget", "value", "expected"), [
    ("text_input:catalog_search", "claude", {"claude-sonnet"}),
    ("text_input:catalog_search", "LLAMA", {"llama-3.1-8b-instruct", "llama-2-7b-chat"}),
    ("selectbox:catalog_provider", "Meta", {"llama-3.1-8b-instruct", "llama-2-7b-chat"}),
    ("selectbox:catalog_hosting", "third_party_api", {"gpt-4o", "claude-sonnet"}),
    ("selectbox:catalog_mode", "embedding", {"bge-m3"}),
    ("selectbox:catalog_modality", "image", {"gpt-4o", "claude-sonnet"}),
    ("multiselect:catalog_statuses", ["proposed", "retired"], {"mistral-small", "falcon-7b"}),
    ("multiselect:catalog_statuses", [], set(MODELS)),
    ("multiselect:catalog_risk", [3], {"claude-sonnet"}),
    ("selectbox:catalog_cleared", C.CONFIDENTIAL, {"llama-3.1-8b-instruct", "claude-sonnet", "bge-m3"}),
    ("number_input:catalog_min_context", 100_000, {"llama-3.1-8b-instruct", "gpt-4o", "claude-sonnet"}),
    ("number_input:catalog_max_input_price", 0.5, {"llama-3.1-8b-instruct", "bge-m3", "llama-2-7b-chat"}),
    ("number_input:catalog_max_output_price", 0.1, {"bge-m3", "llama-2-7b-chat"}),
])
def test_each_filter_narrows_the_table(open_page, catalog, widget, value, expected) -> None:
    at = open_page("viewer", CATALOG)
    kind, key = widget.split(":")
    element = getattr(at, kind)(key=key)
    (element.input(value) if kind == "text_input" else element.set_value(value)).run()
    assert not at.exception
    assert table_names(at) == expected
    assert f"{len(expected)} model(s) match" in shown(at)


def test_filters_combine_and_sort(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    at.selectbox(key="catalog_hosting").set_value("self_hosted")
    at.selectbox(key="catalog_sort").set_value("context window").run()
    assert list(at.dataframe[0].value["gateway name"]) == ["llama-3.1-8b-instruct", "bge-m3", "llama-2-7b-chat"]


def test_nothing_matching_says_so(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    at.text_input(key="catalog_search").input("no such model").run()
    assert "No model matches these filters" in shown(at)


def test_paging_is_done_by_the_service(open_page, portal_db) -> None:
    with Session(portal_db) as session:
        session.add_all(CatalogModel(name=f"model-{i:02d}", display_name=f"Model {i:02d}", status="approved")
                        for i in range(30))
        session.commit()
    at = open_page("viewer", CATALOG)
    assert len(at.dataframe[0].value) == 25 and "30 model(s) match — page 1 of 2" in shown(at)
    at.number_input(key="catalog_page").set_value(2).run()
    assert list(at.dataframe[0].value["gateway name"]) == [f"model-{i:02d}" for i in range(25, 30)]


# --- open a card, compare -----------------------------------------------------------------------------------

def test_open_a_card_from_the_catalog(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    at.selectbox(key="catalog_open").set_value("gpt-4o").run()
    at.button(key="catalog_open_button").click().run()
    assert not at.exception
    assert at.title[0].value == "GPT\\-4o"
    assert at.query_params["model"] == "gpt-4o"


def test_compare_two_models_side_by_side(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    at.multiselect(key="catalog_compare").set_value(["gpt-4o", "claude-sonnet"]).run()
    assert not errors(at)
    text = shown(at)
    assert "**GPT\\-4o**" in text and "**Claude Sonnet**" in text
    assert "**Price in / out:** \\$2.50 / \\$10.00 per M tokens" in text
    assert "**Price in / out:** \\$3.00 / \\$15.00 per M tokens" in text
    assert "**Cleared up to:** restricted" in text


def test_comparing_four_models_is_refused(open_page, catalog) -> None:
    at = open_page("viewer", CATALOG)
    at.multiselect(key="catalog_compare").set_value(["gpt-4o", "claude-sonnet", "bge-m3", "llama-2-7b-chat"]).run()
    assert errors(at) == ["Compare at most 3 models at a time; you picked 4."]
    assert "**Price in / out:**" not in shown(at)


# --- the card -----------------------------------------------------------------------------------------------

def add_probes(portal_db, model_id: int) -> None:
    """Nine successes of 0.1 … 0.9 s, one failure, and one probe too old to count."""
    now = utcnow()
    with Session(portal_db) as session:
        for i in range(1, 10):
            session.add(ProbeResult(model_id=model_id, at=now - timedelta(hours=i + 1), success=True,
                                    latency_s=i / 10, time_to_first_token_s=i / 100, tokens_per_second=50))
        session.add(ProbeResult(model_id=model_id, at=now - timedelta(hours=20), success=False, latency_s=30,
                                error="timed out"))
        session.add(ProbeResult(model_id=model_id, at=now - timedelta(days=8), success=True, latency_s=99))
        session.add(ProbeResult(model_id=model_id, at=now - timedelta(minutes=5), success=True, latency_s=0.5,
                                time_to_first_token_s=0.05))
        session.commit()


def test_card_shows_the_fields_in_groups_and_the_health(open_page, catalog, portal_db) -> None:
    add_probes(portal_db, catalog["llama-3.1-8b-instruct"].id)
    at = open_page("viewer", CARD, model="llama-3.1-8b-instruct")
    text = shown(at)
    assert at.title[0].value == "Llama 3\\.1 8B Instruct"
    for heading in ("Identity", "Capabilities", "Cost", "Use and risk", "Lifecycle", "Health", "Depends on it"):
        assert heading in [s.value for s in at.subheader]
    for line in ("**Provider:** Meta", "**Context window:** 128,000 tokens", "**Input:** \\$0.10 per million tokens",
                 "**Cleared for:** public, internal, confidential", "**Status:** approved",
                 "**License:** Llama 3\\.1 Community License", "**Served by the gateway:** yes"):
        assert line in text, line
    metrics = {m.label: m.value for m in at.metric}
    # 11 probes in the window (10 + the recent one); latencies 0.1…0.9 and 0.5: nearest-rank p50 0.5, p95 0.9.
    assert metrics == {"Success rate (7 days)": "91%", "Latency p50 / p95": "0.50 s / 0.90 s",
                       "Time to first token p50 / p95": "0.05 s / 0.09 s"}
    assert "answered in 0.50 s" in text
    assert "Nothing recorded depends on this model yet." in text
    assert "sandbox" not in text.lower()


def test_card_shows_who_requested_it_and_why(open_page, catalog, user_with_role) -> None:
    at = open_page("viewer", CARD, model="mistral-small")
    text = shown(at)
    contributor = user_with_role("contributor")
    assert f"**Requested by:** {contributor.name}" in text
    assert "**Use case:** Summarise support tickets in French and German\\." in text
    assert "**Justification:** The approved models write poor German\\." in text
    assert "Never probed." in text


def test_viewer_gets_no_lifecycle_or_edit_form_and_the_service_refuses_if_forced(open_page, catalog, portal_db,
                                                                                user_with_role) -> None:
    model = catalog["mistral-small"]
    at = open_page("viewer", CARD, model=model.name)
    assert not at.main.selectbox and not at.main.button and "Change status" not in shown(at)
    viewer = user_with_role("viewer")
    with Session(portal_db) as session, pytest.raises(PermissionDenied, match="needs the reviewer role"):
        transition_model(session=session, actor=viewer, name=model.name,
                         request=TransitionRequest(target=ModelStatus.UNDER_REVIEW, reason="forced"))


def test_reviewer_moves_a_model_with_a_reason_and_the_audit_log_records_it(open_page, catalog, portal_db,
                                                                          user_with_role) -> None:
    model, reviewer = catalog["mistral-small"], user_with_role("reviewer")
    at = open_page(reviewer, CARD, model=model.name)
    key = f"transition_{model.id}_proposed"
    assert at.selectbox(key=f"{key}_target").options == ["start review → under review", "reject → rejected"]
    at.selectbox(key=f"{key}_target").set_value(ModelStatus.UNDER_REVIEW).run()
    at.button[0].click().run()  # no reason yet
    assert errors(at) == ["Give a reason for this change; it goes into the audit log."]
    at.text_area(key=f"{key}_reason").input("Clear use case; checking the vendor terms.")
    at.button[0].click().run()
    assert not at.exception and not errors(at)
    assert "Start review: mistral-small is now under review." in shown(at)
    assert "**Status:** under review" in shown(at)
    next_move = at.selectbox(key=f"transition_{model.id}_under_review_target")
    assert next_move.value is None and "approve → approved" in next_move.options
    with Session(portal_db) as session:
        assert session.get(CatalogModel, model.id).status == "under_review"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.model_transitioned")).one()
    assert (event.actor_email, event.entity_id) == (reviewer.email, model.name)
    assert event.summary == "proposed → under review: Clear use case; checking the vendor terms."


def test_restricting_needs_teams_and_deprecating_needs_a_replacement(open_page, catalog, portal_db) -> None:
    model = catalog["gpt-4o"]
    at = open_page("reviewer", CARD, model=model.name)
    key = f"transition_{model.id}_approved"
    at.selectbox(key=f"{key}_target").set_value(ModelStatus.DEPRECATED).run()
    assert at.selectbox(key=f"{key}_replacement").options == ["Claude Sonnet (claude-sonnet)",
                                                              "Llama 3.1 8B Instruct (llama-3.1-8b-instruct)"]
    assert "Nothing recorded depends on this model yet." in shown(at)
    at.text_area(key=f"{key}_reason").input("Superseded.")
    at.button(key=f"{key}_submit").click().run()
    assert errors(at) == ["Name the model that replaces this one, so its users know where to go."]
    assert at.text_area(key=f"{key}_reason").value == "Superseded."
    at.selectbox(key=f"{key}_replacement").set_value("llama-3.1-8b-instruct")
    at.button(key=f"{key}_submit").click().run()
    assert not errors(at)
    with Session(portal_db) as session:
        stored = session.get(CatalogModel, model.id)
        assert (stored.status, stored.replacement_name, stored.deprecated_on) == (
            "deprecated", "llama-3.1-8b-instruct", date.today())


def test_the_requester_cannot_approve_their_own_request(open_page, catalog, portal_db, user_with_role) -> None:
    reviewer = user_with_role("reviewer")
    with Session(portal_db) as session:
        own = CatalogModel(name="own-request", display_name="Own request", status="under_review",
                           requested_by_id=reviewer.id)
        session.add(own)
        session.commit()
        model_id = own.id
    at = open_page(reviewer, CARD, model="own-request")
    key = f"transition_{model_id}_under_review"
    at.selectbox(key=f"{key}_target").set_value(ModelStatus.APPROVED).run()
    at.text_area(key=f"{key}_reason").input("Looks fine to me.")
    at.button[0].click().run()
    assert errors(at) == ["You requested this model, so someone else must approve it (four eyes)."]
    assert at.text_area(key=f"{key}_reason").value == "Looks fine to me."
    with Session(portal_db) as session:
        assert session.get(CatalogModel, model_id).status == "under_review"


def test_admin_edits_the_card(open_page, catalog, portal_db) -> None:
    model = catalog["bge-m3"]
    at = open_page("admin", CARD, model=model.name)
    key = f"edit_{model.id}"
    at.text_input(key=f"{key}_license").input("MIT")
    at.number_input(key=f"{key}_in_price").set_value(0.02)
    at.button(key=f"FormSubmitter:{key}_form-Save card").click().run()
    assert not at.exception and not errors(at)
    assert "Saved the card: input_price_per_mtok, license." in shown(at)
    assert "**License:** MIT" in shown(at)
    with Session(portal_db) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.card_edited")).one()
    assert event.after == {"license": "MIT", "input_price_per_mtok": 0.02}


def test_a_stale_card_edit_is_refused_the_form_keeps_the_text_and_saves_on_top_of_the_latest(
        open_page, catalog, portal_db, user_with_role) -> None:
    model = catalog["bge-m3"]
    at = open_page("admin", CARD, model=model.name)
    key = f"edit_{model.id}"
    at.text_input(key=f"{key}_license").input("MIT")
    with Session(portal_db) as session:  # meanwhile, another admin saves the card
        update_card(session=session, actor=user_with_role("admin"), name=model.name, base_revision=1,
                    changes={"owner": "Search team"})
        session.commit()
    at.button(key=f"FormSubmitter:{key}_form-Save card").click().run()
    assert not at.exception
    assert errors(at) == ["Someone saved revision 2 of this card while you edited revision 1. Nothing was saved; "
                          "your changes are still in the form: take the latest card, then save again."]
    assert at.text_input(key=f"{key}_license").value == "MIT"
    with Session(portal_db) as session:
        stored = session.get(CatalogModel, model.id)
        assert (stored.license, stored.owner, stored.revision) == ("", "Search team", 2)
    at.button(key=f"{key}_take_latest").click().run()
    assert (at.text_input(key=f"{key}_license").value, at.text_input(key=f"{key}_owner").value) == (
        "MIT", "Search team")
    at.button(key=f"FormSubmitter:{key}_form-Save card").click().run()
    assert not at.exception and not errors(at)
    assert "Saved the card: license." in shown(at)
    with Session(portal_db) as session:
        stored = session.get(CatalogModel, model.id)
        assert (stored.license, stored.owner, stored.revision) == ("MIT", "Search team", 3)


def test_raising_the_classification_on_the_card_form_points_to_the_risk_change(open_page, catalog,
                                                                              portal_db) -> None:
    model = catalog["gpt-4o"]
    at = open_page("admin", CARD, model=model.name)
    key = f"edit_{model.id}"
    at.selectbox(key=f"{key}_cleared").set_value(C.CONFIDENTIAL)
    at.button(key=f"FormSubmitter:{key}_form-Save card").click().run()
    assert not at.exception
    assert errors(at) == ["Clearing it for confidential data (now up to internal) needs a reason and a second "
                          "reviewer or admin, so it is not a plain edit. Propose it as a risk change (Catalog "
                          "operations → Risk changes). Nothing was saved."]
    assert at.selectbox(key=f"{key}_cleared").value == C.CONFIDENTIAL
    with Session(portal_db) as session:
        assert session.get(CatalogModel, model.id).max_classification == C.INTERNAL


def test_one_person_proposes_a_risk_change_and_another_approves_it(open_page, catalog, portal_db) -> None:
    model = catalog["gpt-4o"]
    at = open_page("admin", OPERATIONS)
    at.selectbox(key="risk_model").set_value(model.name).run()
    at.selectbox(key=f"risk_cleared_{model.name}").set_value(C.CONFIDENTIAL)
    at.text_area(key=f"risk_reason_{model.name}").input("Vendor data processing agreement signed")
    at.button(key="FormSubmitter:risk_form-Propose").click().run()
    assert not at.exception and not errors(at)
    assert "Proposed a risk change of" in shown(at) and "You proposed this" in shown(at)
    with Session(portal_db) as session:
        change = session.exec(select(CatalogRiskChange)).one()
        assert session.get(CatalogModel, model.id).max_classification == C.INTERNAL
    reviewer = open_page("reviewer", OPERATIONS)
    assert "cleared up to internal → confidential" in shown(reviewer)
    reviewer.button(key=f"risk_approve_{change.id}").click().run()
    assert not reviewer.exception and not errors(reviewer)
    assert "Approved the risk change of" in shown(reviewer)
    with Session(portal_db) as session:
        assert session.get(CatalogModel, model.id).max_classification == C.CONFIDENTIAL


# --- request a model ----------------------------------------------------------------------------------------

def fill_request(at, **values: str) -> None:
    for field, value in values.items():
        widget = at.text_area(key=f"request_{field}") if field in ("use_case", "justification") \
            else at.text_input(key=f"request_{field}")
        widget.input(value)


def test_contributor_requests_a_model_and_gets_a_link_to_its_card(open_page, catalog, portal_db,
                                                                 user_with_role) -> None:
    contributor = user_with_role("contributor")
    at = open_page(contributor, REQUEST)
    assert at.text_input(key="request_team").value == contributor.team
    fill_request(at, name="qwen2.5-coder-7b", display_name="Qwen2.5 Coder 7B", provider="Alibaba",
                 use_case="Code completion in the internal IDE plug-in.",
                 justification="Smaller and cheaper than the approved general models for code.")
    at.selectbox(key="request_classification").set_value(C.CONFIDENTIAL)
    at.button[0].click().run()
    assert not at.exception and not errors(at)
    assert "Requested qwen2\\.5\\-coder\\-7b" in shown(at)
    assert [link.value for link in at.get("page_link")] == ["Open its card"]
    assert (at.text_input(key="request_name").value, at.text_input(key="request_team").value) == ("", contributor.team)
    with Session(portal_db) as session:
        stored = session.exec(select(CatalogModel).where(CatalogModel.name == "qwen2.5-coder-7b")).one()
    assert (stored.status, stored.requested_by_id, stored.max_classification, stored.request_team) == (
        "proposed", contributor.id, 3, contributor.team)


def test_bad_request_shows_each_problem_under_its_field_and_keeps_the_input(open_page, catalog, portal_db) -> None:
    at = open_page("contributor", REQUEST)
    fill_request(at, name="qwen2.5-coder-7b", use_case="code", justification="cheaper")
    at.text_input(key="request_team").input("")
    at.button[0].click().run()
    assert not at.exception
    assert errors(at) == ["Team: String should have at least 1 character",
                          "Use case: String should have at least 10 characters",
                          "Justification: String should have at least 10 characters"]
    assert (at.text_input(key="request_name").value, at.text_area(key="request_use_case").value) == (
        "qwen2.5-coder-7b", "code")
    with Session(portal_db) as session:
        assert session.exec(select(CatalogModel).where(CatalogModel.name == "qwen2.5-coder-7b")).first() is None


def test_requesting_a_model_already_in_the_catalog_is_refused(open_page, catalog) -> None:
    at = open_page("contributor", REQUEST)
    fill_request(at, name="gpt-4o", use_case="Drafting marketing copy.", justification="Customers like it a lot.")
    at.button[0].click().run()
    assert errors(at) == ["'gpt-4o' is already in the catalog; open its card instead."]
    assert at.text_input(key="request_name").value == "gpt-4o"


# --- catalog operations -------------------------------------------------------------------------------------

def test_reviewer_sees_the_review_queue_but_no_gateway_controls(open_page, catalog) -> None:
    at = open_page("reviewer", OPERATIONS)
    assert [link.value for link in at.get("page_link")] == [
        "Mistral Small (mistral\\-small) — proposed for Customer Apps"]
    assert not at.main.button


def test_admin_syncs_with_the_gateway_and_registers_an_unregistered_model(open_page, catalog, portal_db) -> None:
    at = open_page("admin", OPERATIONS)
    at.button(key="catalog_sync").click().run()
    assert not at.exception and not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    # The fake gateway serves fake-small and fake-large; none of the usable catalog models.
    assert metrics == {"Served": "0", "Unregistered": "2", "Unavailable": "5"}
    assert at.button(key="register_fake-small") and at.button(key="register_fake-large")
    at.button(key="register_fake-small").click().run()
    assert not errors(at)
    assert "Registered fake\\-small as a proposed model" in shown(at)
    assert not [b for b in at.button if b.key == "register_fake-small"]
    assert "Fake\\-small" not in shown(at)
    assert "fake\\-small (fake\\-small) — proposed" in [link.value for link in at.get("page_link")]
    with Session(portal_db) as session:
        stored = session.exec(select(CatalogModel).where(CatalogModel.name == "fake-small")).one()
        assert (stored.status, stored.served) == ("proposed", True)


def test_admin_probes_the_served_models(open_page, catalog, portal_db) -> None:
    with Session(portal_db) as session:
        session.add(CatalogModel(name="fake-small", display_name="Fake small", status="approved"))
        session.commit()
    at = open_page("admin", OPERATIONS)
    at.button(key="catalog_sync").click().run()
    at.button(key="catalog_probe").click().run()
    assert not errors(at)
    assert "Probed 1 model(s), 0 failed." in shown(at)
    assert list(at.dataframe[0].value["model"]) == ["fake-small"]


def test_a_gateway_failure_during_sync_is_a_message(open_page, catalog, fake_gateway) -> None:
    at = open_page("admin", OPERATIONS)
    fake_gateway.fail_always("500")
    at.button(key="catalog_sync").click().run()
    assert not at.exception
    assert len(errors(at)) == 1 and "gateway" in errors(at)[0].lower()


# --- hostile text -------------------------------------------------------------------------------------------

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_BODY = "Intro <img src=x onerror=alert(1)> and <b>raw</b> [click](javascript:alert(1))\n\n**bold**"


def test_hostile_text_is_shown_as_text_not_html(open_page, portal_db) -> None:
    with Session(portal_db) as session:
        session.add(CatalogModel(name="hostile", display_name=HOSTILE_NAME, status="approved", provider="<b>x</b>",
                                 body_markdown=HOSTILE_BODY, request_use_case="<iframe src=x>"))
        session.commit()
    at = open_page("admin", CATALOG)
    assert list(at.dataframe[0].value["display name"]) == [HOSTILE_NAME]
    at.multiselect(key="catalog_compare").set_value(["hostile"]).run()
    assert "**\\<script\\>alert\\(1\\)\\</script\\>**" in shown(at)
    at.switch_page(CARD)
    at.query_params["model"] = "hostile"
    at.run()
    assert at.title[0].value == "\\<script\\>alert\\(1\\)\\</script\\>"
    assert "**Provider:** \\<b\\>x\\</b\\>" in shown(at)
    # The body is shown through portal.ui.untrusted_markdown: its HTML as text and its javascript: link not a link.
    assert safe_markdown(HOSTILE_BODY) in [m.value for m in at.markdown]
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in safe_markdown(HOSTILE_BODY)
    assert "](" not in safe_markdown(HOSTILE_BODY) and "**bold**" in safe_markdown(HOSTILE_BODY)
    assert not [m.value for m in at.markdown if m.allow_html]
    assert not [m for m in at.title if "<script>" in m.value]
