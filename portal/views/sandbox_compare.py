"""Compare models: one message, two or three answers streamed side by side, then a vote on the best."""

from __future__ import annotations

import streamlit as st

from catalog.models import CatalogModel, DataClassification
from portal import deps
from portal.core.db import session_scope
from portal.ui import as_typed, plain, untrusted_markdown
from portal.views._sandbox_messages import show_notice
from sandbox.chat import offered_models
from sandbox.compare import (
    ALL_BAD,
    SIDES,
    TIE,
    CompareRequest,
    CompareSide,
    ComparisonRecord,
    ComparisonRun,
    SideResult,
    prepare_comparison,
    record_comparison,
    vote_on_comparison,
)

C = DataClassification
CLASSIFICATION, MODE, MODELS, ONE_MODEL = "compare_classification", "compare_mode", "compare_models", "compare_model"
SYSTEM_PROMPT, PROMPT_A, PROMPT_B = "compare_system_prompt", "compare_prompt_a", "compare_prompt_b"
DRAFT, RESULT, NOTICE, VOTED = "compare_draft", "compare_result", "compare_notice", "compare_voted"
MODELS_FOR = "compare_models_offered"  # the offer the selection was made from
MODELS_MODE, PROMPTS_MODE = "Two or three models", "One model, two system prompts"
VOTE_LABELS = {"a": "A is better", "b": "B is better", "c": "C is better", TIE: "Tie", ALL_BAD: "All bad"}

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
policy = deps.sandbox_policy(context.settings)
PROMPT_HELP = (f"Up to {policy.max_system_prompt_chars:,} characters. It goes through the same guardrails as the "
               "message.")
state = st.session_state
state.setdefault(CLASSIFICATION, C.INTERNAL)
state.setdefault(MODE, MODELS_MODE)


def as_text(value: str) -> str:
    """An answer mid-stream, for st.markdown: as typed, no formatting, links, images, icons or HTML."""
    return as_typed(value)


def offered(classification: DataClassification) -> list[CatalogModel]:
    with session_scope(context.engine) as session:
        return offered_models(session=session, user=user, classification=classification)


def pick_sides(models: list[CatalogModel]) -> list[CompareSide]:
    """The sides the settings choose: several models sharing a system prompt, or one model with two prompts."""
    names = [m.name for m in models]
    labels = {m.name: f"{m.display_name} ({m.name})" for m in models}
    mode = st.radio("Compare", [MODELS_MODE, PROMPTS_MODE], key=MODE, horizontal=True)
    if mode == PROMPTS_MODE:
        if state.get(ONE_MODEL) not in names:
            state[ONE_MODEL] = names[0]
        name = st.selectbox("Model", names, format_func=labels.__getitem__, key=ONE_MODEL)
        left, right = st.columns(2)
        first = left.text_area("System prompt A", key=PROMPT_A, height=90, help=PROMPT_HELP)
        second = right.text_area("System prompt B", key=PROMPT_B, height=90, help=PROMPT_HELP)
        return [CompareSide(name, first), CompareSide(name, second)]
    kept = [n for n in state.get(MODELS, []) if n in names]
    if state.get(MODELS_FOR) != names:  # other models on offer: keep what still is, and fill up to two
        kept += [n for n in names if n not in kept][:max(0, 2 - len(kept))]
        state[MODELS_FOR] = names
    state[MODELS] = kept
    chosen = st.multiselect("Models (two or three)", names, format_func=labels.__getitem__, key=MODELS,
                            max_selections=len(SIDES), help="The models approved for this data that the gateway "
                            "serves to you.")
    prompt = st.text_area("System prompt (the same for every model)", key=SYSTEM_PROMPT, height=90,
                          help=PROMPT_HELP)
    return [CompareSide(name, prompt) for name in chosen]


def settings_panel() -> tuple[DataClassification, list[CompareSide]]:
    classification = st.selectbox("Data you are about to paste", list(C), format_func=lambda c: c.label,
                                  key=CLASSIFICATION, help="Only models cleared for this level are offered.")
    models = offered(classification)
    if not models:
        st.warning(f"No model approved for {classification.label} data is served by the gateway right now, so "
                   "nothing can be compared. If your data allows it, pick a lower classification.",
                   icon=":material/block:")
        return classification, []
    return classification, pick_sides(models)


