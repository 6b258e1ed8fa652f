"""Home: who you are, what your role allows, the gateway's status, and where to go."""

import streamlit as st

from portal import deps
from portal.core.auth import MINIMUM_ROLE, PERMISSION_DESCRIPTIONS, Permission, Role, has_permission
from portal.ui import plain

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
settings = context.settings

st.title(f"Welcome, {plain(user.display_name)}")

who, gateway_column = st.columns(2, gap="large")
with who:
    st.subheader("You")
    included = [r.value for r in Role if Role(user.role).includes(r) and r.value != user.role]
    role_text = f"`{user.role}`" + (f" (includes {', '.join(included)})" if included else "")
    st.markdown(
        f"**E-mail:** {plain(user.email)}  \n"
        f"**Department:** {plain(user.department or '—')}  \n"
        f"**Team:** {plain(user.team or '—')}  \n"
        f"**Role:** {role_text}"
    )
    st.caption("What your role lets you do")
    for permission in Permission:
        allowed = has_permission(user, permission)
        mark = ":material/check_circle:" if allowed else ":material/block:"
        suffix = "" if allowed else f" — needs {MINIMUM_ROLE[permission]}"
        st.markdown(f"{mark} {PERMISSION_DESCRIPTIONS[permission]}{suffix}")

with gateway_column:
    st.subheader("AI gateway")
    status = deps.gateway_status(context.gateway.base_url, settings.gateway_api_key.get_secret_value())
    source = "local model server (embedded default)" if settings.uses_local_model else "central gateway"
    st.caption(f"{source}: {status.url}")
    if status.reachable:
        st.success(f"Reachable — serves {len(status.models)} model(s).", icon=":material/cloud_done:")
        st.dataframe([{"model": m.id, "owned by": m.owned_by or ""} for m in status.models],
                     hide_index=True, width="stretch")
    else:
        st.error(f"Not reachable: {status.error}", icon=":material/cloud_off:")
        st.caption("The rest of the portal works; features that call models will say so until it is back.")

st.subheader("Portal areas")
st.page_link("views/home.py", label="Home — this page", icon=":material/home:")
st.page_link("views/catalog.py", label="Model catalog — approved models, their cards, costs and health",
             icon=":material/menu_book:")
if has_permission(user, Permission.USE_SANDBOX):
    st.page_link("views/sandbox.py", label="Sandbox — chat with approved models, with guardrails and costs shown",
                 icon=":material/chat:")
    st.page_link("views/sandbox_compare.py", label="Compare models — one message, answers side by side, vote on "
                 "the best", icon=":material/compare_arrows:")
    st.page_link("views/usage.py", label="My usage — your tokens and cost by day and model"
                 + (", and every team's" if has_permission(user, Permission.VIEW_TEAM_USAGE) else ""),
                 icon=":material/query_stats:")
st.page_link("views/prompts.py", label="Prompt library — reviewed, tested prompts to search, use and fork",
             icon=":material/library_books:")
st.page_link("views/templates.py", label="Solution templates — starter projects to fork through a form",
             icon=":material/view_quilt:")
st.page_link("views/training.py", label="Training — courses, quizzes, sandbox labs and certificates",
             icon=":material/school:")
if has_permission(user, Permission.MANAGE_TRAINING):
    st.page_link("views/training_dashboard.py", label="Training dashboard — completion by department, team and "
                 "course; assignments", icon=":material/monitoring:")
if has_permission(user, Permission.CONTRIBUTE):
    st.page_link("views/model_request.py", label="Request a model — propose one for the catalog",
                 icon=":material/add_circle:")
if has_permission(user, Permission.REVIEW):
    st.page_link("views/catalog_admin.py", label="Catalog operations — review queue, gateway sync and probes",
                 icon=":material/fact_check:")
if has_permission(user, Permission.MANAGE_USERS):
    st.page_link("views/admin.py", label="Admin — users, roles and the audit log",
                 icon=":material/admin_panel_settings:")
