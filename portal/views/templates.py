"""Solution templates: browse the starter projects, most reused first, and open one to fork it."""

import pandas as pd
import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import open_picker
from portal.views import _links as links
from templates.lineage import list_templates, template_categories

PAGE_SIZE = 50

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
deps.template_store(context)  # registers the built-in templates on first use

st.title("Solution templates")
st.caption("Starter projects that work on the first run and already talk to the central gateway. Open one to "
           "read its README, answer its questions, preview the files and fork it as a zip or a git repository.")

search_col, category_col = st.columns([3, 1])
search = search_col.text_input("Search name, summary or category", key="tpl_search")
page = int(st.session_state.get("tpl_page", 1))
with session_scope(context.engine) as session:
    category = category_col.selectbox("Category", ["", *template_categories(session=session)],
                                      format_func=lambda c: c or "any", key="tpl_category")
    rows, total = list_templates(session=session, actor=user, search=search, category=category,
                                 limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)

if not rows:
    st.info("No template matches." if search or category else "No templates are registered yet.")
    st.stop()

st.dataframe(pd.DataFrame([{
    "template": r.entry.display_name, "name": r.entry.name, "category": r.entry.category,
    "summary": r.entry.summary, "stack": ", ".join(r.entry.tech_stack), "version": r.entry.version,
    "forks": r.forks, "teams": r.teams} for r in rows]), hide_index=True, width="stretch", key="tpl_table",
    column_config={"summary": st.column_config.TextColumn(width="large"),
                   "forks": st.column_config.NumberColumn(help="Projects generated from it"),
                   "teams": st.column_config.NumberColumn(help="Distinct teams that forked it")})
pages = max(1, -(-total // PAGE_SIZE))
if pages > 1:
    st.number_input(f"Page (of {pages}; {total} templates)", min_value=1, max_value=pages, key="tpl_page")

labels = {r.entry.name: f"{r.entry.display_name} ({r.entry.name})" for r in rows}
if chosen := open_picker(labels, label="Open a template", placeholder="Pick a template from this page",
                         key="tpl_open", button="Open template", icon=":material/open_in_new:"):
    links.template(chosen).open()
