"""Catalog as code: the whole file is validated before anything is written, imports are idempotent and
audited, hostile YAML is refused with the line to fix, and export round-trips through import."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from catalog.as_code import SEED_CATALOG, CatalogFileError, ImportResult, NotApplied, export_catalog, import_catalog
from catalog.lifecycle import TransitionRequest
from catalog.models import CatalogModel, DataClassification, Hosting, Mode, ModelStatus
from catalog.seed import SEED_REASON, seed_catalog
from catalog.service import get_model, request_model, transition_model, update_card
from catalog.events import CatalogImported, ModelTransitioned
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.model_server import LOCAL_EMBEDDING_MODEL
from portal.core.principals import SYSTEM_CLI, SYSTEM_SCHEDULER, SYSTEM_SEED
from portal.core.settings import Settings

CATALOG = """\
models:
  - name: acme/chat-8b
    display_name: Acme Chat 8B
    provider: Acme
    family: Acme Chat
    version: "1.0"
    hosting: self_hosted
    owner: AI CoE Platform
    mode: chat
    modalities_in: [text, image]
    modalities_out: [text]
    max_input_tokens: 131072
    max_output_tokens: 8192
    supports_tools: true
    supports_vision: true
    supports_json_output: true
    input_price_per_mtok: 0.05
    output_price_per_mtok: 0.08
    license: Apache-2.0
    intended_uses: Drafting <script>alert("hi")</script> and summaries.
    out_of_scope: Decisions about people.
    evaluations:
      - {benchmark: MMLU (5-shot), score: 69.4, date: 2024-07-23}
    risk_tier: 1
    allowed_classifications: [public, internal, confidential]
    guardrails: [PII redaction on input]
    status: approved
    next_review_on: 2027-03-01
    released_on: 2024-07-23
    body_markdown: |
      # Acme Chat
      Served by vLLM.
  - name: acme/chat-old
    display_name: Acme Chat (old)
    status: deprecated
    deprecated_on: 2026-09-01
    replacement: acme/chat-8b
  - name: acme/pilot
    status: restricted
    restricted_teams: [Model Risk, Data Platform, Data Platform]
    allowed_classifications: [internal, public]
"""
NAMES = ["acme/chat-8b", "acme/chat-old", "acme/pilot"]


def run_import(session: Session, text: str = CATALOG, *, actor=SYSTEM_CLI, source: str = "catalog.yaml",
               only_new: bool = False) -> ImportResult:
    """Import and commit, as the command line's session scope does; the counts (not the lifecycle notes)."""
    result = import_catalog(session=session, actor=actor, text=text, source=source, only_new=only_new)
    session.commit()
    return ImportResult(created=result.created, updated=result.updated, unchanged=result.unchanged)


def run_seed(session: Session, text: str | None = None, tmp_path: Path | None = None) -> ImportResult:
    """Seed a catalog file (the shipped one by default) as `coe-portal seed` does, and commit."""
    path = SEED_CATALOG
    if text is not None:
        path = tmp_path / "seed.yaml"
        path.write_text(text, encoding="utf-8")
    result = seed_catalog(session=session, actor=SYSTEM_SEED, path=path)
    session.commit()
    return result


def import_events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == CatalogImported.action)
                             .order_by(AuditEvent.id)).all())


def database_state(session: Session) -> tuple[int, int, str]:
    """Card count, audit event count and the exported catalog: what an import would have to change."""
    cards = session.exec(select(func.count()).select_from(CatalogModel)).one()
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    return cards, events, export_catalog(session=session)


# Import


