"""`coe-portal portfolio ...`: the sweep that moves ready tier-1 use cases to pilot."""

from __future__ import annotations

import argparse

from portal.core.db import make_engine, session_scope
from portal.core.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `portfolio` command and its subcommands to the coe-portal parser."""
    portfolio = commands.add_parser("portfolio", help="the use-case portfolio: move ready tier-1 use cases on")
    sub = portfolio.add_subparsers(dest="portfolio_command", required=True, metavar="SUBCOMMAND")
    advance = sub.add_parser("advance", help="move every tier-1 use case in assessment whose pilot criteria are all "
                                             "met to pilot, as system:portfolio (for a cron job; idempotent)")
    advance.set_defaults(handler=cmd_advance)


def cmd_advance(args: argparse.Namespace, settings: Settings) -> int:
    from portfolio.advance import advance_ready

    with session_scope(make_engine(settings.database_url)) as session:
        moved = [f"{use_case.id} {use_case.title}" for use_case in advance_ready(session=session)]
    print(f"Portfolio: {len(moved)} tier-1 use case(s) moved to pilot" + ("".join(f"\n  {m}" for m in moved)))
    return 0
