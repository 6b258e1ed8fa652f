"""Prompt reviews: publication and production requests waiting for a reviewer who did not write them."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, run_action
from portal.views._prompts import open_prompt, sync_index
from prompt_library.models import PromptStatus, ReviewKind
from prompt_library.review import PendingReview, decide_review, pending_reviews

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
state = st.session_state

st.title("Prompt reviews")
st.caption("Four eyes: you see requests you did not write. Publishing makes a prompt visible to everyone; "
           "production is the version applications use.")

with session_scope(context.engine) as session:
    shown = pending_reviews(session=session, actor=user)

if not shown:
    st.info("Nothing is waiting for your review.")


def decide(review_id: int, prompt_id: int, approve: bool) -> None:
    comment = state.get(f"review_comment_{review_id}", "")
    # Then a published prompt becomes searchable by meaning.
    run_action(lambda session: decide_review(session=session, actor=user, review_id=review_id, approve=approve,
                                             comment=comment),
               engine=context.engine, success="Approved." if approve else "Sent back with your comment.",
               then=lambda _: sync_index(context, [prompt_id]))


def changes(item: PendingReview) -> None:
    """The card readers would see next to the messages: approval changes both at once."""
    card_col, messages_col = st.columns([2, 3])
    if item.card_changes:
        card_col.caption("Card: what readers see now → after approval")
        card_col.dataframe([{"field": c.field, "now": c.before or "—", "after approval": c.after or "—"}
                            for c in item.card_changes], hide_index=True, width="stretch")
    else:
        card_col.caption("Card: unchanged.")
    messages_col.caption(f"Messages: v{item.baseline} → v{item.version.number}" if item.diff
                         else f"Messages of v{item.version.number}")
    messages_col.code(item.diff or item.text, language="diff" if item.diff else None, wrap_lines=True)


for item in shown:
    review, prompt, version = item.review, item.prompt, item.version
    what = ("Label production" if review.kind == ReviewKind.PRODUCTION else "Publish to the organisation"
            if prompt.status != PromptStatus.PUBLISHED else "Give readers and applications this version")
    with st.container(border=True):
        st.markdown(f"**{plain(version.title)}** — {what}, version {version.number}")
        st.caption(f"Change note: {plain(version.change_note)}" + (f" · request: {plain(review.comment)}"
                                                                    if review.comment else ""))
        changes(item)
        st.text_area("Comment (needed to send back)", key=f"review_comment_{review.id}", height=70)
        approve_col, reject_col, open_col, _ = st.columns([1, 1, 1, 3])
        if approve_col.button("Approve", key=f"review_approve_{review.id}", type="primary"):
            decide(review.id, prompt.id, True)
        if reject_col.button("Send back", key=f"review_reject_{review.id}"):
            decide(review.id, prompt.id, False)
        if open_col.button("Open", key=f"review_open_{review.id}"):
            open_prompt(prompt.slug)