def test_import_creates_every_card_with_its_fields(session: Session) -> None:
    assert run_import(session) == ImportResult(created=3, updated=0, unchanged=0)

    card = get_model(session=session, name="acme/chat-8b")
    assert (card.display_name, card.provider, card.hosting, card.mode) == (
        "Acme Chat 8B", "Acme", Hosting.SELF_HOSTED, Mode.CHAT)
    assert card.input_modalities == ["text", "image"] and card.supports_vision and card.max_input_tokens == 131072
    assert (card.input_price_per_mtok, card.output_price_per_mtok) == (0.05, 0.08)
    assert card.max_classification == DataClassification.CONFIDENTIAL
    assert card.evaluations == [{"benchmark": "MMLU (5-shot)", "score": 69.4, "date": "2024-07-23"}]
    assert card.released_on == dt.date(2024, 7, 23) and card.next_review_on == dt.date(2027, 3, 1)
    assert card.body_markdown == "# Acme Chat\nServed by vLLM."
    # Text is stored as typed: the card page renders it as text, never as HTML.
    assert card.intended_uses == 'Drafting <script>alert("hi")</script> and summaries.'
    # An import approves nothing: the file's lifecycle goes through review (the seed: see below).
    assert (card.status, card.approved_at, card.approved_by_id) == ("proposed", None, None)

    old = get_model(session=session, name="acme/chat-old")
    assert (old.status, old.replacement_name, old.deprecated_on) == ("proposed", "", None)
    assert old.max_classification == DataClassification.PUBLIC and old.risk_tier == 3  # the card's defaults
    pilot = get_model(session=session, name="acme/pilot")
    assert pilot.display_name == "acme/pilot"  # an entry without a display name shows its name
    assert (pilot.status, pilot.restricted_teams) == ("proposed", [])
    assert pilot.allowed_classifications == [DataClassification.PUBLIC, DataClassification.INTERNAL]


def test_one_audit_event_per_import_names_what_it_created(session: Session) -> None:
    run_import(session, source="catalogs/acme.yaml")

    [event] = import_events(session)
    assert (event.entity_type, event.entity_id, event.actor_email) == ("catalog", "catalogs/acme.yaml", "system:cli")
    assert event.actor_id is None
    assert event.after["created"] == NAMES and event.after["updated"] == []


def test_reimporting_the_same_file_changes_nothing(session: Session) -> None:
    run_import(session)
    stamped = get_model(session=session, name="acme/chat-8b").updated_at

    assert run_import(session) == ImportResult(created=0, updated=0, unchanged=3)
    assert len(import_events(session)) == 1  # an import that changed nothing leaves no event
    assert get_model(session=session, name="acme/chat-8b").updated_at == stamped


def test_a_changed_entry_updates_its_card_and_the_event_shows_before_and_after(session: Session) -> None:
    run_import(session)

    result = run_import(session, CATALOG.replace("    risk_tier: 1\n", "    risk_tier: 2\n"))

    assert result == ImportResult(created=0, updated=1, unchanged=2)
    assert get_model(session=session, name="acme/chat-8b").risk_tier == 2
    event = import_events(session)[-1]
    assert event.after["updated"] == ["acme/chat-8b"] and event.after["created"] == []
    assert event.after["changes"] == {"acme/chat-8b": {"risk_tier": 2}}
    assert event.before["changes"] == {"acme/chat-8b": {"risk_tier": 1}}


def test_an_entry_describes_the_whole_card_and_cards_missing_from_the_file_stay(session: Session) -> None:
    run_import(session)

    run_import(session, "models:\n  - name: acme/chat-8b\n    display_name: Acme Chat 8B\n")

    card = get_model(session=session, name="acme/chat-8b")
    assert card.body_markdown == "" and card.status == "proposed"  # fields left out take the card's defaults
    assert {c.name for c in session.exec(select(CatalogModel)).all()} == set(NAMES)  # import never deletes


