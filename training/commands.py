"""`coe-portal training ...`: load the course folders into the database."""

from __future__ import annotations

import argparse
from pathlib import Path

from portal.core.db import make_engine, session_scope
from portal.core.principals import SYSTEM_CLI
from portal.core.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `training` command and its subcommands to the coe-portal parser."""
    training = commands.add_parser("training", help="training courses: sync the course folders")
    sub = training.add_subparsers(dest="training_command", required=True, metavar="SUBCOMMAND")
    sync = sub.add_parser("sync", help="load training/courses/* (validated first; a changed course becomes a new "
                                       "version; idempotent)")
    sync.add_argument("folder", type=Path, nargs="?", help="a folder of course folders (default: the shipped courses)")
    sync.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from training.course_files import COURSES_DIR
    from training.sync import sync_courses

    root = args.folder or COURSES_DIR
    with session_scope(make_engine(settings.database_url)) as session:
        report = sync_courses(session=session, actor=SYSTEM_CLI, root=root)
    print(f"Training courses synced from {root}: {report.summary()}.")
    return 0
