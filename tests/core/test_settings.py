"""Settings: embedded defaults, one clear line per bad value, secrets masked, all documented."""

import re

import pytest

from portal.core.errors import SettingsError
from portal.core.settings import Settings, describe_settings, load_settings
from tests.conftest import REPO_ROOT


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_DATABASE_URL")
    settings = load_settings()
    assert settings.database_url == "sqlite:///./var/portal.db"
    assert settings.uses_local_model and settings.effective_gateway_url == "http://127.0.0.1:8081/v1"
    assert settings.auth_mode == "dev" and settings.listens_on_loopback


def test_dot_env_file_is_read(isolated_portal, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_portal / ".env").write_text("PORTAL_GATEWAY_URL=https://gateway.example.com/v1/\n")
    settings = load_settings()
    assert settings.gateway_url == "https://gateway.example.com/v1"
    assert not settings.uses_local_model


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORTAL_SERVER_PORT", "eighty", r"^PORTAL_SERVER_PORT: Input should be a valid integer"),
        ("PORTAL_SERVER_PORT", "70000", r"^PORTAL_SERVER_PORT: Input should be less than or equal to 65535"),
        ("PORTAL_GATEWAY_URL", "gateway.local", r"^PORTAL_GATEWAY_URL: expected an http:// or https:// URL"),
        ("PORTAL_AUTH_MODE", "saml", r"^PORTAL_AUTH_MODE: Input should be 'dev' or 'oidc'"),
        ("PORTAL_DATABASE_URL", "mysql://x", r"^PORTAL_DATABASE_URL: expected a sqlite:/// or postgresql"),
        ("PORTAL_ROLE_GROUP_MAPPING", '{"g": "owner"}', r"^PORTAL_ROLE_GROUP_MAPPING: group 'g' maps to unknown"),
        ("PORTAL_ROLE_GROUP_MAPPING", "not json", r"^PORTAL_ROLE_GROUP_MAPPING: "),
        ("PORTAL_GUARDRAIL_ACTIONS", '{"public": "shred", "internal": "warn", "confidential": "warn", '
         '"restricted": "warn"}', r"^PORTAL_GUARDRAIL_ACTIONS: 'public': 'shred' is not allowed"),
        ("PORTAL_GUARDRAIL_ACTIONS", '{"public": "warn"}', r"^PORTAL_GUARDRAIL_ACTIONS: no action for "),
    ],
)
def test_bad_setting_gives_one_line_naming_it(monkeypatch, variable: str, value: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert re.search(message, caught.value.message), caught.value.message
    assert "\n" not in caught.value.message


def test_secrets_are_masked_in_the_settings_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_API_KEY", "sk-live-abcdef123456")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal:hunter2pw@db.internal/portal")
    listing = "\n".join(" ".join(row) for row in describe_settings(load_settings()))
    assert "sk-live-abcdef123456" not in listing and "hunter2pw" not in listing
    assert "PORTAL_GATEWAY_API_KEY ********" in listing
    assert "postgresql+psycopg://portal:***@db.internal/portal" in listing


def test_every_setting_has_a_description_and_a_row_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`PORTAL_{name.upper()}`" in readme, f"README does not document PORTAL_{name.upper()}"
