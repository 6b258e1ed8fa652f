"""Prompt library: hybrid search with filters and sorts; open a prompt or start a new one."""

import pyarrow as pa
import streamlit as st

from catalog.models import DataClassification
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.ui import open_picker
from portal.views._prompts import INDEX_ERRORS, open_editor, open_prompt
from prompt_library.models import PromptStatus
from prompt_library.search import SORTS, PromptFilter, facets, search_prompts

PAGE_SIZE = 25

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

st.title("Prompt library")
st.caption("Reviewed, tested prompts for everyday work. Search in your own words; filter by area and model.")
if has_permission(user, Permission.CONTRIBUTE) and st.button("New prompt", key="prompts_new",
                                                             icon=":material/add:"):
    open_editor(None)


def read_filters() -> PromptFilter:
    with session_scope(context.engine) as session:
        options = facets(session=session)
    query_col, sort_col = st.columns([3, 1])
    query = query_col.text_input("Search", key="prompts_query", placeholder="e.g. reply to a refund request")
    sort = sort_col.selectbox("Sort by", SORTS, key="prompts_sort")
    category_col, department_col, model_col, tag_col, status_col, mine_col = st.columns([2, 2, 2, 2, 1, 1.5])
    category = category_col.selectbox("Category", ["", *options["category"]], key="prompts_category",
                                      format_func=lambda c: c or "any")
    department = department_col.selectbox("Department", ["", *options["department"]], key="prompts_department",
                                          format_func=lambda d: d or "any")
    model = model_col.text_input("Recommended model", key="prompts_model", placeholder="gateway name")
    tags = tag_col.text_input("Tags (comma-separated)", key="prompts_tags")
    status = status_col.selectbox("Status", ["", *PromptStatus], key="prompts_status",
                                  format_func=lambda s: PromptStatus(s).label if s else "any")
    mine = mine_col.toggle("Mine only", key="prompts_mine")
    favourites = mine_col.toggle("Favourites", key="prompts_favourites")
    return PromptFilter(query=query, category=category, department=department, model=model.strip(),
                        tags=[t.strip() for t in tags.split(",") if t.strip()], status=status,
                        owner_id=user.id if mine else None, favourites_of=user.id if favourites else None,
                        sort=sort)


def search(filters: PromptFilter):
    """Hybrid search; when the embedding source is down, keyword search alone (and the page says so)."""
    with session_scope(context.engine) as session:
        try:
            # Inside the try: building the index connects to Chroma, which may refuse the portal's token.
            index = deps.prompt_index(context) if filters.query.strip() else None
            return search_prompts(session=session, actor=user, filters=filters, index=index, limit=PAGE_SIZE)
        except INDEX_ERRORS as exc:
            st.caption(f"Semantic search is unavailable ({exc}); showing keyword matches only.")
            return search_prompts(session=session, actor=user, filters=filters, index=None, limit=PAGE_SIZE)


def results_table(prompts) -> None:
    """One table for the page of results: cells show text as text. What decides a pick comes first; the rest is
    to the right (the table scrolls sideways on narrow screens)."""
    # An Arrow table goes to the browser as it is; a plain list of rows would go through pandas first.
    st.dataframe(
        pa.Table.from_pylist([
            {"title": p.title, "description": p.description, "category": p.category,
             "data up to": DataClassification(p.classification).label, "uses": p.usage_count,
             "rating": f"★ {p.rating_average:.1f} ({p.rating_count})" if p.rating_count else "",
             "status": PromptStatus(p.status).label, "department": p.department, "tags": ", ".join(p.tags)}
            for p in prompts]),
        hide_index=True, width="stretch", key="prompts_table",
        column_config={"title": st.column_config.Column(width=260), "description": st.column_config.Column(width=300),
                       "category": st.column_config.Column(width=130), "data up to": st.column_config.Column(width=95),
                       "uses": st.column_config.NumberColumn(width=55), "rating": st.column_config.Column(width=80),
                       "status": st.column_config.Column(width=80)})


def open_a_prompt(prompts) -> None:
    if chosen := open_picker({p.slug: p.title for p in prompts}, label="Open a prompt",
                             placeholder="Pick a prompt from this list", key="prompts_open", button="Open prompt",
                             icon=":material/open_in_new:"):
        open_prompt(chosen)


with deps.showing_errors():
    filters = read_filters()
    page = search(filters)
    shown = len(page.prompts)
    st.caption(f"{page.total} prompt(s) match" + (f"; the first {shown} are shown" if page.total > shown else ""))
    if not page.prompts:
        st.info("No prompt matches. Try other words or fewer filters.")
    else:
        results_table(page.prompts)
        open_a_prompt(page.prompts)
