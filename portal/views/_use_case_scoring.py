"""The use-case page's Priority tab: the latest score and priority with their history, and the reviewers' forms.

Each form names the version of the scores (or decisions) shown when the page first showed them, so a reviewer who
scores on top of someone else's newer score is told, not silently written over."""

import streamlit as st

from portal.core.db import Engine, session_scope
from portal.core.users import User
from portal.ui import plain, run_action
from portfolio.scoring import (
    MAX_PRIORITY,
    MAX_SCORE_REASON,
    Prioritisation,
    decide_priority,
    prioritisation,
    score_use_case,
)
from portfolio.scoring_models import MAX_SCORE, MIN_SCORE

SCORES = list(range(MIN_SCORE, MAX_SCORE + 1))


def priority_tab(*, engine: Engine, user: User, use_case_id: int) -> None:
    """The tab's whole content for one use case."""
    with session_scope(engine) as session:
        shown = prioritisation(session=session, actor=user, use_case_id=use_case_id)
    latest = shown.scores[0] if shown.scores else None
    if latest is None:
        st.markdown("**Not scored yet.** Reviewers score value and feasibility from 1 to 5.")
    else:
        st.markdown(f"**Value {latest.value}/5:** {plain(latest.value_reason)}  \n"
                    f"**Feasibility {latest.feasibility}/5:** {plain(latest.feasibility_reason)}")
        st.caption(f"Scored by {plain(latest.by)} on {latest.at:%Y-%m-%d}; the latest score counts.")
    rank = "not on the CoE's ordered list" if shown.priority is None else f"priority {shown.priority} (1 is first)"
    st.markdown(f"**Place in the CoE's order:** {rank}"
                + (f" — {plain(shown.decisions[0].note)}" if shown.decisions else ""))
    if shown.refusal:
        st.caption(shown.refusal)
    else:
        score_form(engine, user, use_case_id, shown)
        priority_form(engine, user, use_case_id, shown)
    history(shown)


def score_form(engine: Engine, user: User, use_case_id: int, shown: Prioritisation) -> None:
    """A reviewer's score, on top of the latest score shown when the form first appeared."""
    seen_key = f"uc_score_seen_{use_case_id}"
    seen = st.session_state.setdefault(seen_key, shown.score_version)
    latest = shown.scores[0] if shown.scores else None
    reasons = (f"uc_score_value_reason_{use_case_id}", f"uc_score_feasibility_reason_{use_case_id}")
    emptied(reasons)
    with st.form(f"uc_score_form_{use_case_id}"):
        st.markdown("**Score it**")
        left, right = st.columns(2)
        value = left.select_slider("Value (5: worth most)", SCORES, value=latest.value if latest else 3,
                                   key=f"uc_score_value_{use_case_id}")
        value_reason = left.text_input("Why this value", max_chars=MAX_SCORE_REASON,
                                       key=f"uc_score_value_reason_{use_case_id}",
                                       placeholder="1,200 clerk hours a year")
        feasibility = right.select_slider("Feasibility (5: easiest)", SCORES,
                                          value=latest.feasibility if latest else 3,
                                          key=f"uc_score_feasibility_{use_case_id}")
        feasibility_reason = right.text_input("Why this feasibility", max_chars=MAX_SCORE_REASON,
                                              key=f"uc_score_feasibility_reason_{use_case_id}",
                                              placeholder="The data is already in the ERP")
        submitted = st.form_submit_button("Save the score", type="primary")
    if submitted:
        st.session_state.pop(seen_key, None)  # saved or told: the next score goes on top of the one shown then
        run_action(lambda s: score_use_case(session=s, actor=user, use_case_id=use_case_id, value=value,
                                            feasibility=feasibility, value_reason=value_reason,
                                            feasibility_reason=feasibility_reason, seen_version=seen),
                   engine=engine, success=f"Scored: value {value}, feasibility {feasibility}.",
                   then=lambda _: to_empty(reasons))


def priority_form(engine: Engine, user: User, use_case_id: int, shown: Prioritisation) -> None:
    """A reviewer's decision on the use case's rank, with the note that explains it."""
    seen_key = f"uc_rank_seen_{use_case_id}"
    seen = st.session_state.setdefault(seen_key, shown.priority_version)
    emptied([f"uc_rank_note_{use_case_id}"])
    with st.form(f"uc_rank_form_{use_case_id}"):
        st.markdown("**Set its priority**")
        rank_col, off_col = st.columns([1, 2], vertical_alignment="bottom")
        rank = rank_col.number_input("Rank (1 is first)", min_value=1, max_value=MAX_PRIORITY, step=1,
                                     value=shown.priority or 1, key=f"uc_rank_{use_case_id}")
        off = off_col.checkbox("Take it off the ordered list", key=f"uc_rank_off_{use_case_id}")
        note = st.text_input("Decision note (why this place)", key=f"uc_rank_note_{use_case_id}",
                             placeholder="Largest proven saving; the pilot is ready")
        submitted = st.form_submit_button("Record the decision")
    if submitted:
        st.session_state.pop(seen_key, None)
        priority = None if off else int(rank)
        run_action(lambda s: decide_priority(session=s, actor=user, use_case_id=use_case_id, priority=priority,
                                             note=note, seen_version=seen),
                   engine=engine, success="Taken off the ordered list." if priority is None
                   else f"Priority set to {priority}.", then=lambda _: to_empty([f"uc_rank_note_{use_case_id}"]))


def to_empty(keys) -> None:
    """After a save: the next run empties these text fields (the numbers stay as chosen)."""
    st.session_state[f"{keys[0]}_reset"] = True


def emptied(keys) -> None:
    """Empty the fields a save asked to, before their widgets exist, so the browser shows them empty too."""
    if st.session_state.pop(f"{keys[0]}_reset", False):
        st.session_state.update({key: "" for key in keys})


def history(shown: Prioritisation) -> None:
    """Every score and decision, newest first: who, when, what and why."""
    if shown.scores:
        st.caption("Scores, newest first")
        st.dataframe([{"at": s.at, "who": s.by, "value": s.value, "why (value)": s.value_reason,
                       "feasibility": s.feasibility, "why (feasibility)": s.feasibility_reason}
                      for s in shown.scores], hide_index=True, width="stretch", key="uc_score_history")
    if shown.decisions:
        st.caption("Priority decisions, newest first")
        st.dataframe([{"at": d.at, "who": d.by, "priority": d.priority, "note": d.note} for d in shown.decisions],
                     hide_index=True, width="stretch", key="uc_priority_history")
