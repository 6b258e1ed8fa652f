"""Propose a use case: a short form anyone can fill in, saved as a draft to finish later or submitted for a tier."""

import streamlit as st

from catalog.models import DataClassification
from portal import deps
from portal.core.db import session_scope
from portal.core.errors import StaleEdit
from portal.ui import plain, run_action
from portal.views import _links as links
from portfolio.board import link_choices, my_drafts, user_emails
from portfolio.models import Autonomy, PeopleAffected, ValueUnit
from portfolio.service import UseCaseForm, form_of, save_use_case

K = "pf_"  # every widget's key starts with it
EDITING, BASE = "pf_editing", "pf_base_revision"
FIELDS = ("title", "problem", "who_has_it", "department", "team", "owner_email", "value_amount", "value_unit",
          "value_assumption", "classification", "people_affected", "human_review", "autonomy", "models", "prompts",
          "templates", "forks", "courses", "documents")
LINKS = (("models", "Models"), ("prompts", "Prompts"), ("templates", "Templates"),
         ("forks", "Template forks (yours and your team's)"), ("courses", "Courses the team takes"),
         ("documents", "Documents (yours, from the sandbox)"))

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
st.title("Propose a use case")
st.caption("Describe the problem, who owns it and what it is worth. The portal proposes a risk tier from your "
           "answers, which decides who signs each stage move. Save a draft to finish later.")


def load(form: UseCaseForm, *, use_case_id: int | None, revision: int) -> None:
    """Put a use case (or an empty form) into the widgets."""
    for name in FIELDS:
        st.session_state[K + name] = getattr(form, name)
    st.session_state[K + "owner_email"] = form.owner_email or None  # the selectbox's "nobody picked yet"
    st.session_state[EDITING], st.session_state[BASE] = use_case_id, revision


with deps.showing_errors(), session_scope(context.engine) as session:
    drafts = {d.id: d.title for d in my_drafts(session=session, actor=user)}
    choices = link_choices(session=session, actor=user)
    emails = user_emails(session=session, actor=user)
    wanted = links.use_case_form.read()
    if wanted and wanted.isdigit() and st.session_state.get(EDITING) != int(wanted):
        form, revision = form_of(session=session, actor=user, use_case_id=int(wanted))
        load(form, use_case_id=int(wanted), revision=revision)
if K + "title" not in st.session_state:
    load(UseCaseForm(department=user.department, team=user.team, owner_email=user.email),
         use_case_id=None, revision=0)

if drafts:
    pick_col, new_col = st.columns([3, 1], vertical_alignment="bottom")
    picked = pick_col.selectbox("Continue a draft", list(drafts), format_func=drafts.get, index=None,
                                placeholder="Pick one of your drafts", key="pf_pick_draft")
    if picked is not None and picked != st.session_state.get(EDITING):
        links.use_case_form(str(picked)).open()
    if new_col.button("New use case", key="pf_new", icon=":material/add:"):
        st.query_params.clear()
        for name in (*[K + f for f in FIELDS], EDITING, BASE, "pf_pick_draft"):
            st.session_state.pop(name, None)
        st.rerun()

editing = st.session_state.get(EDITING)
if editing:
    st.info(f"Editing use case {editing} (revision {st.session_state[BASE]}).", icon=":material/edit:")

with st.form("pf_form", enter_to_submit=False):
    st.text_input("Title", key=K + "title", max_chars=200, placeholder="Invoice matching for accounts payable")
    st.text_area("The problem", key=K + "problem", placeholder="What takes time, goes wrong or costs money today?")
    st.text_input("Who has the problem", key=K + "who_has_it", placeholder="Accounts payable clerks, ~12 people")
    left, right = st.columns(2)
    left.text_input("Owning department", key=K + "department")
    right.text_input("Team", key=K + "team")
    owners = sorted({*emails, st.session_state[K + "owner_email"]} - {"", None})
    st.selectbox("Named owner", owners, key=K + "owner_email", index=None, placeholder="Pick the accountable person")
    left, right = st.columns([1, 1])
    left.number_input("Expected value per year", min_value=0.0, step=100.0, key=K + "value_amount",
                      value=None, placeholder="e.g. 50000")
    right.radio("In", list(ValueUnit), key=K + "value_unit", horizontal=True,
                format_func=lambda u: "money" if u == ValueUnit.MONEY else "hours saved")
    st.text_area("Assumption behind the value", key=K + "value_assumption",
                 placeholder="3 clerks save 8 hours a week each, 46 weeks a year")
    st.subheader("Risk answers")
    st.selectbox("Most sensitive data it uses", list(DataClassification), key=K + "classification", index=None,
                 format_func=lambda c: c.label, placeholder="Pick a classification")
    st.selectbox("Whom its output reaches", list(PeopleAffected), key=K + "people_affected", index=None,
                 format_func=lambda p: p.label, placeholder="Staff, customers or the public")
    st.selectbox("Does a person review every output before it is used?", [True, False], key=K + "human_review",
                 index=None, format_func=lambda b: "yes" if b else "no", placeholder="Yes or no")
    st.selectbox("Autonomy", list(Autonomy), key=K + "autonomy", index=None, format_func=lambda a: a.label,
                 placeholder="How far does it act on its own?")
    st.subheader("What it will use")
    for kind, label in LINKS:
        offered = choices[kind]  # ref -> label; a saved link the actor is no longer offered keeps its bare ref
        options = [*offered, *(ref for ref in st.session_state[K + kind] if ref not in offered)]
        st.multiselect(label, options, key=K + kind, format_func=lambda ref, offered=offered: offered.get(ref, ref))
    save_col, submit_col = st.columns(2)
    save_draft = save_col.form_submit_button("Save draft", icon=":material/save:")
    submit = submit_col.form_submit_button("Submit", type="primary", icon=":material/send:")




def after_save(saved: tuple[int, int, bool, str]) -> None:
    """Edit on from what was saved: a draft stays in the form (its number in the address), a submission opens."""
    saved_id, revision, draft, _ = saved
    st.session_state[EDITING], st.session_state[BASE] = saved_id, revision
    (links.use_case_form if draft else links.use_case)(str(saved_id)).open()


def said(saved: tuple[int, int, bool, str]) -> str:
    """What the save did, said once on the page it leads to."""
    _, _, draft, title = saved
    if draft:
        return f"Draft saved: {plain(title)}. Finish it here whenever you like."
    return f"{'Submitted' if submit else 'Saved'}: {plain(title)}."


if save_draft or submit:
    form = UseCaseForm(**{name: st.session_state[K + name] for name in FIELDS})
    form.owner_email = form.owner_email or ""

    def store(session) -> tuple[int, int, bool, str]:
        saved = save_use_case(session=session, actor=user, form=form, submit=submit, use_case_id=editing,
                              base_revision=st.session_state[BASE])
        return saved.id, saved.revision, saved.draft, saved.title

    refused = run_action(store, engine=context.engine, success=said, then=after_save)
    if isinstance(refused, StaleEdit):  # the form keeps the user's input; the next save starts from the latest
        st.session_state[BASE] = refused.latest or st.session_state[BASE]