def test_only_new_creates_missing_cards_and_keeps_an_admins_edits(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    run_import(session)
    update_card(session=session, actor=admin, name="acme/chat-8b", base_revision=1,
                changes={"display_name": "Acme Chat (edited)"})
    session.commit()
    extended = CATALOG + "  - name: acme/new\n    status: proposed\n"

    result = run_import(session, extended, only_new=True)

    assert result == ImportResult(created=1, updated=0, unchanged=3)
    assert get_model(session=session, name="acme/chat-8b").display_name == "Acme Chat (edited)"
    assert import_events(session)[-1].after == {"created": ["acme/new"], "updated": [], "changes": {}}
    # Without only_new the file wins: it is the reviewed source of the catalog.
    assert run_import(session, extended).updated == 1
    assert get_model(session=session, name="acme/chat-8b").display_name == "Acme Chat 8B"


def test_a_deprecated_entry_may_name_a_card_already_in_the_catalog(session: Session) -> None:
    run_import(session)

    result = run_import(session, "models:\n  - name: acme/legacy\n    status: deprecated\n"
                                 "    deprecated_on: 2026-01-01\n    replacement: acme/chat-8b\n")

    assert result.created == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR, Role.REVIEWER])
def test_only_an_admin_may_import(session: Session, make_user, role: Role) -> None:
    with pytest.raises(PermissionDenied, match="admin"):
        import_catalog(session=session, actor=make_user(role), text=CATALOG)
    assert session.exec(select(func.count()).select_from(CatalogModel)).one() == 0


def test_an_admins_import_is_audited_under_their_name(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN)

    run_import(session, actor=admin)

    assert import_events(session)[0].actor_email == admin.email
    # Not even an admin's import approves a model: it starts as proposed, and the admin approves nothing.
    card = get_model(session=session, name="acme/chat-8b")
    assert (card.status, card.approved_by_id) == ("proposed", None)


# Export


def test_export_is_sorted_stable_and_imports_back_without_changes(session: Session, make_user, make_model) -> None:
    run_seed(session)  # the seed's cards reach their states through the lifecycle
    # Cards made through the app rather than a file round-trip too.
    request_model(session=session, actor=make_user(Role.CONTRIBUTOR), request={
        "name": "vendor/requested model", "use_case": "Summarise support tickets.",
        "justification": "Cheaper than what we use today.", "classification": DataClassification.INTERNAL,
        "team": "Service Desk"})
    make_model(ModelStatus.RESTRICTED, name="zeta/restricted", restricted_departments=["Finance"])
    make_model(ModelStatus.APPROVED, name="alpha/approved")
    transition_model(session=session, actor=make_user(Role.REVIEWER), name="alpha/approved", request=TransitionRequest(
        target=ModelStatus.DEPRECATED, reason="superseded", deprecated_on=dt.date(2026, 12, 1),
        replacement_name="meta-llama/Llama-3.1-8B-Instruct"))
    session.commit()
    before = database_state(session)

    exported = export_catalog(session=session)
    result = run_import(session, exported, source="export.yaml")

    names = [entry["name"] for entry in yaml.safe_load(exported)["models"]]
    assert names == sorted(names) and len(names) == before[0]
    assert result == ImportResult(created=0, updated=0, unchanged=len(names))
    assert database_state(session) == before  # no card changed and no audit event was added
    assert export_catalog(session=session) == exported


def test_export_of_an_empty_catalog_imports(session: Session) -> None:
    assert run_import(session, export_catalog(session=session)) == ImportResult(0, 0, 0)


printable_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=printable_text, uses=printable_text)
def test_any_text_survives_export_and_import(session: Session, body: str, uses: str) -> None:
    entry = {"name": "acme/text", "body_markdown": body, "intended_uses": uses}
    # Escaped ASCII: PyYAML writes NEL and U+2028 unescaped in plain text when allowed Unicode, losing them.
    run_import(session, yaml.safe_dump({"models": [entry]}, allow_unicode=False))
    stored = get_model(session=session, name="acme/text")

    assert run_import(session, export_catalog(session=session)).updated == 0
    assert (stored.body_markdown.strip(), stored.intended_uses.strip()) == (body.strip(), uses.strip())


# Invalid entries: every case names the entry, the field and the line, and nothing is written.

