"""Forking a template: the form's model choices, the preview, and the fork itself (zip or git), recorded."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from catalog.models import CatalogModel, Mode, USABLE_STATUSES
from catalog.service import is_available_to
from portal.core.audit import record
from templates.events import TemplateForked
from portal.core.auth import Permission, require
from portal.core.users import User
from templates.gitops import commit_all, init_repository
from templates.models import ForkDestination, TemplateEntry, TemplateFork
from templates.questions import Question, without_secrets
from templates.registry import TemplateStore, get_template
from templates.render import (
    PreviewFile,
    RenderRequest,
    move_into_place,
    preview_files,
    render_project,
    zip_project,
)
from templates.source import scratch_dir


def model_options_for(*, session: Session, user: User) -> dict[str, list[str]]:
    """The catalog models a model question may offer the user, by mode: usable and not restricted away."""
    rows = session.exec(select(CatalogModel).where(
        col(CatalogModel.status).in_([s.value for s in USABLE_STATUSES])).order_by(CatalogModel.name)).all()
    options: dict[str, list[str]] = {Mode.CHAT.value: [], Mode.EMBEDDING.value: []}
    for model in rows:
        if is_available_to(model, user):
            options.setdefault(model.mode, []).append(model.name)
    return options


# A template question of this name is the project's gateway address: the fork form fills in the portal's own.
GATEWAY_QUESTION = "gateway_url"


def portal_answers(*, session: Session, user: User, questions: list[Question], gateway_url: str) -> dict[str, Any]:
    """What the fork form starts with where the portal knows better than the template: its gateway's URL, and for
    a model question whose default that gateway does not serve, the first offered model it does serve."""
    served = set(session.exec(select(CatalogModel.name).where(col(CatalogModel.served).is_(True))).all())
    options = model_options_for(session=session, user=user)
    answers: dict[str, Any] = {}
    for question in questions:
        if question.name == GATEWAY_QUESTION and gateway_url:
            answers[question.name] = gateway_url  # the address only: the API key never goes into the files
        elif question.model_kind and question.default not in served:
            offered_and_served = [name for name in options.get(question.model_kind, []) if name in served]
            if offered_and_served:
                answers[question.name] = offered_and_served[0]
    return answers


def questions_of(entry: TemplateEntry) -> list[Question]:
    return [Question.from_dict(q) for q in entry.questions]


def _render_request(*, session: Session, user: User, entry: TemplateEntry, store: TemplateStore,
                    answers: dict[str, Any]) -> RenderRequest:
    """The render of the entry with the person's answers, to be checked against its questions and the catalog."""
    return RenderRequest(mirror=store.mirror(entry.name), ref=entry.mirror_ref, answers=answers,
                         unsafe_features=tuple(entry.unsafe_features), trusted=entry.trusted, limits=store.limits,
                         questions=tuple(questions_of(entry)),
                         model_options=model_options_for(session=session, user=user))


def preview_fork(*, session: Session, actor: User, store: TemplateStore, template_name: str,
                 answers: dict[str, Any]) -> list[PreviewFile]:
    """The files the fork would hold, with their text, rendered and then thrown away."""
    require(actor, Permission.CONTRIBUTE)
    entry = get_template(session=session, name=template_name)
    request = _render_request(session=session, user=actor, entry=entry, store=store, answers=answers)
    work = scratch_dir(store.repos_dir)
    try:
        return preview_files(render_project(request, into=work).project)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class ForkResult:
    fork: TemplateFork
    zip_bytes: bytes | None = None  # for zip forks
    repo_path: Path | None = None  # for git forks
    file_name: str = ""


def fork_template(*, session: Session, actor: User, store: TemplateStore, template_name: str,
                  answers: dict[str, Any], destination: ForkDestination) -> ForkResult:
    """Render the template with the answers into a zip or a new git repository, and record the fork, audited."""
    require(actor, Permission.CONTRIBUTE)
    entry = get_template(session=session, name=template_name)
    request = _render_request(session=session, user=actor, entry=entry, store=store, answers=answers)
    work = scratch_dir(store.repos_dir)
    try:
        rendered = render_project(request, into=work)
        project, typed = rendered.project, rendered.answers
        folder_name = project_folder_name(typed, fallback=entry.name)
        zip_bytes, repo = None, None
        if destination == ForkDestination.ZIP:
            zip_bytes = zip_project(project, folder_name=folder_name)
        else:
            init_repository(project)
            commit_all(project, f"Generated from template {entry.name} version {entry.version}")
            repo = move_into_place(project, parent=store.repos_dir, name=folder_name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    kept = without_secrets(questions_of(entry), typed)  # a secret goes into the project, never into the portal
    fork = _record_fork(session=session, actor=actor, entry=entry, answers=kept, destination=destination,
                        repo=repo, project_name=folder_name)
    return ForkResult(fork=fork, zip_bytes=zip_bytes, repo_path=repo, file_name=f"{folder_name}.zip")


def project_folder_name(answers: dict[str, Any], *, fallback: str) -> str:
    """A folder-safe name for the project, from its project or package name."""
    raw = str(answers.get("package_name") or answers.get("project_name") or fallback)
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")
    return slug[:80] or fallback


def _record_fork(*, session: Session, actor: User, entry: TemplateEntry, answers: dict[str, Any],
                 destination: ForkDestination, repo: Path | None, project_name: str) -> TemplateFork:
    fork = TemplateFork(template_id=entry.id, template_version=entry.version, project_name=project_name,
                        answers=answers, user_id=actor.id, team=actor.team, department=actor.department,
                        destination=destination.value, repo_path=str(repo or ""))
    session.add(fork)
    session.flush()
    record(session, actor, TemplateForked(fork_id=fork.id, template=entry.name, version=entry.version,
                                          destination=destination, repo_path=fork.repo_path, answers=answers))
    return fork

