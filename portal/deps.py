"""The only Streamlit-aware wiring: cached infrastructure, the signed-in user, and error display."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from sqlalchemy.engine import Engine

from catalog.service import DependentsRegistry
from guardrails.messages import GuardrailPolicy
from portal import installed  # read at call time: the installed features, as a test may extend them
from portal.core import local_only
from portal.core.db import make_engine, session_scope
from portal.core.auth import Permission, require
from portal.core.errors import PortalError
from portal.core.features import model_dependents, page_for_view
from portal.core.gateway import GatewayClient, GatewayStatus, gateway_for
from portal.core.logs import configure_logging
from portal.core.settings import Settings, load_settings
from portal.core.users import ClaimNames, User, dev_sign_in, sign_in_from_claims
from portal.ui import show_pending_message, show_unexpected
from portal.core.gateway import Caller
from sandbox.chat import SandboxPolicy
from metering.budgets import BudgetPolicy
from metering.gateway import MeteredGateway
from portfolio.checks import GraduationPolicy
from templates.registry import TemplateStore, sync_builtin_templates
from training.unlocks import CourseGate

if TYPE_CHECKING:  # Chroma, LangChain and pypdf load only on the page that uses documents (a second's start-up)
    from chromadb.api import ClientAPI
    from langchain_core.embeddings import Embeddings

    from sandbox.documents.reading import DocumentLimits

log = logging.getLogger(__name__)

SESSION_USER_ID = "portal_user_id"
SESSION_IDENTITY = "portal_identity"
GATEWAY_STATUS_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class PortalContext:
    """What a page needs: settings, database, gateway and the signed-in user (None before sign-in)."""

    settings: Settings
    engine: Engine
    gateway: GatewayClient
    metered: MeteredGateway  # every call made on a person's behalf: budgets reserved, usage settled
    user: User | None


@dataclass(frozen=True)
class Infrastructure:
    """The long-lived parts built from one set of settings."""

    settings: Settings
    engine: Engine
    gateway: GatewayClient
    metered: MeteredGateway


RUN_CONTEXT = "portal_run_context"


def shell_context() -> PortalContext:
    """The app shell's context for this run, handed on to the page the shell then runs (see `portal_context`)."""
    context = _build_context()
    st.session_state[RUN_CONTEXT] = context
    return context


def portal_context() -> PortalContext:
    """The page's context: the one the app shell built at the start of this run (so the signed-in user is looked
    up once per run, not twice), or a new one for a page run on its own. The shell writes it on every run before
    any page runs and the page takes it, so a page never sees an earlier run's user."""
    handed = st.session_state.pop(RUN_CONTEXT, None)
    context = handed if handed is not None else _build_context()
    # Every page starts here: what the last action said (portal.ui.run_action) shows once, at the top of whichever
    # page runs next — the same page after its rerun, or the page the action switched to.
    show_pending_message()
    return context


def _build_context() -> PortalContext:
    """Settings, database, gateway and the signed-in user; a bad setting stops the page with one line naming it."""
    try:
        infra = _infrastructure(_settings_fingerprint())
    except PortalError as exc:
        st.error(exc.message)
        st.stop()
    user = None
    with showing_errors():
        user = _signed_in_user(infra.settings, infra.engine)
    return PortalContext(settings=infra.settings, engine=infra.engine, gateway=infra.gateway, metered=infra.metered,
                         user=user)


def _settings_fingerprint() -> tuple:
    """What the settings are read from: the PORTAL_* environment and the .env file's identity."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PORTAL_")))
    dot_env = Path(".env").resolve()
    stat = dot_env.stat() if dot_env.is_file() else None
    return env, str(dot_env), stat.st_mtime_ns if stat else None


@st.cache_resource(show_spinner=False, max_entries=8)
def _infrastructure(fingerprint: tuple) -> Infrastructure:
    """Settings, engine and gateway client, built once per distinct configuration, not on every rerun."""
    settings = load_settings()
    configure_logging(level=settings.log_level, log_file=settings.log_file,
                      secrets=settings.secret_values)
    engine, gateway = make_engine(settings.database_url), gateway_for(settings)
    return Infrastructure(settings=settings, engine=engine, gateway=gateway,
                          metered=MeteredGateway(gateway=gateway, engine=engine, budgets=budget_policy(settings),
                                                 guardrails=guardrail_policy(settings)))


def catalog_dependents() -> DependentsRegistry:
    """What each installed feature's manifest says depends on a model (sandbox usage, prompts, templates)."""
    return DependentsRegistry(sources=model_dependents(installed.INSTALLED_FEATURES))