VALID_NEW_ENTRY = "models:\n  - name: acme/new-model\n    status: proposed\n"
HERE = "# <- here"
INVALID_ENTRIES = [
    # (case, entry as YAML with the offending line marked, entry in the message, field, words in the message)
    ("text where a number goes", "max_input_tokens: lots  " + HERE, "'bad'", "max_input_tokens", "integer"),
    ("a number where text goes", "display_name: 123  " + HERE, "'bad'", "display_name", "quotes"),
    ("a version YAML reads as a number", "version: 3.1  " + HERE, "'bad'", "version", "quotes"),
    ("unknown field", "context_window: 8192  " + HERE, "'bad'", "context_window", "not a field"),
    ("risk tier out of range", "risk_tier: 4  " + HERE, "'bad'", "risk_tier", "less than or equal to 3"),
    ("unknown hosting", "hosting: on_prem  " + HERE, "'bad'", "hosting", "third_party_api"),
    ("unknown status", "status: live  " + HERE, "'bad'", "status", "under_review"),
    ("unknown mode", "mode: completion  " + HERE, "'bad'", "mode", "embedding"),
    ("unknown modality", "modalities_in: [text, smell]  " + HERE, "'bad'", "modalities_in[1]", "image"),
    ("non-contiguous classifications", "allowed_classifications: [public, confidential]  " + HERE, "'bad'",
     "allowed_classifications", "add internal"),
    ("classifications without public", "allowed_classifications: [internal]  " + HERE, "'bad'",
     "allowed_classifications", "add public"),
    ("unknown classification", "allowed_classifications: [public, secret]  " + HERE, "'bad'",
     "allowed_classifications[1]", "confidential"),
    ("classification listed twice", "allowed_classifications: [public, public]  " + HERE, "'bad'",
     "allowed_classifications", "twice"),
    ("restricted without teams", "status: restricted  " + HERE, "'bad'", "restricted_teams", "at least one team"),
    ("approved with teams", "status: approved\n  restricted_teams: [Finance]  " + HERE, "'bad'",
     "restricted_teams", "use status restricted"),
    ("deprecated without replacement", "status: deprecated  " + HERE + "\n  deprecated_on: 2026-01-01", "'bad'",
     "replacement", "replaces it"),
    ("deprecated without a date", "status: deprecated  " + HERE + "\n  replacement: acme/new-model", "'bad'",
     "deprecated_on", "date"),
    ("deprecated with unknown replacement", "status: deprecated\n  deprecated_on: 2026-01-01\n"
     "  replacement: acme/nowhere  " + HERE, "'bad'", "replacement", "no model 'acme/nowhere'"),
    ("replaced by itself", "status: deprecated\n  deprecated_on: 2026-01-01\n  replacement: bad  " + HERE,
     "'bad'", "replacement", "itself"),
    ("replacement on an approved model", "status: approved\n  replacement: acme/new-model  " + HERE, "'bad'",
     "replacement", "only a deprecated or retired"),
    ("impossible date", "released_on: 2024-13-45  " + HERE, "'bad'", "released_on", "not a valid date"),
    ("date as free text", "released_on: last summer  " + HERE, "'bad'", "released_on", "date"),
    ("evaluation score as text", "evaluations:\n    - {benchmark: MMLU, score: high, date: 2024-07-23}  " + HERE,
     "'bad'", "evaluations[0].score", "number"),
    ("evaluation without a date", "evaluations:\n    - {benchmark: MMLU, score: 70}  " + HERE,
     "'bad'", "evaluations[0].date", "required"),
    ("infinite price", "input_price_per_mtok: .inf  " + HERE, "'bad'", "input_price_per_mtok", "finite"),
    ("negative price", "output_price_per_mtok: -1  " + HERE, "'bad'", "output_price_per_mtok", "greater than"),
    ("boolean as text", "supports_tools: maybe  " + HERE, "'bad'", "supports_tools", "boolean"),
    ("list as text", "guardrails: PII redaction  " + HERE, "'bad'", "guardrails", "list"),
    ("NUL character", 'intended_uses: "fine\\0not"  ' + HERE, "'bad'", "intended_uses", "NUL"),
    ("field given twice", "risk_tier: 1\n  risk_tier: 2  " + HERE, "'bad'", "risk_tier", "twice"),
    ("python tag", 'owner: !!python/object/apply:os.system ["touch pwned"]  ' + HERE, "'bad'", "owner",
     "!!python/object/apply:os.system"),
    ("binary tag", "license: !!binary aGVsbG8=  " + HERE, "'bad'", "license", "!!binary"),
    ("duplicate name", "status: proposed\n- name: acme/new-model  " + HERE, "'acme/new-model'", "name",
     "already used by the entry on line 2"),
]


