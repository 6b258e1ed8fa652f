"""A bare Streamlit app of the portal's shape, the baseline of bench/browser_navigation.py (a Streamlit script).

The same navigation as the portal gives an admin (sections, titles, hidden pages; read from BENCH_NAV, which the
benchmark derives from the installed manifests), a development sign-in page, the warning banner, a sidebar with a
caption, a name and a button, and one small table on every page — and nothing else: no database, no services.
"""

import json
import os

import streamlit as st

NAV: dict[str, list[list]] = json.loads(os.environ["BENCH_NAV"])  # section -> [[title, hidden], ...]
USERS = ["Ada Admin (admin)", "Chen Contributor (contributor)", "Vera Viewer (viewer)"]
TABLE = {"model": ["fake-small", "fake-large", "fake-embed"], "status": ["served", "served", "served"],
         "context": [8192, 32768, 512]}


def _content(title: str):
    def page() -> None:
        st.title(title)
        st.dataframe(TABLE, hide_index=True)
    page.__name__ = "page_" + "".join(ch if ch.isalnum() else "_" for ch in title.lower())
    return page


def _sign_in() -> None:
    st.title("Development sign-in")
    who = st.selectbox("Sign in as", USERS, index=None)
    if st.button("Sign in", disabled=who is None):
        st.session_state.user = who
        st.rerun()


@st.cache_resource
def _slugs() -> dict[str, str]:
    return {title: "".join(ch if ch.isalnum() else "-" for ch in title.lower())
            for pages in NAV.values() for title, _ in pages}


st.set_page_config(page_title="Bare app", page_icon="🧭", layout="wide")
st.warning("**Development sign-in** — demo users, no password, for this machine only.",
           icon=":material/construction:")
user = st.session_state.get("user")
if user is None:
    pages = [st.Page(_sign_in, title="Sign in", url_path="sign-in")]
else:
    slugs = _slugs()
    pages = {section: [st.Page(_content(title), title=title, url_path=slugs[title], default=index == 0 == i,
                               visibility="hidden" if hidden else "visible")
                       for i, (title, hidden) in enumerate(items)]
             for index, (section, items) in enumerate(NAV.items())}
    with st.sidebar:
        st.caption("Signed in as")
        st.text(f"{user}\nada.admin@example.com\nrole: admin")
        if st.button("Sign out", icon=":material/logout:"):
            del st.session_state.user
            st.rerun()
st.navigation(pages, expanded=True).run()