def budget_policy(settings: Settings) -> BudgetPolicy:
    """The configured budgets (admins' overrides apply on top, per user and team)."""
    return BudgetPolicy(daily_tokens_per_user=settings.sandbox_daily_token_quota,
                        monthly_usd_per_team=settings.sandbox_team_monthly_budget_usd)


def guardrail_policy(settings: Settings) -> GuardrailPolicy:
    """What the guardrails do with personal or secret data in each classification: every metered call obeys it."""
    return GuardrailPolicy(actions=dict(settings.guardrail_actions))


def graduation_policy(settings: Settings) -> GraduationPolicy:
    """What the portfolio's graduation checks obey: the share of an owning team that must hold the courses."""
    return GraduationPolicy(team_trained_share=settings.portfolio_team_trained_share)


def capability_gate(settings: Settings) -> CourseGate:
    """Who may use a capability (confidential data in the sandbox, publishing prompts): the courses it requires."""
    return CourseGate(required=dict(settings.training_required_courses))


def sandbox_policy(settings: Settings) -> SandboxPolicy:
    """The budgets, message size, guardrail actions and course requirements a sandbox turn obeys, from the settings."""
    return SandboxPolicy(budgets=budget_policy(settings), max_message_chars=settings.sandbox_max_message_chars,
                         guardrail_actions=dict(settings.guardrail_actions),
                         capabilities=capability_gate(settings),
                         max_system_prompt_chars=settings.sandbox_max_system_prompt_chars)


