"""Admin: users, roles and departments, the audit log, and budget overrides."""

import streamlit as st

from portal import deps, installed
from portal.core.audit import AuditFilter, audit_facets, browse_audit_log
from portal.core.auth import Role
from portal.core.features import audit_event_types
from portal.core.db import session_scope
from portal.core.users import departments, list_users, update_user
from portal.ui import plain, run_action
from metering.overrides import (
    clear_budget_override,
    list_budget_overrides,
    set_budget_override,
    team_budget_key,
    user_budget_key,
)
from metering.models import BudgetScope

BUDGETS_SEEN = "budget_seen_revisions"

context = deps.portal_context()
admin = deps.require_user(context)
page_size = context.settings.admin_page_size

st.title("Admin")
deps.require_page(admin, __file__)


def fetch_page(key: str, fetch):
    """Fetch the page the picker under the table points at (page 1 when filters shrank the result)."""
    page = int(st.session_state.get(key, 1))
    result = fetch(limit=page_size, offset=(page - 1) * page_size)
    pages = max(1, -(-result.total // page_size))
    if page > pages:
        st.session_state[key] = 1
        result = fetch(limit=page_size, offset=0)
    return result, pages


def page_picker(key: str, pages: int) -> None:
    """The page number input under a table; changing it reruns the page with the new offset."""
    if pages > 1:
        st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, key=key)


def users_section() -> None:
    """Find users, and change one's role, department or team."""
    with session_scope(context.engine) as session:
        department_names = departments(session=session)
    search_col, role_col, dept_col = st.columns([2, 1, 1])
    search = search_col.text_input("Search name or e-mail", key="user_search")
    role_filter = role_col.selectbox("Role", [None, *Role], format_func=lambda r: r or "any", key="user_role")
    dept_filter = dept_col.selectbox("Department", ["", *department_names],
                                     format_func=lambda d: d or "any", key="user_department")
    with session_scope(context.engine) as session:
        result, user_pages = fetch_page("user_page", lambda limit, offset: list_users(
            session=session, actor=admin, search=search, role=role_filter, department=dept_filter,
            limit=limit, offset=offset))
    st.caption(f"{result.total} user(s)")
    st.dataframe(
        [{"e-mail": u.email, "name": u.name, "role": u.role, "department": u.department, "team": u.team,
          "last sign-in (UTC)": f"{u.last_sign_in_at:%Y-%m-%d %H:%M}" if u.last_sign_in_at else "never"}
         for u in result.users],
        hide_index=True, width="stretch",
    )
    page_picker("user_page", user_pages)

    st.subheader("Change a user")
    if not result.users:
        st.info("No user matches the filters.")
        return
    by_id = {u.id: u for u in result.users}
    chosen_id = st.selectbox("User", list(by_id), index=None, format_func=lambda i: by_id[i].email,
                             placeholder="Pick a user from this page to change", key="edit_user")
    if chosen_id is None:
        return
    chosen = by_id[chosen_id]
    with st.form("edit_user_form"):
        new_role = st.selectbox("Role", list(Role), index=list(Role).index(Role(chosen.role)),
                                key=f"edit_role_{chosen_id}")
        new_department = st.text_input("Department", value=chosen.department, key=f"edit_dept_{chosen_id}")
        new_team = st.text_input("Team", value=chosen.team, key=f"edit_team_{chosen_id}")
        if st.form_submit_button("Save changes", type="primary"):
            # The rerun comes after the commit, so the table above shows the change too.
            run_action(lambda session: update_user(session=session, actor=admin, user_id=chosen_id, role=new_role,
                                                   department=new_department, team=new_team),
                       engine=context.engine,
                       success=lambda updated: (f"Saved {updated.email}: {updated.role}, "
                                                f"{updated.department or '—'}, {updated.team or '—'}."))


def audit_section() -> None:
    """Browse the audit log with filters, newest first."""
    with session_scope(context.engine) as session:
        actions, entity_types = audit_facets(session=session, actor=admin,
                                             declared=audit_event_types(installed.INSTALLED_FEATURES))
    a_col, e_col, id_col = st.columns(3)
    actor_filter = a_col.text_input("Actor e-mail contains", key="audit_actor")
    entity_filter = e_col.selectbox("Entity", ["", *entity_types], format_func=lambda e: e or "any",
                                    key="audit_entity")
    entity_id_filter = id_col.text_input("Entity id", key="audit_entity_id")
    act_col, since_col, until_col = st.columns(3)
    action_filter = act_col.selectbox("Action", ["", *actions], format_func=lambda a: a or "any",
                                      key="audit_action")
    since = since_col.date_input("From", value=None, key="audit_since")
    until = until_col.date_input("Until", value=None, key="audit_until")
    filters = AuditFilter(actor=actor_filter.strip(), entity_type=entity_filter, entity_id=entity_id_filter.strip(),
                          action=action_filter, since=since, until=until)
    with session_scope(context.engine) as session:
        audit_page, audit_pages = fetch_page("audit_page", lambda limit, offset: browse_audit_log(
            session=session, actor=admin, filters=filters, limit=limit, offset=offset))
    count = f"{audit_page.total:,}+" if audit_page.total_is_capped else f"{audit_page.total:,}"
    st.caption(f"{count} event(s), newest first" + (" — filter to narrow them down" if audit_page.total_is_capped
                                                     else ""))
    st.dataframe(
        [{"when (UTC)": f"{e.at:%Y-%m-%d %H:%M:%S}", "actor": e.actor_email, "action": e.action, "entity": e.entity_type,
          "id": e.entity_id, "summary": e.summary} for e in audit_page.events],
        hide_index=True, width="stretch",
    )
    page_picker("audit_page", audit_pages)


def budgets_section() -> None:
    """List the admins' exceptions to the configured budgets, set one for a user or a team, or clear one."""
    settings = context.settings
    st.caption(f"Configured: {settings.sandbox_daily_token_quota:,} tokens a day per user, "
               f"\\${settings.sandbox_team_monthly_budget_usd:,.2f} a month per team (0 = no limit). "
               "An override replaces that for one user's daily quota or one team's monthly cap.")
    with session_scope(context.engine) as session:
        overrides = list_budget_overrides(session=session, actor=admin)
    # The revisions as the admin first saw them: a change someone saves meanwhile is refused, not overwritten.
    seen = st.session_state.setdefault(BUDGETS_SEEN, {(r.override.scope, r.override.key): r.override.revision
                                                      for r in overrides})
    st.dataframe([{"for": f"{r.override.scope} {r.who}", "daily tokens": r.override.daily_tokens,
                   "monthly USD": r.override.monthly_usd, "updated (UTC)": f"{r.override.updated_at:%Y-%m-%d %H:%M}"}
                  for r in overrides], hide_index=True, width="stretch")
    if overrides:
        by_label = {f"{r.override.scope} {r.who}": r.override for r in overrides}
        clear_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        label = clear_col.selectbox("Override to clear", list(by_label), key="budget_clear_choice")
        if button_col.button("Clear", key="budget_clear"):
            chosen = by_label[label]
            budget_change(lambda session: clear_budget_override(
                session=session, actor=admin, scope=chosen.scope, key=chosen.key,
                base_revision=seen.get((chosen.scope, chosen.key), 0)), f"Cleared the override for {label}.")
    st.subheader("Set an override")
    scope = st.radio("For", list(BudgetScope), format_func=lambda s: f"a {s.value}", horizontal=True,
                     key="budget_scope")
    with st.form("budget_form"):
        if scope == BudgetScope.USER:
            who = st.text_input("User e-mail", key="budget_user_email")
            amount = st.number_input("Daily tokens (0 = no quota)", min_value=0, step=1000, key="budget_daily")
        else:
            who = st.text_input("Team", key="budget_team")
            amount = st.number_input("Monthly USD (0 = no cap)", min_value=0.0, step=50.0, key="budget_monthly")
        if st.form_submit_button("Save override", type="primary"):
            budget_change(lambda session: save_override(session, scope, who, amount, seen),
                          f"Saved the override for {scope.value} {plain(who.strip())}.")


def save_override(session, scope: BudgetScope, who: str, amount: float, seen: dict) -> None:
    """Set the override for the user's e-mail or the team typed, on top of the revision the admin saw."""
    key = user_budget_key(session=session, email=who) if scope == BudgetScope.USER else team_budget_key(who)
    amounts = {"daily_tokens": int(amount)} if scope == BudgetScope.USER else {"monthly_usd": float(amount)}
    set_budget_override(session=session, actor=admin, scope=scope, key=key, base_revision=seen.get((scope, key), 0),
                        **amounts)


def budget_change(action, done: str) -> None:
    """Apply a budget change; on success say so after a rerun, else show why and keep the form's values."""
    # Saved, or told someone else saved first: either way the next change starts from what the table shows.
    st.session_state.pop(BUDGETS_SEEN, None)
    run_action(action, engine=context.engine, success=done)


# on_change="rerun" makes the tabs lazy: only the open tab's queries run.
users_tab, audit_tab, budgets_tab = st.tabs(["Users", "Audit log", "Budgets"], key="admin_tab", on_change="rerun")
if users_tab.open:
    with users_tab:
        users_section()
if audit_tab.open:
    with audit_tab:
        audit_section()
if budgets_tab.open:
    with budgets_tab:
        budgets_section()
