"""The portal's settings: one class, read from PORTAL_* environment variables and a `.env` file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from portal.core.capabilities import Capability
from portal.core.errors import SettingsError
from portal.core.local_only import is_loopback_address

ENV_PREFIX = "PORTAL_"


class Settings(BaseSettings):
    """Every knob of the portal; the defaults are the embedded set-up for a fresh machine."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        "sqlite:///./var/portal.db",
        description="SQLAlchemy URL of the database: a SQLite file (embedded) or "
        "postgresql+psycopg://user:password@host/db (production).",
    )
    chroma_path: Path = Field(
        Path("./var/chroma"),
        description="Folder of the embedded Chroma vector store; used when chroma_host is empty.",
    )
    chroma_host: str = Field(
        "", description="Host of a Chroma server (production); empty = embedded Chroma in chroma_path."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Port of the Chroma server.")
    chroma_token: SecretStr = Field(
        SecretStr(""), description="Token the portal presents to the Chroma server through Chroma's own token "
        "auth (masked in every output); empty = none. Chroma 1.x's `chroma run` enforces no auth itself: put "
        "the check in front of it (a proxy or Chroma's hosted service).",
    )
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        "Authorization", description="How the Chroma token travels: 'Authorization' (as a Bearer token) or "
        "'X-Chroma-Token'.",
    )
    embedding_source: Literal["local", "gateway"] = Field(
        "local",
        description="'local' = all-MiniLM-L6-v2 on the CPU (the 'local' extra; nothing downloaded); "
        "'gateway' = the gateway's /v1/embeddings with embedding_model.",
    )
    embedding_model: str = Field(
        "", description="Gateway model name used for embeddings when embedding_source is 'gateway'."
    )
    gateway_url: str = Field(
        "",
        description="Base URL of the central OpenAI-compatible gateway, e.g. https://ai-gateway.example.com/v1; "
        "empty = start the local model server and use it.",
    )
    gateway_api_key: SecretStr = Field(
        SecretStr(""), description="API key the portal presents to the gateway (masked in every output)."
    )
    gateway_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Seconds to wait for the gateway before giving up on a request."
    )
    gateway_max_retries: int = Field(
        1, ge=0, le=10, description="Retries of a failed gateway request (connection errors, 429, 5xx)."
    )
    gateway_team_header: str = Field(
        "x-portal-team", description="HTTP header carrying the caller's team, for the gateway's chargeback."
    )
    gateway_user_header: str = Field(
        "x-portal-user",
        description="HTTP header carrying the caller's e-mail (LiteLLM strips the OpenAI `user` field).",
    )
    local_model_port: int = Field(
        8081, ge=1, le=65535, description="Port of the local model server started when gateway_url is empty."
    )
    local_model_name: str = Field(
        "smollm2-135m-instruct", description="Model name the local model server serves."
    )
    local_model_start_timeout_s: float = Field(
        60.0, gt=0, description="Seconds to wait for the local model server to answer after starting it."
    )
    # Before server_address, whose check reads it.
    auth_mode: Literal["dev", "oidc"] = Field(
        "dev",
        description="'dev' = development sign-in (pick a demo user; loopback only); 'oidc' = OpenID Connect "
        "through st.login, configured in .streamlit/secrets.toml [auth].",
    )
    server_address: str = Field(
        "127.0.0.1",
        description="Address Streamlit listens on. With auth_mode 'dev' only a loopback address (127.0.0.1, ::1, "
        "localhost) is accepted: the portal refuses to start otherwise.",
    )
    server_port: int = Field(8501, ge=1, le=65535, description="Port Streamlit listens on.")
    watch_files: bool = Field(
        False,
        description="Rerun pages when their source files change (development). Off, Streamlit does not walk the "
        "source of every imported module after each run, which makes every page slower.",
    )
    oidc_department_claim: str = Field(
        "department", description="Identity-token claim holding the user's department."
    )
    oidc_team_claim: str = Field("team", description="Identity-token claim holding the user's team.")
    oidc_groups_claim: str = Field(
        "groups", description="Identity-token claim holding the user's groups, mapped to roles."
    )
    role_group_mapping: dict[str, str] = Field(
        default_factory=lambda: {
            "coe-admins": "admin",
            "coe-reviewers": "reviewer",
            "coe-contributors": "contributor",
        },
        description="JSON object mapping identity-provider groups to portal roles; the highest matching role "
        "wins, no match = viewer. An admin's change in the portal overrides it.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the portal's log (stack traces go to the log, never to the screen)."
    )
    log_file: Path = Field(Path("./var/portal.log"), description="File the portal's log is written to.")
    sandbox_daily_token_quota: int = Field(
        200_000, ge=0, description="Tokens (in + out) each user may use in the sandbox per UTC day; 0 = no quota."
    )
    sandbox_team_monthly_budget_usd: float = Field(
        500.0, ge=0, description="Spend cap per team per calendar month (UTC), in US dollars; 0 = no cap."
    )
    sandbox_max_message_chars: int = Field(
        20_000, ge=100, le=1_000_000, description="Longest message a user may send in the sandbox, in characters."
    )
    sandbox_max_system_prompt_chars: int = Field(
        4_000, ge=100, le=1_000_000, description="Longest system prompt a sandbox turn or comparison may send, in "
        "characters (labs' system prompts too); a longer one is refused and the message kept."
    )
    guardrail_actions: dict[str, str] = Field(
        default_factory=lambda: {"public": "redact", "internal": "redact", "confidential": "warn",
                                 "restricted": "warn"},
        description="JSON object: for each data classification, what happens when a message holds personal or "
        "secret data — warn (send it, tell the user), redact (replace it, show what) or block (send nothing).",
    )
    documents_max_file_mb: float = Field(
        10.0, gt=0, le=200, description="Largest document a user may upload to the sandbox, in megabytes."
    )
    documents_allowed_types: list[Literal["pdf", "md", "txt"]] = Field(
        default_factory=lambda: ["pdf", "md", "txt"], min_length=1,
        description="JSON list of the document types the sandbox accepts: pdf, md (Markdown) and txt (plain text).",
    )
    documents_max_pages: int = Field(
        300, ge=1, le=10_000, description="Most pages an uploaded PDF may have."
    )
    documents_parse_timeout_s: float = Field(
        20.0, gt=0, le=600, description="Longest a PDF may take to read, in seconds; it is read in a separate "
        "process, stopped at this limit.",
    )
    documents_parse_memory_mb: int = Field(
        512, ge=64, le=16_384, description="Most memory reading one PDF may take, in megabytes (the reading "
        "process' own limit; a decompression bomb stops here).",
    )
    documents_max_chunks: int = Field(
        1000, ge=1, le=100_000, description="Most passages one document may be split into (each is embedded once)."
    )
    documents_chunk_chars: int = Field(
        1000, ge=100, le=8000, description="Length of a document passage in characters (LangChain's splitter)."
    )
    documents_chunk_overlap: int = Field(
        150, ge=0, le=2000, description="Characters neighbouring passages share, so a sentence cut in two is found."
    )
    documents_top_k: int = Field(
        4, ge=1, le=20, description="Passages sent with each document question (the nearest to the question)."
    )
    training_required_courses: dict[str, list[str]] = Field(
        default_factory=dict,
        description="JSON object: capability -> course slugs whose valid certificate it requires, e.g. "
        '{"sandbox_confidential": ["responsible-ai"], "publish_prompts": ["responsible-ai"]}; '
        "capabilities: sandbox_confidential, publish_prompts; empty = nothing requires a course.",
    )
    portfolio_team_trained_share: float = Field(
        0.5, ge=0, le=1, description="Share (0-1) of a use case's owning team, the owner included, who must hold "
        "the courses a courses_held graduation criterion requires (portfolio/criteria.yaml); the owner always must.",
    )
    portfolio_sweep_interval_s: float = Field(
        300.0, ge=0, description="Seconds between the sweeps `coe-portal run` makes for tier-1 use cases in "
        "assessment whose pilot criteria are all met (they move to pilot as system:portfolio); 0 = no sweep.",
    )
    training_lab_max_prompt_chars: int = Field(
        4000, ge=100, le=100_000, description="Longest prompt a learner may run in a training lab, in characters."
    )
    prompt_cache_ttl_s: float = Field(
        60.0, gt=0, description="Seconds prompt_library.client.get_prompt serves a cached template before it "
        "refreshes it in the background (the stale one is served meanwhile).",
    )
    admin_page_size: int = Field(
        50, ge=10, le=500, description="Rows per page in the admin page's user list and audit log."
    )
    templates_repos_dir: Path = Field(
        Path("./var/template-repos"),
        description="Folder where forking a solution template into a git repository creates that repository "
        "(one folder per fork, with an initial commit); template updates leave their result on a branch there.",
    )
    templates_sources_dir: Path = Field(
        Path("./var/template-sources"),
        description="Folder of the portal's mirror repositories: every version of every registered template, "
        "tagged 1, 2, 3, ...; forks render from it and updates compare two of its versions.",
    )
    templates_max_output_bytes: int = Field(
        20_000_000, ge=10_000, description="Largest project a template may render, in bytes; a fork or preview "
        "beyond it is refused and nothing is written.",
    )
    templates_render_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Seconds a template may take to render (its questions, a fork, a "
        "preview or an update) in its child process before it is stopped with a message naming this limit.",
    )
    templates_render_memory_mb: int = Field(
        512, ge=64, description="Megabytes of memory a template's render may use in its child process, beyond "
        "the renderer's own; past it the render is stopped with a message naming this limit.",
    )
    templates_trust_snapshot_max_bytes: int = Field(
        200_000, ge=10_000, description="Largest snapshot, in bytes, of a template's unsafe parts (copier.yml and "
        "the files its tasks, migrations and Jinja extensions run) that a trust request keeps in the database and "
        "shows the approving admin; a trust request for a larger template is refused with a message naming this limit.",
    )

    @field_validator("role_group_mapping")
    @classmethod
    def _roles_exist(cls, mapping: dict[str, str]) -> dict[str, str]:
        from portal.core.auth import Role

        known = {role.value for role in Role}
        for group, role in mapping.items():
            if role not in known:
                raise ValueError(f"group {group!r} maps to unknown role {role!r}; roles: {sorted(known)}")
        return mapping

    @field_validator("guardrail_actions")
    @classmethod
    def _guardrail_actions_known(cls, actions: dict[str, str]) -> dict[str, str]:
        levels, verbs = {"public", "internal", "confidential", "restricted"}, {"warn", "redact", "block"}
        for level, action in actions.items():
            if level not in levels or action not in verbs:
                raise ValueError(f"{level!r}: {action!r} is not allowed; classifications {sorted(levels)}, "
                                 f"actions {sorted(verbs)}")
        missing = levels - set(actions)
        if missing:
            raise ValueError(f"no action for {sorted(missing)}")
        return actions

    @field_validator("training_required_courses")
    @classmethod
    def _capabilities_known(cls, required: dict[str, list[str]]) -> dict[str, list[str]]:
        known = {capability.value for capability in Capability}
        unknown = sorted(set(required) - known)
        if unknown:
            raise ValueError(f"unknown capability {unknown[0]!r}; capabilities: {sorted(known)}")
        return required

    @field_validator("gateway_url")
    @classmethod
    def _gateway_is_http(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL, or empty for the local model server")
        return url.rstrip("/")

    @field_validator("server_address")
    @classmethod
    def _dev_sign_in_only_on_loopback(cls, address: str, info: ValidationInfo) -> str:
        # The development sign-in is the default: it must never be what a server open to the network gets.
        if info.data.get("auth_mode") == "dev" and not is_loopback_address(address):
            raise ValueError("the development sign-in only runs on a loopback address; use 127.0.0.1, or set "
                             "PORTAL_AUTH_MODE=oidc")
        return address

    @field_validator("database_url")
    @classmethod
    def _database_is_supported(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return url

    @property
    def uses_local_model(self) -> bool:
        """True when no gateway is configured and the portal runs its own model server."""
        return not self.gateway_url

    @property
    def local_model_url(self) -> str:
        """Base URL of the local model server."""
        return f"http://127.0.0.1:{self.local_model_port}/v1"

    @property
    def effective_gateway_url(self) -> str:
        """The gateway the portal talks to: the configured one, or the local model server."""
        return self.gateway_url or self.local_model_url

    @property
    def secret_values(self) -> list[str]:
        """The configured secrets, for the log's masking filter."""
        return [secret.get_secret_value() for secret in (self.gateway_api_key, self.chroma_token)
                if secret.get_secret_value()]

    @property
    def listens_on_loopback(self) -> bool:
        """True when Streamlit only accepts connections from this machine."""
        return is_loopback_address(self.server_address)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning a validation failure into one line per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
    except SourceError as exc:
        # Raised before validation when a complex value (a dict) is not valid JSON.
        match = re.search(r'field "(\w+)"', str(exc))
        name = match.group(1).upper() if match else "?"
        raise SettingsError(f"{ENV_PREFIX}{name}: expected a JSON object, e.g. {{\"group\": \"role\"}}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad setting: its environment variable and what is expected."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{name.upper()}: {message} (got {error.get('input')!r})")
    return "\n".join(lines)


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(environment variable, value with secrets masked, description) for every setting."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if name == "database_url":
            value = mask_url_password(value)
        rows.append((f"{ENV_PREFIX}{name.upper()}", _display_value(value), field.description or ""))
    return rows


def mask_url_password(url: str) -> str:
    """The URL with any password replaced by asterisks, safe to print or log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _display_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else "(empty)"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if value == "":
        return "(empty)"
    return str(value)
