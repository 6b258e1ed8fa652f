"""`coe-portal prompts ...`: rebuild the search index, import and export prompts as YAML."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlmodel import Session, select

from portal.core.db import make_engine, session_scope
from portal.core.embeddings import embeddings_for
from portal.core.gateway import gateway_for
from portal.core.principals import SYSTEM_CLI, Principal
from portal.core.settings import Settings
from portal.core.users import User
from portal.core.vector_index import chroma_client
from prompt_library.as_code import (
    export_folder,
    import_prompts,
    parse_langchain_file,
    parse_prompt_file,
    read_folder,
)
from prompt_library.search import PromptIndex
from prompt_library.editing import slugify


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `prompts` command and its subcommands to the coe-portal parser."""
    prompts = commands.add_parser("prompts", help="the prompt library: reindex, import, export")
    sub = prompts.add_subparsers(dest="prompts_command", required=True, metavar="SUBCOMMAND")
    sub.add_parser("reindex", help="rebuild the semantic search index from scratch").set_defaults(handler=cmd_reindex)
    importer = sub.add_parser("import", help="load prompts from a YAML file, a folder of them, or a LangChain "
                              "JSON template (new slugs only)")
    importer.add_argument("path", type=Path)
    importer.set_defaults(handler=cmd_import)
    exporter = sub.add_parser("export", help="write every prompt as <slug>.yaml plus langchain/<slug>.json")
    exporter.add_argument("folder", type=Path)
    exporter.set_defaults(handler=cmd_export)


def prompt_index(settings: Settings) -> PromptIndex:
    """The semantic index the settings describe (embedded or server Chroma, local or gateway embeddings)."""
    return PromptIndex(client=chroma_client(settings), embeddings=embeddings_for(settings, gateway=gateway_for(settings)))


def cmd_reindex(_args: argparse.Namespace, settings: Settings) -> int:
    with session_scope(make_engine(settings.database_url)) as session:
        report = prompt_index(settings).rebuild(session)
    print(f"Prompt index rebuilt: {report.embedded} prompt(s) embedded.")
    return 0


def load_prompts(session: Session, path: Path, *, actor: Principal) -> tuple[list[str], list[str]]:
    """Import a file or folder as the principal; prompts whose owner is unknown go to the first admin."""
    if path.is_dir():
        specs = read_folder(path)
    elif path.suffix == ".json":  # a LangChain-serialised template: one draft prompt named after the file
        specs = [parse_langchain_file(path.read_text(encoding="utf-8"), slug=slugify(path.stem), source=str(path))]
    else:
        specs = parse_prompt_file(path.read_text(encoding="utf-8"), source=str(path))
    fallback = session.exec(select(User).where(User.role == "admin").order_by(User.id)).first()
    if fallback is None:
        raise SystemExit("coe-portal: create an admin first (coe-portal seed); imported prompts need an owner.")
    result = import_prompts(session=session, actor=actor, specs=specs, fallback_owner=fallback)
    return result.created, result.skipped


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        created, skipped = load_prompts(session, args.path, actor=SYSTEM_CLI)
    with session_scope(engine) as session:
        report = prompt_index(settings).sync(session)
    print(f"Imported {len(created)} prompt(s); {len(skipped)} already there; {report.embedded} embedded.")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    with session_scope(make_engine(settings.database_url)) as session:
        count = export_folder(session=session, folder=args.folder)
    print(f"Exported {count} prompt(s) to {args.folder}.")
    return 0
