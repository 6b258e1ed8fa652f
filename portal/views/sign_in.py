"""Sign-in page: OpenID Connect in production, a pick-a-demo-user form in development."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.users import demo_users

context = deps.portal_context()
st.title("CoE Portal")
st.write("The AI Center of Excellence's portal: approved models, a safe sandbox, shared prompts, "
         "solution templates and training.")

if context.settings.auth_mode == "oidc" and st.user.is_logged_in:
    # The provider signed this person in but the portal refused them (the message above says why): offer the
    # way out, as signing in again would only bring back the same identity.
    st.subheader("Signed in at the identity provider, not in the portal")
    if st.button("Sign out", key="oidc_refused_sign_out"):
        st.logout()
    st.stop()

if context.settings.auth_mode == "oidc":
    st.subheader("Sign in")
    if st.button("Sign in with your company account", key="oidc_sign_in", type="primary"):
        with deps.showing_errors():
            st.login()
    # Streamlit drops the provider's error on the way back (streamlit issue 10160) and lands here, so the
    # page itself says what coming back here without being signed in means.
    st.caption("Back on this page after the sign-in? Then it was cancelled or refused by the identity provider. "
               "Try again, or ask the CoE team: the portal's log records the provider's reason.")
    st.stop()

refusal = deps.dev_sign_in_refusal()
if refusal is not None:
    st.subheader("Development sign-in is off")
    st.error(refusal, icon=":material/block:")
    st.stop()

st.subheader("Development sign-in")
users = []
with deps.showing_errors(), session_scope(context.engine) as session:
    users = demo_users(session=session)
if not users:
    st.info("There are no users yet. Run `coe-portal seed` to create the demo users.")
    st.stop()

labels = {u.id: f"{u.display_name} — {u.role}, {u.department or 'no department'}" for u in users}
chosen = st.selectbox("Sign in as", options=list(labels), format_func=labels.__getitem__, key="dev_user")
if st.button("Sign in", key="dev_sign_in", type="primary"):
    st.session_state[deps.DEV_SIGN_IN_KEY] = chosen
    st.rerun()
