"""Request a model: a contributor proposes a model for the catalog; a reviewer then takes it through review."""

import streamlit as st
from pydantic import ValidationError

from catalog.models import DataClassification
from catalog.service import ModelRequestInput, request_model
from portal import deps
from portal.ui import plain, run_action
from portal.views import _links as links

FIELDS = ("name", "display_name", "provider", "use_case", "justification", "classification", "team")
LABELS = {"name": "Model name", "display_name": "Display name", "provider": "Provider", "use_case": "Use case",
          "justification": "Justification", "classification": "Data classification needed", "team": "Team"}
ERRORS, CREATED, RESET = "request_errors", "request_created", "request_reset"

context = deps.portal_context()
user = deps.require_user(context)

st.title("Request a model")
deps.require_page(user, __file__)
st.caption("Propose a model for the catalog. It starts as *proposed*; a reviewer other than you takes it "
           "through review before anyone may use it.")

if created := st.session_state.pop(CREATED, None):  # the request just made (its message is above the page)
    links.model_card(created).show("Open its card", icon=":material/description:")


def field_errors(data: dict) -> dict[str, str]:
    """The request schema's complaints, one message per field, to show under each input."""
    try:
        ModelRequestInput.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "name"
            errors.setdefault(field, error["msg"])
        return errors
    return {}


errors: dict[str, str] = st.session_state.pop(ERRORS, {})
defaults = {f"request_{field}": "" for field in FIELDS} | {
    "request_team": user.team, "request_classification": DataClassification.INTERNAL}
if st.session_state.pop(RESET, False):
    # Set before the widgets exist, so the browser's copy of the submitted values is replaced too.
    st.session_state.update(defaults)
for key in ("request_team", "request_classification"):
    st.session_state.setdefault(key, defaults[key])


def problem(field: str) -> None:
    if field in errors:
        st.error(f"{LABELS[field]}: {errors[field]}", icon=":material/error:")


with st.form("request_form"):
    left, right = st.columns(2)
    with left:
        name = st.text_input("Model name", key="request_name", placeholder="e.g. mistral-small-3.2-24b-instruct",
                             help="The name the gateway or the vendor uses for it.")
        problem("name")
        display_name = st.text_input("Display name", key="request_display_name", help="Empty: the model name.")
        problem("display_name")
    with right:
        provider = st.text_input("Provider", key="request_provider", placeholder="e.g. Mistral AI")
        problem("provider")
        team = st.text_input("Team", key="request_team", help="The team that needs the model.")
        problem("team")
    use_case = st.text_area("Use case", key="request_use_case",
                            placeholder="What will it do, for whom, with which data? (at least 10 characters)")
    problem("use_case")
    justification = st.text_area("Justification", key="request_justification",
                                 placeholder="Why the approved models do not serve this use case.")
    problem("justification")
    classification = st.selectbox("Data classification needed", list(DataClassification),
                                  format_func=lambda c: c.label, key="request_classification",
                                  help="The most sensitive data the model will see.")
    problem("classification")
    submitted = st.form_submit_button("Submit request", type="primary")

if submitted:
    data = {"name": name, "display_name": display_name, "provider": provider, "use_case": use_case,
            "justification": justification, "classification": classification, "team": team}
    if found := field_errors(data):
        st.session_state[ERRORS] = found
        st.rerun()
    run_action(lambda session: request_model(session=session, actor=user, request=data).name, engine=context.engine,
               success=lambda created: f"Requested {plain(created)}. It is now proposed and waits for review.",
               then=lambda created: st.session_state.update({RESET: True, CREATED: created}))