def invalid_file(entry: str) -> str:
    """A file whose first entry is valid and whose second is `entry` (named 'bad' unless it says otherwise)."""
    body = entry if entry.startswith("name:") else "name: bad\n  " + entry
    return VALID_NEW_ENTRY + textwrap.indent("- " + body, "  ") + "\n"


def marked_line(text: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if HERE in line)


@pytest.mark.parametrize(("case", "entry", "label", "field", "words"), INVALID_ENTRIES,
                         ids=[case[0] for case in INVALID_ENTRIES])
def test_an_invalid_entry_is_located_and_nothing_is_written(session: Session, case: str, entry: str, label: str,
                                                            field: str, words: str) -> None:
    run_import(session)
    before = database_state(session)
    text = invalid_file(entry)

    with pytest.raises(CatalogFileError) as caught:
        import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="team.yaml")

    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"team.yaml, line {marked_line(text)}, entry {label}, field '{field}': "), first
    assert words in first
    assert isinstance(caught.value, InvalidInput)  # pages show it like any other input error
    assert database_state(session) == before
    assert not Path("pwned").exists()  # the python tag was never constructed


def test_an_entry_without_a_name_is_named_by_its_position(session: Session) -> None:
    text = VALID_NEW_ENTRY + "  - display_name: Nameless  " + HERE + "\n"

    with pytest.raises(CatalogFileError, match=rf"line {marked_line(text)}, entry #2, field 'name': is required"):
        import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="team.yaml")


def test_an_entry_that_is_not_a_mapping_is_refused(session: Session) -> None:
    with pytest.raises(CatalogFileError, match=r"team.yaml, line 4, entry #2: an entry must be a mapping"):
        import_catalog(session=session, actor=SYSTEM_CLI, text=VALID_NEW_ENTRY + "  - just a model name\n",
                       source="team.yaml")


def test_every_problem_in_the_file_is_listed_at_once(session: Session) -> None:
    text = "models:\n  - name: a\n    risk_tier: 9\n  - name: b\n    hosting: moon\n    mode: poem\n"

    with pytest.raises(CatalogFileError) as caught:
        import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="f.yaml")

    assert [(p.line, p.entry, p.field) for p in caught.value.problems] == [
        (3, "'a'", "risk_tier"), (5, "'b'", "hosting"), (6, "'b'", "mode")]
    assert str(caught.value).endswith("Nothing was imported.")


# Hostile or malformed documents: refused with the line, before anything is read into the database.

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "models: []\n"
HOSTILE_DOCUMENTS = [
    ("alias bomb", BILLION_LAUGHS, "line 1: YAML anchors and aliases"),
    ("alias inside an entry", "models:\n  - &x {name: a}\n  - *x\n", "line 2: YAML anchors and aliases"),
    ("python tag at the top", 'models: !!python/object/apply:os.system ["touch pwned"]\n',
     "line 1: `models` must be a list of entries, not the tag !!python/object/apply:os.system"),
    ("python tag on the document", '!!python/object/new:os.system ["touch pwned"]\n', "line 1: a catalog file is"),
    ("top-level list", "- name: a\n- name: b\n", "line 1: a catalog file is a mapping with one key, `models`"),
    ("models is a mapping", "models:\n  name: a\n", "line 2: `models` must be a list of entries"),
    ("unknown top-level key", "models: []\nversion: 2\n", "line 2: unknown top-level key 'version'"),
    ("no models key", "{}\n", "line 1: a catalog file is a mapping with one key, `models`"),
    ("too many entries", "models:\n" + "  - {}\n" * 5001, "holds 5,001 entries; at most 5,000"),
    ("deep nesting", "models:\n  - name: a\n    guardrails: " + "[" * 50 + "]" * 50 + "\n",
     "line 3: values are nested more than"),
    ("broken YAML", "models:\n  - name: [a\n", "line 3: this is not valid YAML"),
    ("two documents", "models: []\n---\nmodels: []\n", "line 2: this is not valid YAML"),
    ("control character", "models:\n  - name: a\x07\n", "line 2: the control character U+0007"),
    ("empty file", "", "is empty"),
    ("huge file", "models: []\n#" + "x" * (1024 * 1024), "may be at most 1 MB"),
]


