"""Model evaluations: a catalog manager records, corrects and removes the benchmark results on a model's card."""

import datetime as dt

import streamlit as st

from catalog.evaluations import (
    add_evaluation,
    edit_evaluation,
    evaluations_of,
    remove_evaluation,
)
from catalog.service import CatalogFilter, browse_catalog, get_model
from portal import deps
from portal.core.db import session_scope
from portal.core.errors import StaleEdit
from portal.ui import plain, run_action
from portal.views import _links as links
from portal.views._edit_base import forget, form_base, take_latest, widget

FIELDS = ("benchmark", "score", "date", "notes", "link")

context = deps.portal_context()
user = deps.require_user(context)
st.title("Model evaluations")
deps.require_page(user, __file__)
st.caption("Benchmark results shown on a model's card. The link is kept as plain text: readers copy it, "
           "nothing on the card links out.")


def entered(key: str) -> dict:
    """The evaluation as the form holds it; the service checks every field."""
    return {field: st.session_state[widget(key, field)] for field in FIELDS}


def forget_seen(model) -> None:
    """After a save: the next save goes on top of the card as it is shown then."""
    st.session_state.pop(f"eval_seen_{model.id}", None)


def add_form(model) -> None:
    """Record a new evaluation on top of the card revision shown when the model was picked."""
    seen_key, key = f"eval_seen_{model.id}", f"eval_add_{model.id}"
    seen = st.session_state.setdefault(seen_key, model.revision)
    if st.session_state.pop(f"{key}_reset", False):  # set before the widgets exist, so the browser shows it too
        st.session_state.update({widget(key, field): "" for field in FIELDS if field != "date"})
    with st.form(f"{key}_form"):
        left, right = st.columns([3, 1])
        left.text_input("Benchmark", key=widget(key, "benchmark"), placeholder="MMLU (5-shot)")
        right.text_input("Score", key=widget(key, "score"), placeholder="69.4")
        st.date_input("Date", value=dt.date.today(), key=widget(key, "date"))
        st.text_area("Notes", key=widget(key, "notes"), height=80)
        st.text_input("Link (kept as plain text)", key=widget(key, "link"))
        submitted = st.form_submit_button("Record evaluation", type="primary")
    if not submitted:
        return
    evaluation = entered(key)
    forget_seen(model)  # saved or told: the next save goes on top of the card as shown
    # On success the next run empties the form for the next evaluation (set before the widgets exist).
    run_action(lambda session: add_evaluation(session=session, actor=user, name=model.name, base_revision=seen,
                                              evaluation=evaluation),
               engine=context.engine, success=f"Recorded {plain(evaluation['benchmark'])} on {plain(model.name)}.",
               then=lambda _: st.session_state.update({f"{key}_reset": True}))


def values_of(evaluation) -> dict:
    return {"benchmark": evaluation.benchmark, "score": f"{evaluation.score:g}", "date": evaluation.date,
            "notes": evaluation.notes, "link": evaluation.link}


def edit_form(model, evaluation) -> None:
    """Correct or remove one evaluation, on top of the card revision the form opened with."""
    key = f"eval_edit_{model.id}_{evaluation.index}"
    base = form_base(key, model.revision, values_of(evaluation))
    with st.form(f"{key}_form"):
        left, right = st.columns([3, 1])
        left.text_input("Benchmark", key=widget(key, "benchmark"))
        right.text_input("Score", key=widget(key, "score"))
        st.date_input("Date", key=widget(key, "date"))
        st.text_area("Notes", key=widget(key, "notes"), height=80)
        st.text_input("Link (kept as plain text)", key=widget(key, "link"))
        save_col, remove_col = st.columns(2)
        save = save_col.form_submit_button("Save evaluation", type="primary")
        remove = remove_col.form_submit_button("Remove evaluation", icon=":material/delete:")
    if not (save or remove):
        return
    def change(session) -> None:
        if remove:
            remove_evaluation(session=session, actor=user, name=model.name, base_revision=base["revision"],
                              index=evaluation.index)
        else:
            edit_evaluation(session=session, actor=user, name=model.name, base_revision=base["revision"],
                            index=evaluation.index, evaluation=entered(key))

    refused = run_action(change, engine=context.engine,
                         success=f"{'Removed' if remove else 'Saved'} evaluation {evaluation.index + 1} of "
                                 f"{plain(model.name)}.",
                         then=lambda _: (forget(key), forget_seen(model)))
    if isinstance(refused, StaleEdit):
        st.button("Take the latest card, keep my changes", key=f"{key}_take_latest", on_click=rebase,
                  args=(key, model.name, evaluation.index))


def rebase(key: str, name: str, index: int) -> None:
    """The form now starts from the latest card; fields the user left alone take its values."""
    with session_scope(context.engine) as session:
        revision = get_model(session=session, name=name).revision
        latest = [e for e in evaluations_of(session=session, name=name) if e.index == index]
    if latest:
        take_latest(key, revision, values_of(latest[0]))


with session_scope(context.engine) as session:
    names = [m.name for m in browse_catalog(session=session, actor=user, filters=CatalogFilter(), limit=1000).models]
asked = links.model_evaluations.read()
name = st.selectbox("Model", names, index=names.index(asked) if asked in names else None, key="eval_model",
                    placeholder="Pick a model")
if name is None:
    st.stop()
with session_scope(context.engine) as session:
    model = get_model(session=session, name=name)
    evaluations = evaluations_of(session=session, name=name)
if evaluations:
    st.dataframe([{"#": e.index + 1, "benchmark": e.benchmark, "score": e.score, "date": e.date, "notes": e.notes,
                   "link": e.link} for e in evaluations], hide_index=True, width="stretch", key="eval_table")
else:
    st.caption("No evaluation is recorded for this model yet.")
st.subheader("Record an evaluation")
add_form(model)
if evaluations:
    st.subheader("Correct or remove one")
    labels = {e.index: f"{e.index + 1}. {e.benchmark}: {e.score:g} ({e.date:%Y-%m-%d})" for e in evaluations}
    picked = st.selectbox("Evaluation", list(labels), format_func=labels.get, index=None, key=f"eval_pick_{model.id}",
                          placeholder="Pick one")
    if picked is not None:
        edit_form(model, evaluations[picked])
