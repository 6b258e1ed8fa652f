"""The portal's entry point: page set-up, sign-in gate and navigation — routing only."""

from pathlib import Path

import streamlit as st

from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.users import User

VIEWS = Path(__file__).resolve().parent / "views"
PAGES_KEY = "portal_navigation_pages"


def signed_out_pages() -> list:
    return [st.Page(VIEWS / "sign_in.py", title="Sign in", icon=":material/login:", default=True)]


def pages_for(user: User) -> dict[str, list]:
    """The navigation a signed-in user's role sees, by section."""
    models = [
        st.Page(VIEWS / "catalog.py", title="Model catalog", icon=":material/menu_book:",
                help="Search and filter the models, open their cards and compare up to three."),
        # Reached from the catalog with ?model=<name>, so it stays out of the menu.
        st.Page(VIEWS / "model_card.py", title="Model card", icon=":material/description:", visibility="hidden"),
    ]
    if has_permission(user, Permission.CONTRIBUTE):
        models.append(st.Page(VIEWS / "model_request.py", title="Request a model", icon=":material/add_circle:"))
    if has_permission(user, Permission.REVIEW):
        models.append(st.Page(VIEWS / "catalog_admin.py", title="Catalog operations", icon=":material/fact_check:",
                              help="The review queue; for admins also gateway sync, registration and probes."))
    pages = {"Portal": [st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True)],
             "Models": models}
    if has_permission(user, Permission.USE_SANDBOX):
        pages["Sandbox"] = [st.Page(VIEWS / "sandbox.py", title="Sandbox", icon=":material/chat:",
                                    help="Chat with the approved models, with guardrails, budgets and costs."),
                            st.Page(VIEWS / "sandbox_compare.py", title="Compare models",
                                    icon=":material/compare_arrows:",
                                    help="One message, two or three answers side by side; vote on the best."),
                            st.Page(VIEWS / "usage.py", title="My usage", icon=":material/query_stats:",
                                    help="Your tokens and cost by day and model; reviewers see teams too.")]
    prompts = [
        st.Page(VIEWS / "prompts.py", title="Prompt library", icon=":material/library_books:",
                help="Search reviewed, tested prompts; use them in the sandbox or fork them."),
        # Reached from the library with ?prompt=<slug>, and from "New prompt" / "Edit": out of the menu.
        st.Page(VIEWS / "prompt.py", title="Prompt", icon=":material/article:", visibility="hidden"),
    ]
    if has_permission(user, Permission.CONTRIBUTE):
        prompts.append(st.Page(VIEWS / "prompt_editor.py", title="Write a prompt", icon=":material/edit_note:"))
    if has_permission(user, Permission.REVIEW):
        prompts.append(st.Page(VIEWS / "prompt_reviews.py", title="Prompt reviews", icon=":material/rate_review:"))
    pages["Prompts"] = prompts
    templates = [st.Page(VIEWS / "templates.py", title="Solution templates", icon=":material/view_quilt:",
                         help="Starter projects to fork through a form, with their lineage."),
                 # Reached from the list with ?template=<name>, so it stays out of the menu.
                 st.Page(VIEWS / "template.py", title="Template", icon=":material/call_split:", visibility="hidden")]
    if has_permission(user, Permission.MANAGE_TEMPLATES):
        templates.append(st.Page(VIEWS / "template_admin.py", title="Manage templates",
                                 icon=":material/settings_applications:",
                                 help="Register templates from git repositories; trust those with tasks."))
    pages["Templates"] = templates
    training = [
        st.Page(VIEWS / "training.py", title="Courses", icon=":material/school:",
                help="Courses with your status, what is assigned to you and when it is due."),
        st.Page(VIEWS / "training_certificates.py", title="Certificates", icon=":material/workspace_premium:",
                help="Your certificates, and a check of any verification code."),
        # Reached from a course with ?course=<slug>, so they stay out of the menu.
        st.Page(VIEWS / "training_course.py", title="Course", icon=":material/menu_book:", visibility="hidden"),
        st.Page(VIEWS / "training_quiz.py", title="Quiz", icon=":material/quiz:", visibility="hidden"),
        st.Page(VIEWS / "training_lab.py", title="Labs", icon=":material/science:", visibility="hidden"),
    ]
    if has_permission(user, Permission.MANAGE_TRAINING):
        training += [st.Page(VIEWS / "training_assign.py", title="Assignments", icon=":material/assignment:"),
                     st.Page(VIEWS / "training_dashboard.py", title="Training dashboard",
                             icon=":material/monitoring:")]
    pages["Training"] = training
    if has_permission(user, Permission.MANAGE_USERS):
        pages["Administration"] = [st.Page(VIEWS / "admin.py", title="Admin", icon=":material/admin_panel_settings:")]
    return pages


def navigation(user: User | None):
    """This session's pages for the user's role, built once per session and role: building two dozen st.Page
    objects resolves every script's path on disk, on every rerun otherwise. Kept per session, not shared between
    sessions: st.navigation marks the page objects it runs."""
    built = st.session_state.setdefault(PAGES_KEY, {})
    role = user.role if user is not None else None
    if role not in built:
        built[role] = pages_for(user) if user is not None else signed_out_pages()
    return built[role]


st.set_page_config(page_title="CoE Portal", page_icon=":material/hub:", layout="wide")
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
