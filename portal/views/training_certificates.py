"""Certificates: yours, with their expiry, and a check of any colleague's verification code."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, plain_message
from portal.views import _links as links
from training.certificates import CertificateView, expiry_notices, my_certificates, verify_certificate

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

st.title("Certificates")
mine, notices = [], []
with deps.showing_errors(), session_scope(context.engine) as session:
    mine = my_certificates(session=session, user=user)
    notices = expiry_notices(session=session, user=user)
for notice in notices:
    st.warning(notice, icon=":material/event_busy:")

st.subheader("Yours")
if mine:
    st.dataframe([{"code": c.code, "course": c.course_title, "version": c.version,
                   "issued (UTC)": f"{c.issued_at:%Y-%m-%d}", "status": c.status} for c in mine],
                 hide_index=True, width="stretch", key="my_certificates")
else:
    st.caption("You have no certificates yet. Complete a course under Training › Courses.")


def show(view: CertificateView) -> None:
    """One certificate as a verifier reads it."""
    text = (f"**{plain(view.code)}** — {plain(view.holder)} ({plain(view.holder_email)}, "
            f"{plain(view.department or '—')}) completed **{plain(view.course_title)}** (version {view.version}) "
            f"on {view.issued_at:%Y-%m-%d}; {view.status}.")
    (st.warning if view.expired else st.success)(text, icon=":material/workspace_premium:")


st.subheader("Verify a certificate")
st.caption("Anyone signed in to the portal can check a colleague's verification code.")
with st.form("verify_form"):
    code = st.text_input("Verification code", key="verify_code", value=links.certificate.read() or "",
                         placeholder="CERT-XXXX-XXXX-XXXX")
    checked = st.form_submit_button("Verify")
if checked:  # the code may come from the address bar (?code=)
    with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
        show(verify_certificate(session=session, actor=user, code=code))
