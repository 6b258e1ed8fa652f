"""Model card: every field of one model, its health and dependents, and the lifecycle and edit forms."""

import streamlit as st

from catalog.health import probe_stats
from catalog.models import USABLE_STATUSES, Mode
from catalog.service import get_model, is_available_to
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.users import describe_user
from portal.ui import plain, plain_message, untrusted_markdown
from portal.views import _links as links
from portal.views import _model_card_fields as card
from portal.views._model_card_edit import edit_form
from portal.views._model_card_status import transition_form
from portal.views._use_case_links import SHOWN, used_by
from portfolio.links import LinkKind, use_cases_using
from sandbox.compare import vote_summary

CATALOG_PAGE = "views/catalog.py"

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

name = links.model_card.require(title="Model card")

model = None
with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
    model = get_model(session=session, name=name)
    stats = probe_stats(session=session, model_id=model.id)
    requester = describe_user(session=session, user_id=model.requested_by_id)
    approver = describe_user(session=session, user_id=model.approved_by_id)
    dependents = deps.catalog_dependents().dependents(session=session, model_name=model.name)
    votes = vote_summary(session=session, model_name=model.name)
    using = use_cases_using(session, user, LinkKind.MODEL, model.name, limit=SHOWN + 1)
if model is None:
    st.page_link(CATALOG_PAGE, label="Back to the model catalog", icon=":material/arrow_back:")
    st.stop()
links.model_card.keep(model.name)
status = model.status

st.page_link(CATALOG_PAGE, label="Model catalog", icon=":material/arrow_back:")
st.title(plain(model.display_name))
st.markdown(f"{plain(model.name)} · :blue-badge[{status.label}] · risk tier {int(model.risk_tier)} · cleared up to "
            f"**{model.max_classification.label}**")
if (status in USABLE_STATUSES and model.mode == Mode.CHAT and is_available_to(model, user)
        and has_permission(user, Permission.USE_SANDBOX)):
    if st.button("Try in sandbox", key="try_in_sandbox", icon=":material/chat:",
                 help="Open the sandbox with this model chosen."):
        links.sandbox.open(links.SandboxStart(model=model.name))

card.identity_and_capabilities(model)
card.use_and_risk(model)
card.lifecycle(model, requester=requester, approver=approver)
card.health(stats)
card.comparison_votes(votes)
st.subheader("Depends on it")
card.dependents_list(dependents)
used_by(using, what="model")
if model.body_markdown.strip():
    st.subheader("About this model")
    untrusted_markdown(model.body_markdown)  # headings two levels down, under the card's own

if has_permission(user, Permission.REVIEW):
    transition_form(context, user, model, dependents)
if has_permission(user, Permission.MANAGE_CATALOG):
    edit_form(context, user, model)
