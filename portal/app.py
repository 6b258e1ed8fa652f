"""The portal's entry point: page set-up, sign-in gate and navigation — routing only."""

import streamlit as st

from portal import deps
from portal.core import features
from portal.core.features import PageSpec
from portal.core.users import User
from portal.installed import INSTALLED_FEATURES

PAGES_KEY = "portal_navigation_pages"


def _page(spec: PageSpec) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.default, visibility=spec.visibility,
                   help=spec.help)


def pages_for(user: User | None):
    """The navigation the installed features' manifests give a signed-in user's role (by section), or a visitor."""
    if user is None:
        return [_page(spec) for spec in features.signed_out_pages(INSTALLED_FEATURES)]
    return {section: [_page(spec) for spec in specs]
            for section, specs in features.pages_for(INSTALLED_FEATURES, user).items()}


def navigation(user: User | None):
    """This session's pages for the user's role, built once per session and role: building two dozen st.Page
    objects resolves every script's path on disk, on every rerun otherwise. Kept per session, not shared between
    sessions: st.navigation marks the page objects it runs."""
    built = st.session_state.setdefault(PAGES_KEY, {})
    role = user.role if user is not None else None
    if role not in built:
        built[role] = pages_for(user)
    return built[role]


# An emoji favicon is drawn in the browser; a :material/...: one is fetched from fonts.gstatic.com.
st.set_page_config(page_title="CoE Portal", page_icon="🧭", layout="wide")
context = deps.shell_context()

if context.settings.auth_mode == "dev":
    st.warning("**Development sign-in** — demo users, no password, for this machine only. "
               "Production uses OpenID Connect (`PORTAL_AUTH_MODE=oidc`).", icon=":material/construction:")

pages = navigation(context.user)
if context.user is not None:
    with st.sidebar:
        st.caption("Signed in as")
        st.text(f"{context.user.display_name}\n{context.user.email}\nrole: {context.user.role}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            deps.sign_out_dev()
            if context.settings.auth_mode == "oidc":
                # st.logout() only queues the browser's redirect to /auth/logout, which clears the identity
                # cookie; st.rerun() would clear that queue before it is sent, so stop instead.
                st.logout()
                st.stop()
            st.rerun()

# expanded: with every area an admin sees more than the dozen links Streamlit shows before "View more".
st.navigation(pages, expanded=True).run()