@pytest.mark.parametrize(("case", "text", "message"), HOSTILE_DOCUMENTS, ids=[case[0] for case in HOSTILE_DOCUMENTS])
def test_a_hostile_or_malformed_document_is_refused(session: Session, case: str, text: str, message: str) -> None:
    run_import(session)
    before = database_state(session)

    with pytest.raises(CatalogFileError) as caught:
        import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="evil.yaml")

    assert str(caught.value).startswith("evil.yaml"), str(caught.value)
    assert message in str(caught.value)
    assert database_state(session) == before
    assert not Path("pwned").exists()


# The seed catalog


def test_the_seed_catalog_imports_cleanly_and_reseeding_adds_nothing(session: Session) -> None:
    text = SEED_CATALOG.read_text(encoding="utf-8")
    entries = yaml.safe_load(text)["models"]

    assert run_import(session, text, source=str(SEED_CATALOG), only_new=True).created == len(entries) >= 10
    assert run_import(session, text, source=str(SEED_CATALOG), only_new=True).created == 0
    assert len(import_events(session)) == 1


def test_the_seed_holds_the_local_model_the_portal_serves(session: Session) -> None:
    run_seed(session)

    local = get_model(session=session, name=Settings.model_fields["local_model_name"].default)
    assert (local.status, local.hosting, local.risk_tier, local.license) == ("approved", "self_hosted", 1, "Apache-2.0")
    assert local.allowed_classifications == [DataClassification.PUBLIC, DataClassification.INTERNAL]
    assert local.max_input_tokens == 2048 and local.input_price_per_mtok == local.output_price_per_mtok == 0


def test_the_seed_holds_the_embedding_model_the_local_server_serves(session: Session) -> None:
    run_seed(session)

    embedding = get_model(session=session, name=LOCAL_EMBEDDING_MODEL)
    assert (embedding.mode, embedding.status, embedding.license) == (Mode.EMBEDDING, "approved", "Apache-2.0")
    assert embedding.input_price_per_mtok == embedding.output_price_per_mtok == 0


def test_the_seed_catalogs_lifecycle_and_clearances_are_consistent(session: Session) -> None:
    run_seed(session)
    cards = {card.name: card for card in session.exec(select(CatalogModel)).all()}

    assert {card.status for card in cards.values()} == {status.value for status in ModelStatus}
    assert any(card.mode == Mode.EMBEDDING for card in cards.values())
    for card in cards.values():
        if card.hosting == Hosting.THIRD_PARTY_API:  # prompts leave our infrastructure
            assert card.max_classification <= DataClassification.INTERNAL, card.name
        assert card.max_classification < DataClassification.RESTRICTED, card.name
        if card.status == ModelStatus.RESTRICTED:
            assert card.restricted_teams or card.restricted_departments, card.name
        if card.status in (ModelStatus.DEPRECATED, ModelStatus.RETIRED):
            assert cards[card.replacement_name].status == ModelStatus.APPROVED, card.name
        if card.status in (ModelStatus.APPROVED, ModelStatus.RESTRICTED):
            assert card.next_review_on is not None and card.evaluations, card.name
        assert card.max_input_tokens and card.license and card.intended_uses and card.body_markdown, card.name


