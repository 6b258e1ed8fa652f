"""The prompt page's longer sections: messages, versions with diffs and labels, test cases and the matrix."""

from __future__ import annotations

import streamlit as st

from catalog.models import ModelStatus
from portal import deps
from portal.core.audit import utcnow
from portal.core.db import session_scope
from portal.core.users import User, emails_of
from portal.ui import plain, run_action, untrusted_markdown
from prompt_library.as_code import cases_as_text, cases_from_text
from prompt_library.models import PRODUCTION, STAGING, Prompt, PromptVersion, ReviewKind
from prompt_library.reading import diff_versions, readable_versions
from prompt_library.review import comments_by_version, move_label, request_review
from prompt_library.runner import (
    RunContext,
    classification_for_tests,
    latest_runs,
    matrix_out_of_date,
    run_tests,
    runnable_models,
    save_test_cases,
    test_cases_of,
)


def messages_section(version: PromptVersion) -> None:
    """The chat messages as plain text, and the variables with their descriptions and examples."""
    st.caption(f"Version {version.number} · {version.template_format} template")
    for message in version.messages:
        st.markdown(f"**{plain(message['role'])}**")
        st.code(message["template"], language=None, wrap_lines=True)
    if version.variables:
        st.dataframe([{"variable": v["name"], "description": v.get("description", ""),
                       "example": v.get("example", "")} for v in version.variables], hide_index=True,
                     width="stretch")


def versions_section(context: deps.PortalContext, user: User, prompt: Prompt, labels: dict[str, int],
                     editable: bool) -> None:
    with session_scope(context.engine) as session:
        versions = readable_versions(session=session, actor=user, prompt=prompt)
        by_version = comments_by_version(session=session, prompt_id=prompt.id)
        people = {v.author_id for v in versions} | {c.author_id for cs in by_version.values() for c in cs}
        authors = emails_of(session=session, user_ids=people)
    pointing = {n: [name for name, number in labels.items() if number == n] for n in (v.number for v in versions)}
    st.dataframe([{"version": v.number, "labels": ", ".join(pointing[v.number]), "change note": v.change_note,
                   "author": authors.get(v.author_id, "?"), "saved": v.created_at.strftime("%Y-%m-%d %H:%M"),
                   "hash": v.content_hash[:10], "comments": len(by_version.get(v.number, []))} for v in versions],
                 hide_index=True, width="stretch")
    diff_section(context, user, prompt, [v.number for v in versions])
    for number, comments in by_version.items():
        if number not in pointing:  # a version this reader may not open yet
            continue
        for comment in comments:
            st.caption(f"v{number} — {plain(authors.get(comment.author_id, '?'))}: {plain(comment.body)}")
    if editable:
        label_form(context, user, prompt, [v.number for v in versions])


def diff_section(context: deps.PortalContext, user: User, prompt: Prompt, numbers: list[int]) -> None:
    if len(numbers) < 2:
        st.caption("Only one version so far; a diff needs two.")
        return
    older_col, newer_col = st.columns(2)
    older = older_col.selectbox("Compare version", numbers, index=1, key="prompt_diff_older")
    newer = newer_col.selectbox("with version", numbers, index=0, key="prompt_diff_newer")
    with session_scope(context.engine) as session:
        diff = diff_versions(session=session, actor=user, prompt_id=prompt.id, older=older, newer=newer)
    st.code(diff or "No difference.", language="diff", wrap_lines=True)


def label_form(context: deps.PortalContext, user: User, prompt: Prompt, numbers: list[int]) -> None:
    """Move staging or a custom label at once; production goes to a reviewer (and its tests must pass)."""
    with st.form("prompt_label_form"):
        label_col, version_col = st.columns(2)
        label = label_col.text_input("Label", value=STAGING, key="prompt_label_name",
                                     help="production needs a reviewer's approval; others move at once.")
        number = version_col.selectbox("Version", numbers, key="prompt_label_version")
        moved = st.form_submit_button("Move label", icon=":material/label:")
    if not moved:
        return
    def move(session) -> str:
        if label.strip().lower() == PRODUCTION:
            request_review(session=session, actor=user, prompt_id=prompt.id, kind=ReviewKind.PRODUCTION,
                           version=number)
            return f"Asked a reviewer to label v{number} production."
        move_label(session=session, actor=user, prompt_id=prompt.id, label=label, version=number)
        return f"{label.strip().lower()} now points at v{number}."

    run_action(move, engine=context.engine, success=lambda said: said)


