"""The coe-portal command: settings listing, migrate and seed, refusals with one clear line."""

import pytest
from sqlmodel import Session, func, select

from portal.cli import main
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.db import make_engine
from portal.core.seed import DEMO_USERS
from portal.core.settings import Settings
from portal.core.users import User


def test_settings_lists_every_setting_with_description_and_masks_secrets(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_API_KEY", "sk-top-secret-value")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "sk-top-secret-value" not in out and "********" in out
    for name, field in Settings.model_fields.items():
        assert f"PORTAL_{name.upper()}" in out and field.description.split(";")[0] in out


def test_seed_is_idempotent_and_covers_every_role_in_four_departments(seeded, isolated_portal, capsys) -> None:
    assert main(["seed"]) == 0  # again, on a copy of a seeded portal
    assert "0 user(s) created" in capsys.readouterr().out.splitlines()[-1]
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        users = session.exec(select(User)).all()
        created_events = session.exec(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "user.created")).one()
    assert len(users) == len(DEMO_USERS) == created_events
    assert {u.role for u in users} == {r.value for r in Role}
    assert len({u.department for u in users}) >= 4


def test_invalid_setting_stops_with_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_TIMEOUT_S", "-1")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "coe-portal: PORTAL_GATEWAY_TIMEOUT_S: Input should be greater than 0 (got '-1')"


def test_dev_sign_in_refuses_a_non_loopback_address(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_SERVER_ADDRESS", "0.0.0.0")
    assert main(["run"]) == 2
    assert "PORTAL_SERVER_ADDRESS: the development sign-in only runs on a loopback address" in capsys.readouterr().err


def test_oidc_without_auth_secrets_refuses_to_start(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_AUTH_MODE", "oidc")
    monkeypatch.setenv("PORTAL_SERVER_ADDRESS", "0.0.0.0")
    assert main(["run"]) == 2
    assert "needs an [auth] section in .streamlit/secrets.toml" in capsys.readouterr().err


def test_unreachable_database_stops_with_a_clear_message(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://p:pw@127.0.0.1:9/portal")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "Cannot reach the database" in err and "pw@" not in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"]])
def test_unknown_command_shows_usage(argv, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: coe-portal" in capsys.readouterr().err


def _flag(command: list[str], name: str) -> str:
    return command[command.index(f"--{name}") + 1]


def test_run_watches_source_files_only_when_the_setting_asks(monkeypatch) -> None:
    # Streamlit's watcher walks every imported module's file after each run: production pages pay for it.
    from portal.commands import _streamlit_command
    from portal.core.settings import load_settings

    assert _flag(_streamlit_command(load_settings()), "server.fileWatcherType") == "none"
    monkeypatch.setenv("PORTAL_WATCH_FILES", "true")
    assert _flag(_streamlit_command(load_settings()), "server.fileWatcherType") == "auto"


def test_run_skips_streamlits_full_garbage_collection_after_every_run() -> None:
    # A full collection over every object of the portal's imports cost more than most pages' own work.
    from portal.commands import _streamlit_command
    from portal.core.settings import load_settings

    assert _flag(_streamlit_command(load_settings()), "runner.postScriptGC") == "false"
