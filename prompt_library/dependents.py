"""What depends on a model in the prompt library, for the model card's dependents list."""

from __future__ import annotations

from sqlalchemy import String, cast
from sqlmodel import Session, func, select

from catalog.service import Dependent
from portal.core.db import LIKE_ESCAPE, contains_pattern
from prompt_library.models import Prompt, PromptStatus

SHOWN = 10


def prompt_dependents(*, session: Session, model_name: str) -> list[Dependent]:
    """Published prompts that recommend the model."""
    recommends = (cast(Prompt.recommended_models, String).like(contains_pattern(f'"{model_name}"'),
                                                               escape=LIKE_ESCAPE),
                  Prompt.status == PromptStatus.PUBLISHED.value)
    total = session.exec(select(func.count()).select_from(Prompt).where(*recommends)).one()
    if not total:
        return []
    titles = session.exec(select(Prompt.title).where(*recommends).order_by(Prompt.title).limit(SHOWN)).all()
    found = [Dependent(kind="prompt", name=title) for title in titles]
    if total > SHOWN:
        found.append(Dependent(kind="prompt", name=f"and {total - SHOWN} more"))
    return found
