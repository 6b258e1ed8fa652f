"""Manage templates: register templates from git repositories, and decide which are trusted."""

import pandas as pd
import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.errors import StaleEdit
from portal.ui import plain
from portal.views._edit_base import forget, form_base, take_latest, widget
from templates.lineage import list_templates
from templates.registry import (
    edit_template_details,
    get_template,
    register_template,
    set_trusted,
)

FLASH = "tpl_admin_flash"
DETAILS = ("display_name", "summary", "category", "tags", "owner")


def details_values(entry) -> dict:
    """The details form's widget values for a template."""
    return {"display_name": entry.display_name, "summary": entry.summary, "category": entry.category,
            "tags": ", ".join(entry.tags), "owner": entry.owner}


def details_form(entry) -> None:
    """Edit a template's listing details on top of the revision the form opened with."""
    key = f"tpl_details_{entry.name}"
    base = form_base(key, entry.revision, details_values(entry))
    with st.form(f"{key}_form"):
        st.text_input("Display name", key=widget(key, "display_name"))
        st.text_input("Summary", key=widget(key, "summary"))
        left, right = st.columns(2)
        left.text_input("Category", key=widget(key, "category"))
        right.text_input("Owner", key=widget(key, "owner"))
        st.text_input("Tags (comma-separated)", key=widget(key, "tags"))
        submitted = st.form_submit_button("Save details", type="primary")
    if not submitted:
        return
    values = {field: st.session_state[widget(key, field)] for field in DETAILS}
    values["tags"] = [tag.strip() for tag in values["tags"].split(",") if tag.strip()]
    saved = False
    with deps.showing_errors():
        try:
            with session_scope(context.engine) as session:
                edit_template_details(session=session, actor=user, name=entry.name, base_revision=base["revision"],
                                      details=values)
            saved = True
        except StaleEdit as stale:
            st.error(stale.message, icon=":material/merge_type:")
            st.button("Take the latest details, keep my changes", key=f"{key}_take_latest", on_click=rebase,
                      args=(key, entry.name))
    if saved:
        forget(key)
        st.session_state[FLASH] = f"Saved the details of {plain(entry.name)}."
        st.rerun()


def rebase(key: str, name: str) -> None:
    with session_scope(context.engine) as session:
        latest = get_template(session=session, name=name)
        take_latest(key, latest.revision, details_values(latest))


context = deps.portal_context()
user = deps.require_user(context)

st.title("Manage templates")
deps.require_page(user, __file__)
store = deps.template_store(context)
if flash := st.session_state.pop(FLASH, None):
    st.success(flash, icon=":material/check_circle:")

st.subheader("Register a template")
st.caption("A git repository (a local path or a URL) holding a copier template: `copier.yml` at its top, "
           "optionally `portal.yml` (display name, summary, category, tags, owner, tech stack, recommended models, "
           "model questions) and a README. Its version is the checked-out tag, or a hash of its content. "
           "Registering a name again records the repository's newer version.")
with st.form("tpl_register"):
    url = st.text_input("Repository", key="tpl_register_url",
                        placeholder="https://git.example.com/coe/templates/faq-bot.git or /srv/templates/faq-bot")
    name = st.text_input("Name", key="tpl_register_name", help="Lower-case letters, digits and dashes; "
                         "empty = the repository's name.")
    register = st.form_submit_button("Register", type="primary", icon=":material/add_circle:")
if register:
    registered = None
    with deps.showing_errors(), session_scope(context.engine) as session:
        registered = register_template(session=session, actor=user, store=store, url=url, name=name)
        summary = f"Registered {registered.name} version {registered.version}."
        if registered.unsafe_features:
            summary += f" It uses {', '.join(registered.unsafe_features)}: trust it below before anyone can fork it."
    if registered is not None:
        st.session_state[FLASH] = summary
        st.rerun()

st.subheader("Edit details")
st.caption("What the template catalog shows and filters on. A new version's `portal.yml` sets them again.")
with session_scope(context.engine) as session:
    rows, _ = list_templates(session=session, actor=user, limit=1000)
entries = {r.entry.name: r.entry for r in rows}
picked = st.selectbox("Template to edit", list(entries), index=None, key="tpl_details_pick",
                      placeholder="Pick a template")
if picked is not None:
    details_form(entries[picked])

st.subheader("Trust")
st.caption("A template with tasks, migrations or Jinja extensions runs code on the portal's server when it is "
           "forked. Only trust templates whose repository the CoE controls; a new version that brings a new "
           "unsafe feature loses its trust until you grant it again.")
st.dataframe(pd.DataFrame([{"name": r.entry.name, "source": r.entry.source_url, "version": r.entry.version,
                            "unsafe features": ", ".join(r.entry.unsafe_features), "trusted": r.entry.trusted,
                            "forks": r.forks} for r in rows]), hide_index=True, width="stretch",
             key="tpl_admin_table")
unsafe = [r.entry for r in rows if r.entry.unsafe_features]
if not unsafe:
    st.info("No registered template uses unsafe features.")
    st.stop()
by_name = {e.name: e for e in unsafe}
pick_col, trust_col, save_col = st.columns([2, 1, 1], vertical_alignment="bottom")
chosen = pick_col.selectbox("Template", list(by_name), key="tpl_trust_pick")
trusted = trust_col.toggle("Trusted", value=by_name[chosen].trusted, key=f"tpl_trust_{chosen}")
# Trust covers the revision the admin looked at: the one shown when they first picked the template.
seen = st.session_state.setdefault(f"tpl_trust_seen_{chosen}", by_name[chosen].revision)
if save_col.button("Save", key="tpl_trust_save"):
    saved = False
    with deps.showing_errors(), session_scope(context.engine) as session:
        set_trusted(session=session, actor=user, name=chosen, trusted=trusted, base_revision=seen)
        saved = True
    st.session_state.pop(f"tpl_trust_seen_{chosen}", None)  # saved or refused: next time from what is shown
    if saved:
        st.session_state[FLASH] = f"{plain(chosen)} is {'now trusted' if trusted else 'no longer trusted'}."
        st.rerun()