# Lifecycle: an import never moves a card; the seed does, through the lifecycle's transitions.

NEW_CARD_FILES = [
    ("approved", "status: approved\n    next_review_on: 2027-03-01\n", {"status": "approved"}),
    ("restricted", "status: restricted\n    restricted_teams: [Finance]\n",
     {"status": "restricted", "restricted_teams": ["Finance"]}),
    ("deprecated", "status: deprecated\n    deprecated_on: 2026-01-01\n    replacement: acme/chat-8b\n",
     {"status": "deprecated", "deprecated_on": dt.date(2026, 1, 1), "replacement": "acme/chat-8b"}),
    ("retired", "status: retired\n    retired_on: 2025-01-31\n",
     {"status": "retired", "retired_on": dt.date(2025, 1, 31)}),
]


@pytest.mark.parametrize(("case", "lifecycle", "reported"), NEW_CARD_FILES, ids=[c[0] for c in NEW_CARD_FILES])
def test_a_new_card_starts_as_proposed_whatever_the_file_says(session: Session, case: str, lifecycle: str,
                                                               reported: dict) -> None:
    run_import(session)
    text = "models:\n  - name: acme/newcomer\n    risk_tier: 2\n    " + lifecycle

    result = import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="team.yaml")
    session.commit()

    card = get_model(session=session, name="acme/newcomer")
    assert (card.status, card.risk_tier, card.approved_at, card.approved_by_id) == ("proposed", 2, None, None)
    assert (card.restricted_teams, card.deprecated_on, card.retired_on, card.replacement_name) == ([], None, None, "")
    assert {note.field: note.in_file for note in result.not_applied} == reported
    assert all(note.name == "acme/newcomer" for note in result.not_applied)
    assert import_events(session)[-1].after["not_applied"] == {"acme/newcomer": {
        field: value.isoformat() if isinstance(value, dt.date) else value for field, value in reported.items()}}
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == ModelTransitioned.action)).all()


def file_with(session: Session, **fields) -> str:
    """The exported catalog (one card) with some fields of its entry changed; None drops a field."""
    [entry] = yaml.safe_load(export_catalog(session=session))["models"]
    entry.update(fields)
    return yaml.safe_dump({"models": [{k: v for k, v in entry.items() if v is not None}]})


def test_an_existing_approved_cards_status_survives_an_import_saying_retired(session: Session, make_model) -> None:
    make_model(ModelStatus.APPROVED, name="acme/chat-8b", display_name="Acme Chat 8B")
    text = file_with(session, display_name="Acme Chat 8B (v2)", status="retired", retired_on=dt.date(2025, 1, 31))

    result = import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="team.yaml")
    session.commit()

    card = get_model(session=session, name="acme/chat-8b")
    assert (card.status, card.retired_on) == ("approved", None)  # the lifecycle is left as it was
    assert card.display_name == "Acme Chat 8B (v2)"  # describing fields still follow the file
    assert (result.created, result.updated) == (0, 1)
    assert result.not_applied == (
        NotApplied(name="acme/chat-8b", field="status", in_file="retired", on_card="approved"),
        NotApplied(name="acme/chat-8b", field="retired_on", in_file=dt.date(2025, 1, 31), on_card=None))
    assert str(result.not_applied[0]) == "acme/chat-8b: status retired in the file, approved on the card"
    event = import_events(session)[-1]
    assert event.after["changes"] == {"acme/chat-8b": {"display_name": "Acme Chat 8B (v2)"}}
    assert event.after["not_applied"] == {"acme/chat-8b": {"status": "retired", "retired_on": "2025-01-31"}}


