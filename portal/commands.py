"""The portal's own commands: run the portal, migrate, seed demo data, serve the local model, show settings.

portal/manifest.py declares them; portal/cli.py builds the command line from every installed manifest."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from catalog import commands as catalog_commands
from catalog.health import ProbeCall
from guardrails.messages import GuardrailPolicy
from metering.budgets import NO_BUDGETS
from metering.gateway import MeteredGateway
from metering.probes import metered_probe_call
from portal.core.db import check_database, make_engine, session_scope
from portal.core.errors import PortalError
from portal.core.features import FeatureManifest
from portal.core.gateway import gateway_for
from portal.core.settings import Settings, describe_settings

log = logging.getLogger("portal.commands")
APP_PATH = Path(__file__).resolve().parent / "app.py"
Command = Callable[[argparse.Namespace, Settings], int]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the portal's own commands (run, migrate, seed, model-server, settings); see portal/manifest.py."""
    run = commands.add_parser("run", help="migrate, start the local model if no gateway is set, serve the portal")
    run.add_argument("--seed", action="store_true", help="also create the demo users first")
    run.set_defaults(handler=cmd_run)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(handler=cmd_migrate)
    commands.add_parser("seed", help="create the demo users, catalog and prompts (idempotent)"
                        ).set_defaults(handler=cmd_seed)
    commands.add_parser("model-server", help="serve the local SmolLM2 model on 127.0.0.1 (foreground)"
                        ).set_defaults(handler=cmd_model_server)
    commands.add_parser("settings", help="print every setting, its value (secrets masked) and description"
                        ).set_defaults(handler=cmd_settings)


def register_catalog(commands: argparse._SubParsersAction) -> None:
    """The catalog's `catalog` command, its probes made on the metered gateway path (paid for by system:probe)."""
    catalog_commands.register(commands, probe_call_for=metered_probes)


def metered_probes(settings: Settings, engine) -> ProbeCall:
    """Each probe reserved, sent, settled and recorded as system:probe's usage; no budget applies to it."""
    return metered_probe_call(MeteredGateway(gateway=gateway_for(settings), engine=engine, budgets=NO_BUDGETS,
                                             guardrails=GuardrailPolicy(actions=dict(settings.guardrail_actions))))


def cmd_settings(_args: argparse.Namespace, settings: Settings) -> int:
    """Print every setting with its value (secrets masked) and description."""
    rows = describe_settings(settings)
    width = max(len(name) for name, _, _ in rows)
    for name, value, description in rows:
        print(f"{name:<{width}}  {value}\n{'':<{width}}  {description}")
    return 0


def cmd_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    """Upgrade the schema to the newest migration."""
    from portal.core.migrations import upgrade_to_head

    engine = make_engine(settings.database_url)
    check_database(engine)
    upgrade_to_head(engine)
    print("Database schema is up to date.")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, then run the installed features' seed steps (see their manifests) as the seed's principal.

    Each step commits on its own: a step that fails keeps what the steps before it added, and since every step
    adds only what is missing, running the seed again finishes the job.
    """
    from portal.core.features import seed_order
    from portal.core.principals import SYSTEM_SEED

    cmd_migrate(args, settings)
    engine = make_engine(settings.database_url)
    done = []
    for step in seed_order(args.features):  # portal/cli.py hands the installed features to every command
        with session_scope(engine) as session:
            done.append(step.run(session=session, actor=SYSTEM_SEED, settings=settings))
    print("Demo data: " + "; ".join(done) + ".")
    return 0


def cmd_model_server(_args: argparse.Namespace, settings: Settings) -> int:
    """Serve the local model in the foreground until interrupted."""
    from portal.core.model_server import (
        start_local_model_server,
        stop_local_model_server,
        wait_until_ready,
    )

    process = start_local_model_server(port=settings.local_model_port, model_name=settings.local_model_name)
    try:
        wait_until_ready(settings.local_model_url, timeout_s=settings.local_model_start_timeout_s,
                         process=process)
        print(f"Local model {settings.local_model_name} serving at {settings.local_model_url}", flush=True)
        return process.wait()
    finally:
        stop_local_model_server(process)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the settings, migrate, start the local model when needed, then serve the portal."""
    _refuse_unsafe_sign_in(settings)
    if args.seed:
        cmd_seed(args, settings)
    else:
        cmd_migrate(args, settings)
    # A SIGTERM (docker stop, a test's terminate) must unwind through `finally` to stop the model server.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    model_process = _start_local_model(settings) if settings.uses_local_model else None
    scheduler = scheduler_for(args.features, settings)
    try:
        _sync_catalog_on_start(settings)
        scheduler.start()
        print(f"CoE Portal at http://{settings.server_address}:{settings.server_port}", flush=True)
        return subprocess.call(_streamlit_command(settings), env=_streamlit_env())
    finally:
        scheduler.stop()
        if model_process is not None:
            from portal.core.model_server import stop_local_model_server

            stop_local_model_server(model_process)


