"""Rendering a template version with copier, in a limited child process, into a scratch folder the portal checks.

Copier gets an explicit, empty settings object: it then reads no settings file at all (neither the user's
~/.config/copier/settings.yml nor COPIER_SETTINGS_PATH), so no file on the server can widen trust. Whether a
template's unsafe features may run is decided by the admin's `trusted` flag alone. The render itself runs in
templates.sandbox: no environment variables, no filters that read the host, and limits on time, memory and output.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
from copier.errors import CopierError, ForbiddenPathError, UnsafeTemplateError
from jinja2 import TemplateError as JinjaError

from portal.core.errors import InvalidInput
from templates.questions import Question, check_answers_here
from templates.safe_jinja import filter_hint
from templates.sandbox import OutputTooLarge, RenderLimits, run_sandboxed
from templates.source import UnsafeTemplate

PREVIEW_FILE_BYTES = 64_000


def pinned_copier_settings() -> copier.Settings:
    """Copier settings the portal controls: no default answers, nothing trusted."""
    return copier.Settings(defaults={}, trust=[])


@dataclass(frozen=True)
class RenderRequest:
    """One render of a template version: where from, with which answers, within which limits."""

    mirror: Path
    ref: str
    answers: dict[str, Any]  # as the person gave them when `questions` is set, else already checked
    unsafe_features: tuple[str, ...] = ()
    trusted: bool = False
    limits: RenderLimits = field(default_factory=RenderLimits)
    questions: tuple[Question, ...] = ()  # checked against in the same child process, before the render
    model_options: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class Rendered:
    project: Path
    answers: dict[str, Any]  # typed and checked against the questions


def refuse_untrusted(unsafe_features: tuple[str, ...] | list[str], trusted: bool) -> None:
    """UnsafeTemplate unless the template uses no unsafe feature or an admin trusted it."""
    if unsafe_features and not trusted:
        raise UnsafeTemplate(f"This template uses {', '.join(unsafe_features)}, which run code on the portal's "
                             "server; an admin must mark it trusted before anyone can fork it.")


def render_project(request: RenderRequest, *, into: Path) -> Rendered:
    """Check the answers, render into `into`/project and check the result, in one limited child process.

    InvalidAnswers names each bad answer; the caller removes `into` whatever happens.
    """
    refuse_untrusted(request.unsafe_features, request.trusted)
    project = into / "project"
    answers = run_sandboxed(_check_and_copy, request, project, limits=request.limits, watch=into)
    return Rendered(project=project, answers=answers)


def _check_and_copy(request: RenderRequest, project: Path) -> dict[str, Any]:
    """The answers checked, copier's copy and the output checks; runs in the child process."""
    answers = request.answers
    if request.questions:  # one child for both: a fork costs one process start, not two
        answers = check_answers_here(list(request.questions), answers, request.model_options)
    with copier_errors_explained():
        copier.run_copy(str(request.mirror), project, data=answers, vcs_ref=request.ref, defaults=True,
                        unsafe=request.trusted, quiet=True, settings=pinned_copier_settings(),
                        cleanup_on_error=True)
    check_output(project, max_bytes=request.limits.max_output_bytes)
    return answers


@contextmanager
def copier_errors_explained(failure: str = "The template could not be rendered") -> Iterator[None]:
    """Copier's and Jinja's errors as messages a template's author can act on."""
    try:
        yield
    except UnsafeTemplateError as exc:
        raise UnsafeTemplate(f"Refused: {exc}. An admin must mark the template trusted first.") from None
    except ForbiddenPathError as exc:
        raise UnsafeTemplate(f"Refused: the template would write outside the project ({exc}).") from None
    except (JinjaError, CopierError, ValueError) as exc:
        raise InvalidInput(f"{failure}: {exc}{filter_hint(str(exc))}") from None


def check_output(project: Path, *, max_bytes: int) -> None:
    """Refuse symlinks leaving the project and output beyond the size limit."""
    root = project.resolve()
    total = 0
    for dirpath, dirnames, filenames in os.walk(project):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            relative = path.relative_to(project)
            if path.is_symlink():
                target = os.readlink(path)
                if os.path.isabs(target) or not path.resolve().is_relative_to(root):
                    raise UnsafeTemplate(f"Refused: {relative} is a symlink to {target}, outside the project.")
            elif path.is_file():
                total += path.stat().st_size
                if total > max_bytes:
                    raise OutputTooLarge(f"Refused: the rendered project is larger than the "
                                         f"{max_bytes:,}-byte limit (PORTAL_TEMPLATES_MAX_OUTPUT_BYTES).")


def project_files(project: Path) -> list[Path]:
    """Every file of the project (git's own folder aside), sorted, relative to it."""
    files = []
    for dirpath, dirnames, filenames in os.walk(project):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        files.extend((Path(dirpath) / name).relative_to(project) for name in filenames)
    return sorted(files)


@dataclass(frozen=True)
class PreviewFile:
    path: str
    size: int
    text: str | None  # None for binary files and files too large to show


def preview_files(project: Path) -> list[PreviewFile]:
    """The project's files with the text of each small text file, for the preview."""
    previews = []
    for relative in project_files(project):
        data = (project / relative).read_bytes()
        text = None
        if len(data) <= PREVIEW_FILE_BYTES:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        previews.append(PreviewFile(path=relative.as_posix(), size=len(data), text=text))
    return previews


def zip_project(project: Path, *, folder_name: str) -> bytes:
    """The project as a zip archive whose entries sit under one folder, as people expect when they unzip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for relative in project_files(project):
            archive.write(project / relative, f"{folder_name}/{relative.as_posix()}")
    return buffer.getvalue()


def move_into_place(project: Path, *, parent: Path, name: str) -> Path:
    """Move a finished project to parent/name (name-2, name-3, ... when taken); a rename, so never half-written."""
    parent.mkdir(parents=True, exist_ok=True)
    target, number = parent / name, 1
    while target.exists():
        number += 1
        target = parent / f"{name}-{number}"
    os.rename(project, target)  # same file system: atomic, and refuses to land inside an existing folder
    return target
