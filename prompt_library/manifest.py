"""What the prompt library adds to the portal: its pages, the `prompts` command, its tables and search index."""

from __future__ import annotations

import argparse

from portal.core.auth import Permission
from sqlmodel import Session

from portal.core.features import FeatureManifest, PageSpec, SeedStep, Section
from portal.core.principals import Principal
from portal.core.settings import Settings
from prompt_library import keyword_index, models
from prompt_library.dependents import prompt_dependents
from prompt_library.events import PROMPT_EVENTS
from prompt_library.models import PROMPT_USAGE_SOURCES

SECTION = "Prompts"


def _register_commands(commands: argparse._SubParsersAction) -> None:
    from prompt_library import commands as prompt_commands  # search and embeddings load only for the CLI

    prompt_commands.register(commands)


def _attach_keyword_index() -> None:
    """Create the full-text index with the prompt table (create_all in tests; migrations create it themselves)."""
    keyword_index.attach_to(models.Prompt.__table__)


def _is_keyword_index(type_: str, name: str | None) -> bool:
    """The full-text structures SQLAlchemy cannot describe: autogenerate leaves them alone."""
    return type_ in ("table", "index") and keyword_index.is_keyword_index_object(name)


def _seed_prompts(*, session: Session, actor: Principal, settings: Settings) -> str:
    """The seed prompts whose slug is new; they need an admin to own them and the catalog models they recommend."""
    from prompt_library import commands as prompt_commands
    from prompt_library.as_code import SEED_PROMPTS

    created, _ = prompt_commands.load_prompts(session, SEED_PROMPTS, actor=actor)
    return f"prompts: {len(created)} added"


def _index_prompts(*, session: Session, actor: Principal, settings: Settings) -> str:
    """Embed the published prompts for semantic search; without embeddings, keyword search still works."""
    from portal.core.embeddings import EmbeddingsUnavailable
    from prompt_library import commands as prompt_commands

    try:
        report = prompt_commands.prompt_index(settings).sync(session)
    except EmbeddingsUnavailable as exc:
        return f"prompt search index not built: {exc}"
    return f"prompt search index: {report.embedded} embedded, {report.unchanged} unchanged"


MANIFEST = FeatureManifest(
    name="prompt_library",
    sections=(Section(SECTION, order=300),),
    pages=(
        PageSpec("prompts.py", title="Prompt library", icon=":material/library_books:", section=SECTION,
                 help="Search reviewed, tested prompts; use them in the sandbox or fork them.",
                 permission=Permission.BROWSE),
        # Reached from the library with ?prompt=<slug>, and from "New prompt" / "Edit": out of the menu.
        PageSpec("prompt.py", title="Prompt", icon=":material/article:", section=SECTION, hidden=True,
                 permission=Permission.BROWSE),
        PageSpec("prompt_editor.py", title="Write a prompt", icon=":material/edit_note:", section=SECTION,
                 permission=Permission.CONTRIBUTE),
        PageSpec("prompt_reviews.py", title="Prompt reviews", icon=":material/rate_review:", section=SECTION,
                 permission=Permission.REVIEW),
    ),
    commands=(_register_commands,),
    table_modules=(models,),
    schema_hooks=(_attach_keyword_index,),
    unmanaged_schema_objects=(_is_keyword_index,),
    model_dependents=(prompt_dependents,),
    audit_events=PROMPT_EVENTS,
    usage_sources=PROMPT_USAGE_SOURCES,
    seed_steps=(SeedStep("prompts", _seed_prompts, after=("demo users", "catalog")),
                SeedStep("prompt search index", _index_prompts, after=("prompts",))),
)
