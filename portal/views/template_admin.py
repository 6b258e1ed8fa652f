"""Manage templates: register templates from git repositories, and decide which are trusted."""

import pandas as pd
import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.errors import StaleEdit
from portal.ui import plain, run_action
from portal.views._edit_base import forget, form_base, take_latest, widget
from templates.lineage import list_templates
from templates.registry import (
    approve_trust,
    edit_template_details,
    get_template,
    register_template,
    request_trust,
    last_trusted_features,
    review_trust_request,
    revoke_trust,
    trust_requester,
)

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
    refused = run_action(lambda session: edit_template_details(session=session, actor=user, name=entry.name,
                                                               base_revision=base["revision"], details=values),
                         engine=context.engine, success=f"Saved the details of {plain(entry.name)}.",
                         then=lambda _: forget(key))
    if isinstance(refused, StaleEdit):
        st.button("Take the latest details, keep my changes", key=f"{key}_take_latest", on_click=rebase,
                  args=(key, entry.name))


def trust_step(label: str, step, entry, done: str, **kwargs) -> None:
    """A trust button: run the service step for the chosen template, then say `done`."""
    if not st.button(label, key=f"tpl_trust_{step.__name__}"):
        return
    st.session_state.pop(f"tpl_trust_seen_{entry.name}", None)  # done or refused: next time from what is shown
    run_action(lambda session: step(session=session, actor=user, name=entry.name, **kwargs), engine=context.engine,
               success=done)


def trust_panel(entry) -> None:
    """The chosen template's unsafe parts and its trust: request, approve (a different admin) or remove."""
    name = plain(entry.name)
    # Trust covers the revision the admin looked at: the one shown when they first picked the template.
    seen = st.session_state.setdefault(f"tpl_trust_seen_{entry.name}", entry.revision)
    with session_scope(context.engine) as session:
        before = last_trusted_features(session=session, name=entry.name)
    new = "" if before is None else " (new since the last trusted version)"
    st.markdown(f"**{name}** version {plain(entry.version)} from `{entry.source_url}` runs on the server:\n"
                + "".join(f"\n- {plain(feature)}{new if feature not in (before or []) else ''}"
                          for feature in entry.unsafe_features))
    if entry.trusted:
        st.success("Trusted: two admins approved this version.", icon=":material/verified_user:")
        trust_step("Remove trust", revoke_trust, entry, f"{name} is no longer trusted.")
        return
    if entry.trust_requested_by_id is None:
        st.info("Not trusted. Trust takes two admins: you request it, a different admin approves.")
        trust_step("Request trust", request_trust, entry,
                   f"Requested trust for {name}: waiting for a second admin.", base_revision=seen, store=store)
        return
    if entry.trust_requested_by_id == user.id:
        st.info("You requested trust for this version: waiting for a second admin to approve it.",
                icon=":material/hourglass_top:")
        trust_step("Withdraw the request", revoke_trust, entry, f"Withdrew the trust request for {name}.")
        return
    with session_scope(context.engine) as session:
        requester = trust_requester(session=session, entry=entry)
    st.warning(f"{plain(requester)} asks to trust revision {entry.trust_requested_revision} of {name}, which lets "
               "the parts above run when someone forks it. Approve only if you checked them.",
               icon=":material/gpp_maybe:")
    trust_diff(entry)
    approve_col, reject_col = st.columns(2)
    with approve_col:
        trust_step("Approve", approve_trust, entry, f"{name} is now trusted.", base_revision=seen, store=store)
    with reject_col:
        trust_step("Reject", revoke_trust, entry, f"Rejected the trust request for {name}.")


def trust_diff(entry) -> None:
    """What the approver would trust: each unsafe part's diff to the last trusted version, as plain text."""
    with session_scope(context.engine) as session:
        review = review_trust_request(session=session, actor=user, name=entry.name)
    if review is None:
        st.warning("This request kept no copy of the template's unsafe parts (it was made before the portal kept "
                   "them): reject it and request trust again to see what would be trusted.")
        return
    last = review.last_trusted
    against = (f"the last trusted version, {plain(last.version)}" if last else "nothing: never trusted before")
    st.markdown(f"**What you would trust** (sha256 `{review.requested.content_hash[:12]}`): `copier.yml` and "
                f"every file its tasks, migrations and extensions run, compared with {against}.")
    for part in review.parts:
        # Template content is hostile: names and text go through st.text and st.code, never Markdown or HTML.
        st.text(f"{part.path}: {part.status}")
        if part.status != "unchanged":
            st.code(part.diff, language="diff" if last else "text", line_numbers=last is None)


def registered_summary(registered) -> str:
    summary = f"Registered {registered.name} version {registered.version}."
    if registered.unsafe_features:
        summary += f" It uses {', '.join(registered.unsafe_features)}: trust it below before anyone can fork it."
    return summary


def rebase(key: str, name: str) -> None:
    with session_scope(context.engine) as session:
        latest = get_template(session=session, name=name)
        take_latest(key, latest.revision, details_values(latest))


context = deps.portal_context()
user = deps.require_user(context)

st.title("Manage templates")
deps.require_page(user, __file__)
store = deps.template_store(context)

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
    run_action(lambda session: register_template(session=session, actor=user, store=store, url=url, name=name),
               engine=context.engine, success=registered_summary)

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
           "forked. Only trust templates whose repository the CoE controls. Trust takes two admins (one requests, "
           "another approves) and covers one version from one repository: any new version loses it.")
st.dataframe(pd.DataFrame([{"name": r.entry.name, "source": r.entry.source_url, "version": r.entry.version,
                            "unsafe features": ", ".join(r.entry.unsafe_features), "trusted": r.entry.trusted,
                            "trust requested": r.entry.trust_requested_by_id is not None,
                            "forks": r.forks} for r in rows]), hide_index=True, width="stretch",
             key="tpl_admin_table")
unsafe = [r.entry for r in rows if r.entry.unsafe_features]
if not unsafe:
    st.info("No registered template uses unsafe features.")
    st.stop()
by_name = {e.name: e for e in unsafe}
chosen = st.selectbox("Template", list(by_name), key="tpl_trust_pick")
trust_panel(by_name[chosen])
