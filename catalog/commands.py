"""`coe-portal catalog ...`: sync with the gateway, probe health, import and export the catalog as YAML."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from portal.core.db import make_engine, session_scope
from portal.core.gateway import gateway_for
from portal.core.principals import SYSTEM_CLI
from portal.core.settings import Settings

if TYPE_CHECKING:
    from catalog.health import ProbeCall


# Who pays for probes is decided above the catalog (metering); the command that wires the catalog in hands this
# over: settings and engine in, the call each probe makes out.
ProbeCallFor = Callable[[Settings, Engine], "ProbeCall"]


def register(commands: argparse._SubParsersAction, *, probe_call_for: ProbeCallFor) -> None:
    """Add the `catalog` command and its subcommands to the coe-portal parser; probes make `probe_call_for`'s call."""
    catalog = commands.add_parser("catalog", help="the model catalog: sync, probe, import, export")
    sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="SUBCOMMAND")
    sub.add_parser("sync", help="mark each card served or not from the gateway's model list"
                   ).set_defaults(handler=cmd_sync)
    sub.add_parser("probe", help="send a tiny request to each served approved model and store its timing"
                   ).set_defaults(handler=functools.partial(cmd_probe, probe_call_for=probe_call_for))
    importer = sub.add_parser("import", help="load a catalog YAML file (validated first, idempotent; new cards start "
                              "as proposed, lifecycle states are never taken from the file)")
    importer.add_argument("file", type=Path)
    importer.set_defaults(handler=cmd_import)
    exporter = sub.add_parser("export", help="write the whole catalog as YAML (to stdout without a file)")
    exporter.add_argument("file", type=Path, nargs="?")
    exporter.set_defaults(handler=cmd_export)


def cmd_sync(_args: argparse.Namespace, settings: Settings) -> int:
    from catalog.health import sync_with_gateway

    with session_scope(make_engine(settings.database_url)) as session:
        report = sync_with_gateway(session=session, actor=SYSTEM_CLI, gateway=gateway_for(settings))
    print(f"Served: {', '.join(report.served) or 'none'}")
    print(f"Unregistered (served, not in the catalog): {', '.join(report.unregistered) or 'none'}")
    print(f"Unavailable (usable in the catalog, not served): {', '.join(report.unavailable) or 'none'}")
    return 0


def cmd_probe(_args: argparse.Namespace, settings: Settings, *, probe_call_for: ProbeCallFor) -> int:
    from catalog.health import probe_models

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        outcomes = probe_models(session=session, actor=SYSTEM_CLI, call=probe_call_for(settings, engine))
        for o in outcomes:
            said = f"ok in {o.result.latency_s:.2f}s" if o.result.success else f"FAILED: {o.result.error}"
            print(f"{o.model_name}: {said}")
    failed = sum(not o.result.success for o in outcomes)
    print(f"Probed {len(outcomes)} model(s), {failed} failed.")
    return 1 if failed else 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from catalog.as_code import import_catalog

    text = args.file.read_text(encoding="utf-8")
    with session_scope(make_engine(settings.database_url)) as session:
        result = import_catalog(session=session, actor=SYSTEM_CLI, text=text, source=str(args.file))
    print(f"Imported {args.file}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged.")
    if result.not_applied:
        print(f"Not applied: {len(result.not_applied)} lifecycle value(s) of the file differ from the cards. An "
              "import never moves a model through its lifecycle (new cards start as proposed); a reviewer does "
              "that on the model's card, with a reason:")
        for note in result.not_applied:
            print(f"  {note}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from catalog.as_code import export_catalog

    with session_scope(make_engine(settings.database_url)) as session:
        text = export_catalog(session=session)
    if args.file:
        args.file.write_text(text, encoding="utf-8")
        print(f"Wrote {args.file}.")
    else:
        sys.stdout.write(text)
    return 0
