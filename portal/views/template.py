"""One solution template: its README beside the fork form, the preview, the fork itself, and its lineage."""

from pathlib import PurePosixPath

import pandas as pd
import streamlit as st

from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.errors import NotFound
from portal.ui import plain, plain_message, untrusted_markdown
from portal.views import _links as links
from portal.views._template_form import draw_form, raw_answers
from portal.views._template_lineage import draw_lineage
from portal.views._use_case_links import SHOWN, used_by
from portfolio.links import LinkKind, use_cases_using
from templates.forks import fork_template, model_options_for, portal_answers, preview_fork, questions_of
from templates.models import ForkDestination
from templates.questions import InvalidAnswers
from templates.registry import get_template

LIST_PAGE = "views/templates.py"
ERRORS, PREVIEW, FORKED = "tpl_errors", "tpl_preview", "tpl_forked"
LANGUAGES = {".py": "python", ".md": "markdown", ".toml": "toml", ".yml": "yaml", ".yaml": "yaml",
             ".json": "json", ".txt": None, "Dockerfile": "dockerfile"}

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
store = deps.template_store(context)

name = links.template.require(title="Solution template")
try:
    with session_scope(context.engine) as session:
        entry = get_template(session=session, name=name)
        model_options = model_options_for(session=session, user=user)
        prefill = portal_answers(session=session, user=user, questions=questions_of(entry),
                                 gateway_url=context.settings.effective_gateway_url)
        using = use_cases_using(session, user, LinkKind.TEMPLATE, entry.name, limit=SHOWN + 1)
except NotFound as exc:
    st.title("Solution template")
    st.error(plain_message(exc.message))  # it may name the value from the address bar
    st.page_link(LIST_PAGE, label="Back to the templates", icon=":material/arrow_back:")
    st.stop()
if links.template.kept() != name:  # another template: forget the last one's preview and result
    for key in (ERRORS, PREVIEW, FORKED):
        st.session_state.pop(key, None)
links.template.keep(name)
questions = questions_of(entry)

st.title(entry.display_name)
st.caption(plain(entry.summary))
st.markdown(" · ".join(plain(part) for part in (
    f"Category: {entry.category or '—'}", f"Owner: {entry.owner or '—'}", f"Version: {entry.version}",
    f"Source: {entry.source_url}")))
if entry.tech_stack or entry.tags:
    st.caption("Stack: " + plain(", ".join(entry.tech_stack)) + " — Tags: " + plain(", ".join(entry.tags)))
if entry.recommended_models:
    st.caption("Recommended models: " + plain(", ".join(entry.recommended_models)))
if entry.unsafe_features:
    trusted = "an admin has marked it trusted" if entry.trusted else "it cannot be forked until an admin trusts it"
    st.warning(f"This template uses {', '.join(entry.unsafe_features)}; {trusted}.", icon=":material/gpp_maybe:")


def submitted_answers() -> dict:
    return raw_answers(name, questions)


def run_preview() -> None:
    try:
        with session_scope(context.engine) as session:
            files = preview_fork(session=session, actor=user, store=store, template_name=name,
                                 answers=submitted_answers())
    except InvalidAnswers as exc:
        st.session_state[ERRORS] = exc.errors
        st.rerun()
    st.session_state[ERRORS] = {}
    st.session_state[PREVIEW] = [{"path": f.path, "size": f.size, "text": f.text} for f in files]
    st.rerun()  # so the form is drawn again without the errors of an earlier attempt


def run_fork(destination: ForkDestination) -> None:
    try:
        with session_scope(context.engine) as session:
            result = fork_template(session=session, actor=user, store=store, template_name=name,
                                   answers=submitted_answers(), destination=destination)
    except InvalidAnswers as exc:
        st.session_state[ERRORS] = exc.errors
        st.rerun()
    st.session_state[ERRORS] = {}
    st.session_state[FORKED] = {"zip": result.zip_bytes, "file_name": result.file_name,
                                "repo": str(result.repo_path or ""), "id": result.fork.id}
    st.rerun()


def fork_form() -> None:
    """The questions, the output choice, and the Preview and Fork buttons."""
    errors = st.session_state.get(ERRORS, {})
    with st.form("tpl_form"):
        draw_form(name, questions, model_options, errors, prefill)
        destination = st.radio("Output", list(ForkDestination), horizontal=True, key="tpl_destination",
                               format_func=lambda d: ForkDestination(d).label)
        preview_col, fork_col = st.columns(2)
        preview = preview_col.form_submit_button("Preview", icon=":material/visibility:")
        fork = fork_col.form_submit_button("Fork", type="primary", icon=":material/call_split:")
    if errors:
        st.error(f"{len(errors)} answer(s) need another look; each says why under its field.")
    with deps.showing_errors():
        if preview:
            run_preview()
        if fork:
            run_fork(ForkDestination(destination))


def show_fork_result() -> None:
    forked = st.session_state.get(FORKED)
    if not forked:
        return
    if forked["zip"] is not None:
        st.success(f"Forked (record {forked['id']}). Download the project:", icon=":material/check_circle:")
        st.download_button("Download zip", forked["zip"], file_name=forked["file_name"], mime="application/zip",
                           key="tpl_download", icon=":material/download:")
    else:
        st.success(f"Forked (record {forked['id']}) into a new git repository with an initial commit:",
                   icon=":material/check_circle:")
        st.code(forked["repo"], language=None)


def show_preview() -> None:
    files = st.session_state.get(PREVIEW)
    if not files:
        return
    st.subheader("Preview")
    st.caption(f"{len(files)} files, {sum(f['size'] for f in files):,} bytes — nothing is kept until you fork.")
    tree_col, file_col = st.columns([1, 2])
    tree_col.dataframe(pd.DataFrame([{"file": f["path"], "bytes": f["size"]} for f in files]), hide_index=True,
                       width="stretch", height=420, key="tpl_preview_tree")
    by_path = {f["path"]: f for f in files}
    default = next((i for i, f in enumerate(files) if f["path"] == "README.md"), 0)
    chosen = file_col.selectbox("File", list(by_path), index=default, key="tpl_preview_file")
    text = by_path[chosen]["text"]
    path = PurePosixPath(chosen)
    language = LANGUAGES.get(path.name, LANGUAGES.get(path.suffix))
    file_col.code(text if text is not None else "(binary or too large to show)", language=language,
                  height=420)


readme_col, form_col = st.columns(2)
with readme_col:
    st.subheader("README")
    with st.container(height=560):
        if entry.readme:
            untrusted_markdown(entry.readme)  # a third-party template's README: nothing loads, runs or links unmarked
        else:
            st.markdown("_This template has no README._")
with form_col:
    st.subheader("Fork it")
    if has_permission(user, Permission.CONTRIBUTE):
        fork_form()
        show_fork_result()
    else:
        st.info(f"Forking needs the contributor role; yours is {user.role}. You can still read the template "
                "and its lineage.")
show_preview()
draw_lineage(context, user, store, entry)
used_by(using, what="template")
