"""Reading prompts: who may see, edit or delete one, which of its versions they may open, and versions as text."""

from __future__ import annotations

import difflib

from sqlmodel import Session, col, select

from portal.core.auth import Permission, has_permission, require
from portal.core.errors import NotFound, PermissionDenied
from portal.core.users import User
from prompt_library.models import Prompt, PromptStatus, PromptVersion, Visibility
from prompt_library.templates import Message, Variable


def can_see(prompt: Prompt, actor: User) -> bool:
    if prompt.status == PromptStatus.PUBLISHED and prompt.visibility == Visibility.ORGANISATION:
        return has_permission(actor, Permission.BROWSE)
    return prompt.owner_id == actor.id or has_permission(actor, Permission.REVIEW)


def can_edit(prompt: Prompt, actor: User) -> bool:
    return (prompt.owner_id == actor.id and has_permission(actor, Permission.CONTRIBUTE)) or has_permission(
        actor, Permission.MANAGE_PROMPTS)


def sees_drafts(prompt: Prompt, actor: User) -> bool:
    """Its editors and reviewers see versions no reviewer has approved yet; other readers do not."""
    return can_edit(prompt, actor) or has_permission(actor, Permission.REVIEW)


def readable_version(prompt: Prompt, actor: User) -> int:
    """The version a reader is shown: the latest to its editors, to others the newest approved one."""
    if can_edit(prompt, actor) or not prompt.approved_version:
        return prompt.latest_version
    return prompt.approved_version


def newest_openable(prompt: Prompt, actor: User) -> int:
    """The newest version number the actor may open."""
    return prompt.latest_version if sees_drafts(prompt, actor) else readable_version(prompt, actor)


def readable_versions(*, session: Session, actor: User, prompt: Prompt) -> list[PromptVersion]:
    """The versions the actor may open, newest first: later, unreviewed ones only for editors and reviewers."""
    newest = newest_openable(prompt, actor)
    return [v for v in list_versions(session=session, prompt_id=prompt.id) if v.number <= newest]


def can_delete(prompt: Prompt, actor: User) -> bool:
    """Its owner or an admin, while it is not published: applications may be reading a published prompt."""
    return prompt.status != PromptStatus.PUBLISHED and can_edit(prompt, actor)


def visible_prompt(*, session: Session, actor: User, prompt_id: int | None = None, slug: str = "") -> Prompt:
    """A prompt the actor may read; others' private prompts are reported as not found."""
    require(actor, Permission.BROWSE)
    prompt = session.get(Prompt, prompt_id) if prompt_id is not None else session.exec(
        select(Prompt).where(Prompt.slug == slug)).first()
    if prompt is None or not can_see(prompt, actor):
        raise NotFound("That prompt does not exist or is not shared with you.")
    return prompt


def editable_prompt(*, session: Session, actor: User, prompt_id: int) -> Prompt:
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if not can_edit(prompt, actor):
        raise PermissionDenied("Only the prompt's owner (or a portal admin) can change it; fork it to make your own.")
    return prompt


def version_by_number(*, session: Session, prompt_id: int, number: int) -> PromptVersion:
    version = session.exec(select(PromptVersion).where(PromptVersion.prompt_id == prompt_id,
                                                       PromptVersion.number == number)).first()
    if version is None:
        raise NotFound(f"Version {number} of this prompt does not exist.")
    return version


def list_versions(*, session: Session, prompt_id: int) -> list[PromptVersion]:
    return list(session.exec(select(PromptVersion).where(PromptVersion.prompt_id == prompt_id)
                             .order_by(col(PromptVersion.number).desc())).all())


def messages_of(version: PromptVersion) -> list[Message]:
    return [Message(role=m["role"], template=m["template"]) for m in version.messages]


def variables_of(version: PromptVersion) -> list[Variable]:
    return [Variable(name=v["name"], description=v.get("description", ""), example=v.get("example", ""))
            for v in version.variables]


def version_text(version: PromptVersion) -> str:
    """A version as the diff shows it: each message headed by its role, then the variables."""
    return as_diff_text(messages_of(version), variables_of(version))


def as_diff_text(messages: list[Message], variables: list[Variable]) -> str:
    body = "\n".join(f"### {m.role}\n{m.template}" for m in messages)
    # Sorted by name: the editor lists variables alphabetically, and their order carries no meaning.
    described = "\n".join(f"- {v.name}: {v.description}" for v in sorted(variables, key=lambda v: v.name))
    return body + ("\n### variables\n" + described if described else "")


def diff_texts(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff, line by line."""
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), before_name, after_name,
                                          lineterm=""))


def diff_versions(*, session: Session, actor: User, prompt_id: int, older: int, newer: int) -> str:
    """The unified diff between two versions of a prompt the actor can see."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if max(older, newer) > newest_openable(prompt, actor):
        raise NotFound(f"Version {max(older, newer)} of this prompt does not exist.")
    a = version_by_number(session=session, prompt_id=prompt_id, number=older)
    b = version_by_number(session=session, prompt_id=prompt_id, number=newer)
    return diff_texts(version_text(a), version_text(b), f"v{a.number}", f"v{b.number}")
