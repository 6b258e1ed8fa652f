"""Prompts as code (YAML round trip, LangChain JSON, line-numbered errors) and the applications' client cache."""

from __future__ import annotations

import json

import pytest
from langchain_core.load import loads
from sqlmodel import select

from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from prompt_library.as_code import (
    SEED_PROMPTS,
    cases_as_text,
    cases_from_text,
    PromptFileError,
    export_folder,
    import_prompts,
    parse_prompt_file,
    read_folder,
)
from prompt_library.client import PromptClient
from prompt_library.models import Prompt, PromptTestCase
from prompt_library.review import move_label
from prompt_library.search import PromptFilter, search_prompts
from prompt_library.editing import save_version


def edited(session, prompt, extra: str):
    """The prompt's latest version as a draft, with a sentence added to its system message."""
    from prompt_library.editing import PromptDraft
    from prompt_library.reading import messages_of, variables_of, version_by_number
    from prompt_library.templates import Message

    latest = version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version)
    messages = messages_of(latest)
    messages[0] = Message(messages[0].role, messages[0].template + " " + extra)
    return PromptDraft(title=prompt.title, messages=messages, template_format=latest.template_format,
                       variables=variables_of(latest), description=prompt.description, category=prompt.category,
                       department=prompt.department, tags=list(prompt.tags), classification=prompt.classification,
                       recommended_models=list(prompt.recommended_models), change_note=extra)


def seed(session, admin) -> None:
    import_prompts(session=session, actor=admin, fallback_owner=admin,
                   specs=parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed"))
    session.commit()


def test_the_seed_has_thirty_realistic_prompts_across_six_areas(session, make_user) -> None:
    seed(session, make_user("admin"))
    prompts = session.exec(select(Prompt)).all()
    assert len(prompts) >= 30
    assert {p.category for p in prompts} == {"HR", "Legal", "Finance", "Customer support", "Engineering",
                                             "Marketing"}
    assert all(p.recommended_models and p.latest_version == 1 for p in prompts)


def test_export_then_import_round_trips_exactly(session, make_user, tmp_path, engine) -> None:
    admin = make_user("admin")
    seed(session, admin)
    prompt = session.exec(select(Prompt).where(Prompt.slug == "refund-reply")).one()
    save_version(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id,
                 base_version=1, draft=edited(session, prompt, "Keep it under 120 words."))
    session.commit()
    first, second = tmp_path / "one", tmp_path / "two"
    export_folder(session=session, folder=first)
    for table in ("prompt_test_case", "prompt_label", "prompt_version", "prompt"):
        session.connection().exec_driver_sql(f"DELETE FROM {table}")
    session.commit()
    session.expunge_all()
    import_prompts(session=session, actor=admin, fallback_owner=admin, specs=read_folder(first))
    session.commit()
    export_folder(session=session, folder=second)
    names = sorted(p.name for p in first.glob("*.yaml"))
    assert len(names) == 33 and names == sorted(p.name for p in second.glob("*.yaml"))
    for name in names:
        assert (first / name).read_text() == (second / name).read_text(), name
    serialised = (first / "langchain" / "refund-reply.json").read_text()
    template = loads(serialised, allowed_objects="core")
    assert set(template.input_variables) == {"company", "policy", "customer_name", "message"}
    assert json.loads(serialised)["id"][-1] == "ChatPromptTemplate"


@pytest.mark.parametrize("text, message", [
    ("slug: x\ntitle: X\nversions:\n  - messages: [{role: user, template: 'Hi {name'}]\n",
     "line 1 (x): message 1 (user), line 1: '{name' is not closed"),
    ("prompts:\n  - slug: ok\n    title: Ok\n    versions: [{messages: [{role: user, template: hi}]}]\n"
     "  - slug: Bad Slug\n    title: B\n    versions: [{messages: [{role: user, template: hi}]}]\n",
     "line 5: slug: String should match pattern"),
    ("a: [", "f.yaml, line 1: this is not valid YAML"),
    # A few lines that expand into millions of strings when aliases are followed.
    ('a: &a ["lol","lol","lol"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n',
     "f.yaml, line 1: YAML anchors and aliases (&name, *name) are not allowed"),
    ("slug: x\ntitle: X\nversions: [{messages: [{role: user, template: \"hi\\a\"}]}]\nnote: \x07\n",
     "f.yaml, line 4: the control character U+0007"),
    # A problem deep in an entry names its own line, not the entry's; every entry's problems are listed at once.
    ("prompts:\n  - slug: ok\n    title: Ok\n    versions:\n      - messages: [{role: user, template: hi}]\n"
     "        template_format: yaml\n  - slug: b\n    title: 7\n    versions: []\n",
     "f.yaml, line 6: versions.0.template_format: Input should be 'f-string', 'mustache' or 'jinja2'\n"
     "f.yaml, line 8: title: should be text; put the value in quotes\n"
     "f.yaml, line 9: versions: List should have at least 1 item"),
    ("slug: x\ntitle: X\ntitle: Y\nversions: [{messages: [{role: user, template: hi}]}]\n",
     "f.yaml, line 3: title: 'title' appears twice in the same mapping (first on line 2)"),
])
def test_bad_files_name_the_line_and_import_nothing(text, message) -> None:
    with pytest.raises(PromptFileError) as raised:
        parse_prompt_file(text, source="f.yaml")
    assert message in raised.value.message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stage(session, prompt, version) -> None:
    move_label(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id, label="staging",
               version=version)
    session.commit()


def test_the_client_caches_then_serves_stale_while_refreshing(session, make_user, engine) -> None:
    admin = make_user("admin")
    seed(session, admin)
    prompt = session.exec(select(Prompt).where(Prompt.slug == "ticket-summary")).one()
    stage(session, prompt, 1)
    clock = Clock()
    client = PromptClient(engine=engine, ttl_s=60, max_stale_s=600, clock=clock)
    template = client.get_prompt("ticket-summary", label="staging")
    assert template.invoke({"product": "Portal", "ticket": "Login fails"}).to_messages()[1].content.endswith(
        "Login fails")
    assert client.get_prompt("ticket-summary", "staging") is template and client.fetches == 1
    assert client.version_of("ticket-summary", "staging") == 1
    owner = session.get(User, prompt.owner_id)
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=edited(session, prompt, "Use bullet points."))
    session.commit()
    stage(session, prompt, 2)
    clock.now += 30  # fresh: the cached template, no database read
    assert client.get_prompt("ticket-summary", "staging") is template and client.fetches == 1
    clock.now += 31  # stale: served at once, refreshed behind
    assert client.get_prompt("ticket-summary", "staging") is template
    client.wait_for_refreshes()
    assert client.version_of("ticket-summary", "staging") == 2 and client.fetches == 2
    assert client.get_prompt("ticket-summary", "staging") is not template
    assert client.get_prompt("ticket-summary").input_variables == ["product", "ticket"]  # production: v1
    assert client.get_prompt("ticket-summary", label="latest").input_variables == ["product", "ticket"]


