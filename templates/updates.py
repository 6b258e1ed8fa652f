"""Updating a portal-created git fork to its template's newest version: copier's update, on a new branch.

The fork's own branch is never touched: the update lands on `template-update-<n>`, the diff is shown, and
files where the user's changes and the template's changed the same lines keep both, between conflict markers.
Copier's update renders the template, so it runs in a limited child process like every other render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import copier
from sqlmodel import Session

from portal.core.audit import record
from templates.events import ForkUpdated
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.users import User
from templates.gitops import commit_all, current_branch, git
from templates.models import ForkDestination, TemplateEntry, TemplateFork
from templates.registry import TemplateStore
from templates.render import (
    check_output,
    copier_errors_explained,
    pinned_copier_settings,
    refuse_untrusted,
)
from templates.sandbox import RenderLimits, run_sandboxed

MAX_DIFF_CHARS = 200_000
CONFLICT_MARKER = "<<<<<<< "


@dataclass(frozen=True)
class UpdateResult:
    branch: str
    base_branch: str
    diff: str
    changed_files: list[str]
    conflicts: list[str]  # files holding conflict markers, or copier's .rej files


def update_fork(*, session: Session, actor: User, store: TemplateStore, fork_id: int) -> UpdateResult:
    """Run copier's update of the fork's repository onto a new branch; report the diff and any conflicts."""
    fork, entry = _updatable(session=session, actor=actor, fork_id=fork_id)
    repo = Path(fork.repo_path)
    base = current_branch(repo)
    if git("status", "--porcelain", cwd=repo).strip():
        raise InvalidInput(f"{repo} has uncommitted changes; commit or stash them, then update again.")
    branch = _free_branch_name(repo, f"template-update-{entry.mirror_ref}")
    git("checkout", "--quiet", "-b", branch, cwd=repo)
    try:
        _run_copier_update(repo, entry, store)
        git("add", "--all", cwd=repo)
        changed = git("diff", "--cached", "--name-only", cwd=repo).splitlines()
        conflicts = _conflicted_files(repo, changed)  # only what the update touched can hold its conflicts
        commit_all(repo, f"Update from template {entry.name} {fork.template_version} -> {entry.version}"
                         + (f" ({len(conflicts)} file(s) with conflicts to resolve)" if conflicts else ""))
    except Exception:
        git("reset", "--quiet", "--hard", cwd=repo)
        git("clean", "--quiet", "-fd", cwd=repo)
        git("checkout", "--quiet", base, cwd=repo)
        git("branch", "--quiet", "-D", branch, cwd=repo)
        raise
    diff = git("diff", f"{base}..{branch}", cwd=repo)
    git("checkout", "--quiet", base, cwd=repo)
    _record_update(session=session, actor=actor, fork=fork, entry=entry, branch=branch, conflicts=conflicts)
    return UpdateResult(branch=branch, base_branch=base, diff=diff[:MAX_DIFF_CHARS], changed_files=changed,
                        conflicts=conflicts)


def _updatable(*, session: Session, actor: User, fork_id: int) -> tuple[TemplateFork, TemplateEntry]:
    require(actor, Permission.CONTRIBUTE)
    fork = session.get(TemplateFork, fork_id)
    if fork is None:
        raise NotFound(f"There is no fork {fork_id}.")
    if fork.user_id != actor.id and not has_permission(actor, Permission.MANAGE_TEMPLATES):
        raise PermissionDenied("Only the person who made the fork, or an admin, may update it.")
    if fork.destination != ForkDestination.GIT.value or not (Path(fork.repo_path) / ".git").is_dir():
        raise InvalidInput("Only forks the portal created as a git repository (and that still exist) can be "
                           "updated; update a downloaded fork with `copier update` in your own checkout.")
    entry = session.get(TemplateEntry, fork.template_id)
    if entry.version == fork.template_version:
        raise InvalidInput(f"The fork is already at the template's newest version ({entry.version}).")
    refuse_untrusted(entry.unsafe_features, entry.trusted)
    return fork, entry


def _free_branch_name(repo: Path, wanted: str) -> str:
    existing = set(git("branch", "--list", "--format=%(refname:short)", cwd=repo).split())
    name, number = wanted, 1
    while name in existing:
        number += 1
        name = f"{wanted}-{number}"
    return name


def _run_copier_update(repo: Path, entry: TemplateEntry, store: TemplateStore) -> None:
    run_sandboxed(_update_here, repo, entry.mirror_ref, entry.trusted, store.limits, limits=store.limits, watch=repo)


def _update_here(repo: Path, ref: str, trusted: bool, limits: RenderLimits) -> None:
    """copier's update and the output checks; runs in the child process."""
    with copier_errors_explained(failure="The update could not run"):
        copier.run_update(repo, vcs_ref=ref, defaults=True, overwrite=True, skip_answered=True,
                          conflict="inline", unsafe=trusted, quiet=True, settings=pinned_copier_settings())
    check_output(repo, max_bytes=limits.max_output_bytes)


def _conflicted_files(repo: Path, changed: list[str]) -> list[str]:
    """Of the files the update changed, copier's .rej files and those holding inline conflict markers."""
    conflicts = []
    for relative in changed:
        if relative.endswith(".rej"):
            conflicts.append(relative)
            continue
        try:
            text = (repo / relative).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):  # binary, or deleted by the update
            continue
        if any(line.startswith(CONFLICT_MARKER) for line in text.splitlines()):
            conflicts.append(relative)
    return conflicts


def _record_update(*, session: Session, actor: User, fork: TemplateFork, entry: TemplateEntry, branch: str,
                   conflicts: list[str]) -> None:
    fork.update_branch, fork.update_version = branch, entry.version
    session.add(fork)
    record(session, actor, ForkUpdated(fork_id=fork.id, template=entry.name, from_version=fork.template_version,
                                       to_version=entry.version, branch=branch, conflicts=conflicts))