def scheduler_for(features: Sequence[FeatureManifest], settings: Settings):
    """The features' periodic jobs, run in this process beside Streamlit's (which only serves pages)."""
    from portal.core.scheduler import Scheduler

    jobs = [job for feature in features for job in feature.scheduled_jobs]
    return Scheduler(jobs, settings=settings, engine=make_engine(settings.database_url))


def _sync_catalog_on_start(settings: Settings) -> None:
    """Mark which catalog models the gateway serves; an unreachable gateway is reported, not fatal."""
    from catalog.health import sync_with_gateway
    from portal.core.gateway import GatewayError, gateway_for
    from portal.core.principals import SYSTEM_SCHEDULER

    try:
        with session_scope(make_engine(settings.database_url)) as session:
            report = sync_with_gateway(session=session, actor=SYSTEM_SCHEDULER, gateway=gateway_for(settings))
        print(f"Catalog synced with the gateway: {len(report.served)} served, "
              f"{len(report.unregistered)} unregistered, {len(report.unavailable)} unavailable.", flush=True)
    except GatewayError as exc:
        log.warning("catalog sync at start-up failed: %s", exc.message)
        print(f"Catalog not synced: {exc.message}", flush=True)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


def _refuse_unsafe_sign_in(settings: Settings) -> None:
    # The development sign-in on a non-loopback address never gets this far: the settings refuse it.
    if settings.auth_mode == "oidc" and not _has_auth_secrets():
        raise PortalError(
            "PORTAL_AUTH_MODE=oidc needs an [auth] section in .streamlit/secrets.toml "
            "(redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url)."
        )


def _has_auth_secrets() -> bool:
    import tomllib

    for path in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if path.is_file() and "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
            return True
    return False


def _start_local_model(settings: Settings) -> subprocess.Popen:
    from portal.core.model_server import (
        start_local_model_server,
        stop_local_model_server,
        wait_until_ready,
    )

    print(f"No PORTAL_GATEWAY_URL: starting the local model server on port {settings.local_model_port}…",
          flush=True)
    process = start_local_model_server(port=settings.local_model_port, model_name=settings.local_model_name)
    try:
        wait_until_ready(settings.local_model_url, timeout_s=settings.local_model_start_timeout_s,
                         process=process)
    except BaseException:
        stop_local_model_server(process)
        raise
    return process


# Streamlit options `coe-portal run` always passes (the benchmarks and AppTests apply the same ones).
STREAMLIT_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    # Stack traces go to the log, never to the screen.
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    # The pages use no "magic" (bare expressions written to the page); skipping the AST rewrite saves time.
    "runner.magicEnabled": "false",
    # Streamlit forces a full garbage collection after every run; over the 300,000 objects of the portal's
    # imports (openai, langsmith, Chroma, SQLAlchemy...) it cost more than the page: repeat visits took 0.26 of
    # the time without it (bench/browser_navigation.py). Python's own generational collection still runs.
    "runner.postScriptGC": "false",
}


def _streamlit_command(settings: Settings) -> list[str]:
    options = {**STREAMLIT_OPTIONS, "server.address": settings.server_address,
               "server.port": str(settings.server_port),
               # Watching walks every imported module's file after each run (thousands with torch and Chroma).
               "server.fileWatcherType": "auto" if settings.watch_files else "none",
               # The uploader then states and enforces the portal's limit rather than Streamlit's 200 MB.
               "server.maxUploadSize": str(math.ceil(settings.documents_max_file_mb))}
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "streamlit", "run", str(APP_PATH), *flags]


def _streamlit_env() -> dict[str, str]:
    env = dict(os.environ)
    # The app imports the portal package from the checkout even when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APP_PATH.parent.parent), env.get("PYTHONPATH")]))
    return env