def test_the_client_refuses_unknown_prompts_and_labels(session, make_user, engine) -> None:
    seed(session, make_user("admin"))
    client = PromptClient(engine=engine)
    with pytest.raises(NotFound, match="No published prompt 'nope'"):
        client.get_prompt("nope")
    with pytest.raises(NotFound, match="has no 'staging' label"):
        client.get_prompt("ticket-summary", label="staging")


def test_the_client_keeps_serving_when_the_refresh_fails(session, make_user, engine) -> None:
    seed(session, make_user("admin"))
    clock = Clock()
    client = PromptClient(engine=engine, ttl_s=10, max_stale_s=100, clock=clock)
    template = client.get_prompt("code-review")
    session.connection().exec_driver_sql("UPDATE prompt SET status = 'archived' WHERE slug = 'code-review'")
    session.commit()
    clock.now += 20
    assert client.get_prompt("code-review") is template
    client.wait_for_refreshes()
    assert client.get_prompt("code-review") is template  # the failed refresh kept the old entry
    clock.now += 200  # past the stale window: asked again, and now it is gone
    with pytest.raises(NotFound):
        client.get_prompt("code-review")


def test_test_cases_edited_as_yaml_read_back_and_refuse_aliases() -> None:
    cases = [PromptTestCase(prompt_id=1, name="mentions refund", variables={"ticket": "I want my money"},
                            checks=[{"kind": "contains", "value": "refund"}])]
    parsed = cases_from_text(cases_as_text(cases))
    assert [(c.name, c.variables, c.checks) for c in parsed] == [("mentions refund", {"ticket": "I want my money"},
                                                                   [{"kind": "contains", "value": "refund"}])]
    with pytest.raises(InvalidInput, match="line 2: YAML anchors and aliases"):
        cases_from_text("- name: a\n  variables: &v {ticket: x}\n- name: b\n  variables: *v\n")
    with pytest.raises(InvalidInput, match="a YAML list of"):
        cases_from_text("name: not a list")
    with pytest.raises(InvalidInput, match=r"The test cases, line 3: 1.variables: should be a mapping"):
        cases_from_text("- name: a\n- name: b\n  variables: [ticket]\n")
    assert cases_from_text("") == []


def test_imported_tags_are_stored_as_the_library_filters_them(session, make_user) -> None:
    admin = make_user("admin")
    text = ("slug: tagged\ntitle: Tagged\ntags: [Refunds, ' refunds ', Legal]\nstatus: published\n"
            "versions: [{messages: [{role: user, template: hi}]}]\n")
    import_prompts(session=session, actor=admin, fallback_owner=admin, specs=parse_prompt_file(text, source="t"))
    session.commit()
    assert session.exec(select(Prompt.tags).where(Prompt.slug == "tagged")).one() == ["legal", "refunds"]
    found = search_prompts(session=session, actor=admin, filters=PromptFilter(tags=["Refunds"]), index=None)
    assert [p.slug for p in found.prompts] == ["tagged"]


def test_an_import_by_a_system_principal_is_audited_under_its_name(session, make_user) -> None:
    from portal.core.audit import AuditEvent
    from portal.core.errors import PermissionDenied
    from portal.core.principals import SYSTEM_CLI, SYSTEM_SCHEDULER

    admin = make_user("admin")
    specs = parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed")
    with pytest.raises(PermissionDenied, match="system:scheduler may not"):
        import_prompts(session=session, actor=SYSTEM_SCHEDULER, fallback_owner=admin, specs=specs)
    import_prompts(session=session, actor=SYSTEM_CLI, fallback_owner=admin, specs=specs)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "prompt.imported")).one()
    assert (event.actor_email, event.actor_id) == ("system:cli", None)