def test_a_status_only_difference_changes_nothing_and_records_nothing(session: Session, make_model) -> None:
    make_model(ModelStatus.RESTRICTED, name="acme/pilot", restricted_teams=["Finance"])
    text = file_with(session, status="approved", restricted_teams=None)
    before = database_state(session)

    result = import_catalog(session=session, actor=SYSTEM_CLI, text=text, source="team.yaml")

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert [(n.field, n.in_file, n.on_card) for n in result.not_applied] == [
        ("status", "approved", "restricted"), ("restricted_teams", [], ["Finance"])]
    assert database_state(session) == before


def test_the_seed_reaches_each_files_state_through_the_lifecycle(session: Session, tmp_path: Path) -> None:
    assert run_seed(session, CATALOG, tmp_path) == ImportResult(created=3, updated=0, unchanged=0)

    card = get_model(session=session, name="acme/chat-8b")
    assert card.status == "approved" and card.approved_at is not None  # the card shows when it was approved
    assert card.approved_by_id is None and card.next_review_on == dt.date(2027, 3, 1)  # approved by no person
    old = get_model(session=session, name="acme/chat-old")
    assert (old.status, old.replacement_name, old.deprecated_on) == ("deprecated", "acme/chat-8b", dt.date(2026, 9, 1))
    pilot = get_model(session=session, name="acme/pilot")
    assert (pilot.status, pilot.restricted_teams) == ("restricted", ["Data Platform", "Model Risk"])
    moves = session.exec(select(AuditEvent).where(AuditEvent.action == ModelTransitioned.action)
                         .order_by(AuditEvent.id)).all()
    assert [(m.entity_id, m.after["status"]) for m in moves] == [
        ("acme/chat-8b", "under_review"), ("acme/chat-8b", "approved"), ("acme/pilot", "under_review"),
        ("acme/pilot", "restricted"), ("acme/chat-old", "under_review"), ("acme/chat-old", "approved"),
        ("acme/chat-old", "deprecated")]
    assert {(m.actor_email, m.actor_id) for m in moves} == {("system:seed", None)}
    assert all(m.summary.endswith(": " + SEED_REASON) for m in moves)


def test_the_seed_keeps_the_files_retirement_date_and_reseeding_moves_nothing(session: Session, make_user) -> None:
    run_seed(session)
    retired = get_model(session=session, name="meta-llama/Llama-2-13b-chat-hf")
    assert (retired.status, retired.retired_on, retired.deprecated_on) == (
        "retired", dt.date(2025, 1, 31), dt.date(2024, 9, 1))
    # A reviewer's later move is kept: re-seeding only creates what is missing.
    transition_model(session=session, actor=make_user(Role.REVIEWER), name="Qwen/Qwen2.5-7B-Instruct",
                     request=TransitionRequest(target=ModelStatus.REJECTED, reason="not needed"))
    session.commit()
    before = database_state(session)

    assert run_seed(session).created == 0
    assert database_state(session) == before


@pytest.mark.parametrize("principal", [SYSTEM_CLI, SYSTEM_SCHEDULER])
def test_only_a_principal_that_may_review_seeds_the_catalogs_states(session: Session, principal) -> None:
    with pytest.raises(PermissionDenied, match=f"{principal.name} may not approve"):
        seed_catalog(session=session, actor=principal)
    assert session.exec(select(func.count()).select_from(CatalogModel)).one() == 0


def test_a_seed_state_the_lifecycle_refuses_names_the_entry(session: Session, tmp_path: Path) -> None:
    # The replacement is only under review, and a deprecated model's replacement must be usable.
    text = ("models:\n  - name: acme/next\n    status: under_review\n  - name: acme/old\n    status: deprecated\n"
            "    deprecated_on: 2026-01-01\n    replacement: acme/next\n")

    with pytest.raises(InvalidInput, match="seed.yaml, 'acme/old': cannot become deprecated: The replacement"):
        run_seed(session, text, tmp_path)


def test_the_import_never_takes_the_principal_none(session: Session) -> None:
    with pytest.raises(PermissionDenied, match="Sign in first"):
        import_catalog(session=session, actor=None, text=CATALOG)