def tests_section(context: deps.PortalContext, user: User, prompt: Prompt, version: PromptVersion,
                  editable: bool) -> None:
    with session_scope(context.engine) as session:
        cases = test_cases_of(session=session, prompt_id=prompt.id)
        runs = latest_runs(session=session, version_id=version.id)
        changes = matrix_out_of_date(session=session, version_id=version.id, runs=runs)
        models = [m.name for m in runnable_models(session=session, user=user,
                                                   classification=classification_for_tests(prompt, version))]
    st.caption(f"{len(cases)} test case(s); results for v{version.number}.")
    if changes:
        st.warning("This matrix is out of date: " + "; ".join(
            f"{plain(c.model_name)} became {ModelStatus(c.status).label} on {c.at:%Y-%m-%d}" for c in changes)
            + ". Run the tests again.", icon=":material/update:")
    if runs:
        st.dataframe([{"model": r.model_name, "pass rate": f"{r.passed}/{r.cases}",
                       "mean latency (s)": round(r.latency_s, 3), "tokens in": r.tokens_in,
                       "tokens out": r.tokens_out, "cost ($)": round(r.cost_usd, 6),
                       "run": r.finished_at.strftime("%Y-%m-%d %H:%M")} for r in runs.values()],
                     hide_index=True, width="stretch")
        # A case's messages are the same on every model, so what the guardrails did is said once a case.
        guarded = {c["case"]: c["guardrails"] for r in runs.values() for c in r.results if c.get("guardrails")}
        for name, said in guarded.items():
            st.caption(f":material/shield: {plain(name)}: {plain(said)}")
        failures = [(r.model_name, c) for r in runs.values() for c in r.results if not c["passed"]]
        for model, case in failures[:10]:
            details = "; ".join(f"{x['check']}: {x['detail']}" for x in case["checks"] if not x["passed"])
            st.caption(f"✗ {plain(model)} — {plain(case['case'])}: {plain(case['error'] or details)}")
            if case.get("output"):
                with st.expander(f"The answer of {plain(model)} to {plain(case['case'])}"):
                    untrusted_markdown(case["output"])
    elif cases:
        st.info("The tests have not been run on this version yet.")
    if editable:
        cases_editor(context, user, prompt, cases)
        if cases:
            run_form(context, user, prompt, version, models)


def cases_editor(context: deps.PortalContext, user: User, prompt: Prompt, cases) -> None:
    """Test cases as YAML: a list of {name, variables, checks}; the whole list is checked before saving."""
    current = cases_as_text(cases)
    with st.expander("Edit test cases", icon=":material/checklist:"), st.form("prompt_cases_form"):
        text = st.text_area("Test cases (YAML)", value=current, height=220, key="prompt_cases_yaml",
                            help="checks: contains, not_contains, regex, equals, valid_json, json_schema, "
                                 "max_length, judge (value = rubric, pass_score 1–5).")
        saved = st.form_submit_button("Save test cases")
    if not saved:
        return
    def save(session) -> int:
        entries = cases_from_text(text)
        save_test_cases(session=session, actor=user, prompt_id=prompt.id, cases=entries)
        return len(entries)

    run_action(save, engine=context.engine, success=lambda saved: f"Saved {saved} test case(s).")


def run_form(context: deps.PortalContext, user: User, prompt: Prompt, version: PromptVersion,
             models: list[str]) -> None:
    with st.form("prompt_run_form"):
        default = [m for m in version.recommended_models if m in models] or models[:1]
        chosen = st.multiselect("Run on models", models, default=default, key="prompt_run_models")
        judge = st.selectbox("Judge model (for judge checks)", models, key="prompt_run_judge")
        started = st.form_submit_button("Run tests", icon=":material/play_arrow:")
    if not started:
        return
    def run(session) -> str:
        runs = run_tests(session=session, actor=user, prompt_id=prompt.id, version=version.number,
                         model_names=chosen, context=RunContext(gateway=context.metered, judge_model=judge or ""))
        return ", ".join(f"{r.model_name} {r.passed}/{r.cases}" for r in runs)

    with st.spinner("Running the test cases…"):
        run_action(run, engine=context.engine, success=lambda summary: f"Ran at {utcnow():%H:%M:%S}: {summary}")
