"""Manage templates: register templates from git repositories, and decide which are trusted."""

import pandas as pd
import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain
from templates.lineage import list_templates
from templates.registry import register_template, set_trusted

FLASH = "tpl_admin_flash"

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

st.subheader("Trust")
st.caption("A template with tasks, migrations or Jinja extensions runs code on the portal's server when it is "
           "forked. Only trust templates whose repository the CoE controls; a new version that brings a new "
           "unsafe feature loses its trust until you grant it again.")
with session_scope(context.engine) as session:
    rows, _ = list_templates(session=session, actor=user, limit=1000)
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
if save_col.button("Save", key="tpl_trust_save"):
    saved = False
    with deps.showing_errors(), session_scope(context.engine) as session:
        set_trusted(session=session, actor=user, name=chosen, trusted=trusted)
        saved = True
    if saved:
        st.session_state[FLASH] = f"{plain(chosen)} is {'now trusted' if trusted else 'no longer trusted'}."
        st.rerun()
