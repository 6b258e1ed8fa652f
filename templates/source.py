"""Reading a template folder (questions, metadata, README, version) and keeping the portal's mirror of it.

Every version of every template is committed to a mirror repository under the templates_sources_dir setting and
tagged 1, 2, 3, ...: forks render from a tag, and copier's update compares two of them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from portal.core.errors import InvalidInput
from portal.core.yaml_models import YamlFileError, load_model
from templates.gitops import commit_all, git, init_repository
from templates.questions import CopierFile, Question, parse_questions

CONFIG_NAMES = ("copier.yml", "copier.yaml")
METADATA_NAME = "portal.yml"
UNSAFE_KEYS = {"_tasks": "tasks", "_migrations": "migrations", "_jinja_extensions": "jinja_extensions"}
SKIPPED_DIRS = (".git", "__pycache__")
M = TypeVar("M", bound=BaseModel)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


class NotATemplate(YamlFileError):
    """The folder or repository is not a copier template the portal can read (a file's problems name its line)."""


class UnsafeTemplate(InvalidInput):
    """The template would escape its project (paths, symlinks), or uses features an admin has not trusted."""


class TemplateMetadata(BaseModel):
    """What portal.yml may say about a template; an unknown key is named, as a misspelt one would be lost."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
    display_name: str | None = None
    summary: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    owner: str | None = None
    tech_stack: list[str] | None = None
    recommended_models: list[str] | None = None
    model_questions: dict[str, str] | None = None  # question name -> "chat" or "embedding"


@dataclass(frozen=True)
class TemplateInfo:
    """What a template folder says about itself."""

    display_name: str
    summary: str
    category: str = ""
    tags: list[str] = field(default_factory=list)
    owner: str = ""
    tech_stack: list[str] = field(default_factory=list)
    recommended_models: list[str] = field(default_factory=list)
    readme: str = ""
    questions: list[Question] = field(default_factory=list)
    unsafe_features: list[str] = field(default_factory=list)


def read_template(folder: Path, *, name: str = "") -> TemplateInfo:
    """The questions, metadata and README of a template folder; NotATemplate when it is not one."""
    config = _load(_config_file(folder), CopierFile, {"dict_type": "should be a mapping of questions and settings"})
    metadata_file = folder / METADATA_NAME
    metadata = _load(metadata_file, TemplateMetadata) if metadata_file.is_file() else TemplateMetadata()
    check_source_tree(folder)
    readme = next((p.read_text(encoding="utf-8", errors="replace") for p in (folder / "README.md",
                   folder / "readme.md") if p.is_file()), "")
    questions = parse_questions(config.root, metadata.model_questions)
    if not questions:
        raise NotATemplate("copier.yml asks no questions; a template for the portal asks at least one.")
    return TemplateInfo(
        display_name=metadata.display_name or (name or folder.name).replace("-", " ").capitalize(),
        summary=(metadata.summary or _first_paragraph(readme))[:500], category=metadata.category or "",
        tags=metadata.tags or [], owner=metadata.owner or "", tech_stack=metadata.tech_stack or [],
        recommended_models=metadata.recommended_models or [], readme=readme, questions=questions,
        unsafe_features=sorted(UNSAFE_KEYS[key] for key in UNSAFE_KEYS if config.root.get(key)))


def _config_file(folder: Path) -> Path:
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise NotATemplate(f"{folder.name} has no copier.yml at its top level, so it is not a copier template.")


def _load(path: Path, model: type[M], messages: dict[str, str] | None = None) -> M:
    """copier.yml or portal.yml, validated; NotATemplate names the file and the line of each problem."""
    return load_model(path.read_text(encoding="utf-8"), model, source=path.name, error=NotATemplate,
                      messages=messages)


def _first_paragraph(readme: str) -> str:
    paragraphs = [p.strip() for p in readme.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
    return paragraphs[0].replace("\n", " ") if paragraphs else ""


def check_source_tree(folder: Path) -> None:
    """Refuse a template holding a symlink that points outside it (copier would copy what it points at)."""
    root = folder.resolve()
    for path in _walk(folder):
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise UnsafeTemplate(f"{path.relative_to(folder)} is a symlink to {os.readlink(path)}, outside the "
                                 "template; the portal refuses templates that reach outside themselves.")


def _walk(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        # Bytecode is not content: a stray __pycache__ must not make a new version.
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        base = Path(dirpath)
        yield from (base / name for name in dirnames + filenames)


def content_hash(folder: Path) -> str:
    """12 hex digits identifying the template's content (paths and bytes, not timestamps)."""
    digest = hashlib.sha256()
    for path in sorted(_walk(folder)):
        relative = path.relative_to(folder).as_posix()
        digest.update(relative.encode() + b"\0")
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def mirror_version(*, folder: Path, mirror: Path, version: str) -> str:
    """Commit the folder's content to the mirror and tag it; returns the tag (the existing one if unchanged)."""
    if not (mirror / ".git").is_dir():
        mirror.mkdir(parents=True, exist_ok=True)
        init_repository(mirror)
    for child in mirror.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    shutil.copytree(folder, mirror, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIPPED_DIRS))
    tags = [int(t) for t in git("tag", "--list", cwd=mirror).split() if t.isdigit()]
    if not commit_all(mirror, f"template version {version}") and tags:
        return str(max(tags))
    tag = str(max(tags, default=0) + 1)
    git("tag", "--annotate", tag, "-m", f"version {version}", cwd=mirror)
    return tag


def check_repository_url(url: str) -> str:
    """The URL when git may fetch it: https, ssh, file or an absolute path to a repository (never ext:: and co)."""
    if not re.match(r"^(https://|ssh://|git@[\w.-]+:|file://|/)", url):
        raise InvalidInput("Give an https://, ssh://, git@host: or file:// URL, or an absolute local path.")
    if url.startswith("/") and not (Path(url) / ".git").exists():
        raise NotATemplate(f"{url} is not a git repository.")
    return url


def fetch_repository(url: str, into: Path) -> tuple[Path, str]:
    """Clone a git repository (local path or URL); returns the folder and its version (tag or content hash)."""
    checkout = into / "checkout"
    git("clone", "--quiet", "--", url, str(checkout))
    tag = git("describe", "--tags", "--exact-match", cwd=checkout, check=False).strip()
    return checkout, tag or content_hash(checkout)


def scratch_dir(parent: Path) -> Path:
    """A private temporary folder inside `parent` (same file system, so a finished result moves atomically)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))


def is_slug(name: str) -> bool:
    return bool(SLUG.match(name))