def document_limits(settings: Settings) -> DocumentLimits:
    """What a sandbox document upload may be, and how it is cut into passages, from the settings."""
    from sandbox.documents.reading import DocumentLimits

    return DocumentLimits(max_mb=settings.documents_max_file_mb,
                          allowed_types=tuple(settings.documents_allowed_types),
                          max_pages=settings.documents_max_pages, max_chunks=settings.documents_max_chunks,
                          chunk_chars=settings.documents_chunk_chars,
                          # The splitter refuses an overlap as long as the passage itself.
                          chunk_overlap=min(settings.documents_chunk_overlap, settings.documents_chunk_chars // 2),
                          parse_timeout_s=settings.documents_parse_timeout_s,
                          parse_memory_mb=settings.documents_parse_memory_mb)


def vector_store(settings: Settings) -> ClientAPI:
    """The Chroma client for these settings, made once per process (an embedded store must not be opened twice);
    a Chroma server that refuses the portal stops the page with its reason."""
    from portal.core.vector_index import ChromaRefused

    try:
        return _vector_store(str(settings.chroma_path), settings.chroma_host, settings.chroma_port,
                             settings.chroma_token.get_secret_value(), settings.chroma_token_header)
    except ChromaRefused as refused:
        st.error(refused.message, icon=":material/block:")
        st.stop()


@st.cache_resource(show_spinner=False, max_entries=4)
def _vector_store(chroma_path: str, chroma_host: str, chroma_port: int, chroma_token: str,
                  chroma_token_header: str) -> ClientAPI:
    from pydantic import SecretStr

    from portal.core.vector_index import chroma_client

    return chroma_client(Settings(chroma_path=Path(chroma_path), chroma_host=chroma_host, chroma_port=chroma_port,
                                  chroma_token=SecretStr(chroma_token), chroma_token_header=chroma_token_header))


def embeddings_for_user(context: PortalContext, user: User) -> Embeddings:
    """The configured embedding source, naming the user to the gateway like a chat call does."""
    from portal.core.embeddings import EmbeddingsUnavailable, embeddings_for
    from sandbox.documents.embedding_calls import DocumentsUnavailable

    caller = Caller(email=user.email, team=user.team or None, department=user.department or None)
    try:
        return embeddings_for(context.settings, gateway=context.gateway, caller=caller)
    except EmbeddingsUnavailable as error:  # a setting is missing: tell the person instead of crashing
        raise DocumentsUnavailable(str(error)) from None


def template_store(context: PortalContext) -> TemplateStore:
    """Where templates, their mirrors and git forks live, with the rendered-size limit; built-ins registered."""
    store = TemplateStore.from_settings(context.settings)
    _builtin_templates_synced(context.engine, context.settings.database_url, store)
    return store


@st.cache_resource(show_spinner=False, max_entries=8)
def _builtin_templates_synced(_engine: Engine, database_url: str, store: TemplateStore) -> list[str]:
    """Register the built-in templates (or their new versions) once per process, database and store."""
    with session_scope(_engine) as session:
        return sync_builtin_templates(session=session, store=store)


def prompt_index(context: PortalContext):
    """The prompt library's semantic index (Chroma + the configured embeddings), one per configuration."""
    return _prompt_index(_settings_fingerprint())


@st.cache_resource(show_spinner=False, max_entries=4)
def _prompt_index(fingerprint: tuple):
    from portal.core.embeddings import embeddings_for
    from prompt_library.search import PromptIndex

    infra = _infrastructure(fingerprint)
    settings = infra.settings
    # The sandbox's documents use the same store: one client per process for it, never a second one.
    client = _vector_store(str(settings.chroma_path), settings.chroma_host, settings.chroma_port,
                           settings.chroma_token.get_secret_value(), settings.chroma_token_header)
    return PromptIndex(client=client, embeddings=embeddings_for(settings, gateway=infra.gateway))


@st.cache_data(ttl=15, show_spinner=False)
def gateway_status(url: str, api_key: str) -> GatewayStatus:
    """The gateway's reachability and models, refreshed at most every 15 seconds."""
    client = GatewayClient(base_url=url, api_key=api_key or None, timeout_s=GATEWAY_STATUS_TIMEOUT_S)
    return client.status()


def _signed_in_user(settings: Settings, engine: Engine) -> User | None:
    """The user of this browser session, signing them in from the identity claims the first time."""
    identity = _identity(settings)
    if identity is None:
        st.session_state.pop(SESSION_USER_ID, None)
        return None
    with session_scope(engine) as session:
        if st.session_state.get(SESSION_IDENTITY) == identity and SESSION_USER_ID in st.session_state:
            user = session.get(User, st.session_state[SESSION_USER_ID])
            if user is not None and user.active:
                return user
        user = _sign_in(settings, session, identity)
    st.session_state[SESSION_IDENTITY] = identity
    st.session_state[SESSION_USER_ID] = user.id
    return user


def _identity(settings: Settings) -> str | None:
    if settings.auth_mode == "oidc":
        if not st.user.is_logged_in:
            return None
        # The provider's issuer + subject name the person (their e-mail may change or be reassigned).
        return f"{st.user.get('iss') or ''} {st.user.get('sub') or ''}"
    user_id = st.session_state.get(DEV_SIGN_IN_KEY)
    # Checked on every run, not only on the sign-in page: no page of a proxied session runs as a demo user.
    if user_id is None or dev_sign_in_refusal() is not None:
        return None
    return str(user_id)


def _sign_in(settings: Settings, session, identity: str) -> User:
    if settings.auth_mode == "oidc":
        claim_names = ClaimNames(department=settings.oidc_department_claim, team=settings.oidc_team_claim,
                                 groups=settings.oidc_groups_claim, role_group_mapping=settings.role_group_mapping)
        return sign_in_from_claims(session=session, claims=st.user.to_dict(), claim_names=claim_names)
    return dev_sign_in(session=session, user_id=int(identity))


DEV_SIGN_IN_KEY = "dev_sign_in_user_id"


def sign_out_dev() -> None:
    """Forget the development sign-in of this browser session."""
    for key in (DEV_SIGN_IN_KEY, SESSION_USER_ID, SESSION_IDENTITY):
        st.session_state.pop(key, None)


def dev_sign_in_refusal() -> str | None:
    """Why the development sign-in is off for this browser session (listening address, proxy, Host, Origin)."""
    headers = st.context.headers
    pairs = [(name, value) for name in headers for value in headers.get_all(name)]
    return local_only.dev_sign_in_refusal(str(st.get_option("server.address") or ""), pairs)


@contextmanager
def showing_errors(*, shown_as: Callable[[str], str] = str) -> Iterator[None]:
    """Show a PortalError's message; log anything else with a reference the user can quote.

    shown_as=portal.ui.plain_message when the message may carry a value from the address bar: shown as typed, not as
    Markdown."""
    try:
        yield
    except PortalError as exc:
        st.error(shown_as(exc.message), icon="⚠️")
    except Exception:
        show_unexpected()


def require_user(context: PortalContext) -> User:
    """The signed-in user, or stop the page with a pointer to the sign-in."""
    if context.user is None:
        st.warning("Sign in to see this page.")
        st.stop()
    return context.user


def require_page(user: User, page_script: str) -> None:
    """Stop the page unless the user's role holds the permission its manifest declares (call with `__file__`)."""
    permission = page_for_view(installed.INSTALLED_FEATURES, page_script).permission
    if permission is not None:
        require_permission(user, permission)


def require_permission(user: User, permission: Permission) -> None:
    """Stop the page with the service's refusal when the user's role lacks the permission."""
    try:
        require(user, permission)
    except PortalError as exc:
        st.error(exc.message, icon=":material/block:")
        st.stop()