def side_label(index: int, sides: list[CompareSide] | tuple[SideResult, ...]) -> str:
    side = sides[index]
    label = f"**{SIDES[index].upper()}** — {plain(side.model_name)}"
    return label + (f" · system prompt {SIDES[index].upper()}" if len({s.model_name for s in sides}) == 1 else "")


def facts(side: SideResult) -> str:
    """Tokens, cost and speed of one answer, as one Markdown-safe line."""
    parts = [f"{side.tokens_in:,} tokens in / {side.tokens_out:,} out", f"\\${side.cost_usd:.6f}"]
    if side.time_to_first_token_s is not None:
        parts.append(f"first token after {side.time_to_first_token_s:.2f} s")
    if side.tokens_per_second:
        parts.append(f"{side.tokens_per_second:.1f} tokens/s")
    return " · ".join(parts)


def run_comparison(message: str, classification: DataClassification, sides: list[CompareSide]) -> None:
    """Check once, stream every side at once into its own column, record usage, then show the result."""
    request = CompareRequest(message=message, classification=classification, sides=tuple(sides))
    prepared = None
    with deps.showing_errors(), session_scope(context.engine) as session:
        prepared = prepare_comparison(session=session, user=user, policy=policy, request=request)
    if prepared is None:
        return
    if prepared.blocked:
        st.error(plain(prepared.blocked_message), icon=":material/block:")
        return
    run = ComparisonRun(prepared, context.metered)
    placeholders = []
    for index, column in enumerate(st.columns(len(sides), gap="medium")):
        column.markdown(side_label(index, sides))
        placeholders.append(column.empty())
    run.start()
    for texts in run.updates():  # only this thread touches the page; the streams run in their own threads
        for placeholder, text in zip(placeholders, texts, strict=True):
            placeholder.markdown(as_text(text))
    record = record_comparison(run=run)
    state[NOTICE] = prepared.notice()
    state[RESULT], state[VOTED] = record, None
    st.rerun()


def show_result(record: ComparisonRecord) -> None:
    show_notice(state.get(NOTICE))
    for index, (column, side) in enumerate(zip(st.columns(len(record.sides), gap="medium"), record.sides)):
        with column:
            st.markdown(side_label(index, record.sides))
            if side.text:
                untrusted_markdown(side.text)  # the whole answer: Markdown that cannot load, run or link
            if side.error:
                st.error(plain(side.error), icon=":material/cloud_off:")
            st.caption(facts(side))
    vote_panel(record)


def vote_panel(record: ComparisonRecord) -> None:
    st.subheader("Which answer is better?")
    choices = [*SIDES[:len(record.sides)], TIE, ALL_BAD]
    for column, choice in zip(st.columns(len(choices)), choices):
        if column.button(VOTE_LABELS[choice], key=f"compare_vote_{choice}", width="stretch"):
            cast_vote(record, choice)
    if voted := state.get(VOTED):
        st.success(f"Thanks — your vote ({VOTE_LABELS[voted]}) is recorded.", icon=":material/how_to_vote:")


def cast_vote(record: ComparisonRecord, choice: str) -> None:
    with deps.showing_errors(), session_scope(context.engine) as session:
        vote_on_comparison(session=session, user=user, comparison=record, choice=choice)
        state[VOTED] = choice


st.title("Compare models")
st.caption("Send one message to two or three models — or to one model with two system prompts — and see the "
           "answers side by side as they arrive. Guardrails, budgets and costs work as in the sandbox; comparisons "
           "are not saved as conversations. Your vote keeps only a fingerprint of the message, never its text.")
settings_col, main_col = st.columns([1, 3], gap="large")
with settings_col:
    chosen_classification, chosen_sides = settings_panel()
with main_col:
    with st.form("compare_form", border=False):
        st.text_area("Your message", key=DRAFT, height=120, placeholder="Write or paste your message here.",
                     help=f"Up to {policy.max_message_chars:,} characters.")
        send = st.form_submit_button("Compare", type="primary", icon=":material/compare_arrows:",
                                     disabled=len(chosen_sides) < 2)
    if send:
        state.pop(RESULT, None)
        run_comparison(state.get(DRAFT, ""), chosen_classification, chosen_sides)
    elif (result := state.get(RESULT)) is not None:
        show_result(result)
    else:
        st.caption("Pick the data classification and two or three models, write your message, then press Compare.")
