"""`coe-portal portfolio ...`: export and import the portfolio as YAML, and the sweep that moves ready tier-1 use
cases to pilot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlmodel import Session, select

from portal.core.db import make_engine, session_scope
from portal.core.errors import InvalidInput
from portal.core.settings import Settings
from portal.core.users import User


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `portfolio` command and its subcommands to the coe-portal parser."""
    portfolio = commands.add_parser("portfolio", help="the use-case portfolio: export and import as YAML, move ready tier-1 use cases on")
    sub = portfolio.add_subparsers(dest="portfolio_command", required=True, metavar="SUBCOMMAND")
    acting = {"dest": "acting_as", "metavar": "EMAIL", "required": True,
              "help": "the portal user the command acts as (imports: an admin); the audit log names them"}
    exporter = sub.add_parser("export", help="write every use case the user may see as YAML (stdout without "
                              "--output)")
    exporter.add_argument("--output", type=Path, metavar="FILE")
    exporter.add_argument("--as", **acting)
    exporter.set_defaults(handler=cmd_export)
    importer = sub.add_parser("import", help="load a portfolio YAML file (validated whole, all or nothing; stages, "
                              "lower tiers and history are never taken from the file)")
    importer.add_argument("file", type=Path)
    importer.add_argument("--as", **acting)
    importer.set_defaults(handler=cmd_import)
    advance = sub.add_parser("advance", help="move every tier-1 use case in assessment whose pilot criteria are all "
                                             "met to pilot, as system:portfolio (for a cron job; idempotent)")
    advance.set_defaults(handler=cmd_advance)


def acting_user(session: Session, email: str) -> User:
    """The active portal user the command acts as; the services then check what they may do."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active:
        raise InvalidInput(f"No active portal user has the e-mail {email}; name one who signed in before.")
    return user


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from portfolio.as_code import export_portfolio

    with session_scope(make_engine(settings.database_url)) as session:
        text = export_portfolio(session=session, actor=acting_user(session, args.acting_as))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Wrote {args.output}.")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from portfolio.as_code import import_portfolio

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"Cannot read {args.file}: {error}. Nothing was imported.") from None
    with session_scope(make_engine(settings.database_url)) as session:
        result = import_portfolio(session=session, actor=acting_user(session, args.acting_as), text=text,
                                  source=str(args.file))
    print(f"Imported {args.file}: {result.summary()}.")
    if result.not_applied:
        print(f"Not applied: {len(result.not_applied)} value(s) of the file differ from the portal and were left "
              "as they are (stage moves go through the portal's approvals):")
        for note in result.not_applied:
            print(f"  {note}")
    return 0


def cmd_advance(args: argparse.Namespace, settings: Settings) -> int:
    from portfolio.advance import advance_ready

    with session_scope(make_engine(settings.database_url)) as session:
        moved = [f"{use_case.id} {use_case.title}" for use_case in advance_ready(session=session)]
    print(f"Portfolio: {len(moved)} tier-1 use case(s) moved to pilot" + ("".join(f"\n  {m}" for m in moved)))
    return 0
