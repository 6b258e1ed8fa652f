"""What a trust request shows: a snapshot of a template version's unsafe parts, and its diff to the last trusted one.

The unsafe parts are `copier.yml` (questions, validators, `_tasks`, `_migrations`, `_jinja_extensions`, `_exclude`,
...) and every file copier could execute: the files its tasks, migrations and Jinja extensions name, and every
script outside the project folder (`_subdirectory`), where tasks and extensions live.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from sqlmodel import Session, col, select

from portal.core import safe_yaml
from portal.core.errors import InvalidInput
from templates.gitops import git
from templates.models import TemplateEntry, TemplateTrustSnapshot
from templates.source import CONFIG_NAMES, scratch_dir

SCRIPT_SUFFIXES = (".py", ".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd", ".pl", ".rb", ".js", ".ts")
COMMAND_KEYS = ("_tasks", "_migrations")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# Shell words: quotes, pipes, redirections and separators split a command into the paths it may run.
WORD_SPLIT = re.compile(r"[\s'\"`;|&<>()=,]+")


class SnapshotTooLarge(InvalidInput):
    """copier.yml and the files it runs are too big to show an approver in full."""


@dataclass(frozen=True)
class SafetySnapshot:
    """The unsafe parts of one template version as text, with a sha256 of each file's bytes and of them all."""

    files: dict[str, str]
    file_hashes: dict[str, str]
    content_hash: str
    size_bytes: int


@dataclass(frozen=True)
class PartDiff:
    """One unsafe part: how it changed since the last trusted version, as a unified diff (or its whole text)."""

    path: str
    status: str  # "changed", "unchanged", "added", "removed" or "never trusted before"
    diff: str


def take_snapshot(*, mirror: Path, ref: str, max_bytes: int) -> SafetySnapshot:
    """The unsafe parts of the mirror's version `ref`; SnapshotTooLarge past `max_bytes` in all."""
    work = scratch_dir(mirror.parent)
    try:
        archive = work / "version.tar"
        git("archive", "--format=tar", f"--output={archive}", f"refs/tags/{ref}", cwd=mirror)
        with tarfile.open(archive) as tar:
            members = {_clean(m.name): m for m in tar.getmembers() if m.isfile() or m.issym()}
            config_paths = [name for name in CONFIG_NAMES if name in members]
            config = _read_config(tar, [members[name] for name in config_paths], max_bytes)
            paths = config_paths + sorted(unsafe_paths(config, members) - set(config_paths))
            _check_size({p: members[p] for p in paths}, max_bytes)
            return _snapshot({p: _member_bytes(tar, members[p]) for p in paths})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _clean(name: str) -> str:
    return PurePosixPath(name.removeprefix("./")).as_posix()


def _read_config(tar: tarfile.TarFile, members: list[tarfile.TarInfo], max_bytes: int) -> dict[str, Any]:
    """copier.yml as a mapping (after its size is checked, so a huge one is refused before it is parsed)."""
    _check_size({m.name: m for m in members}, max_bytes)
    config: dict[str, Any] = {}
    for member in members:
        # Hostile text: the portal's safe reading (no anchors or aliases to expand, bounded depth).
        try:
            node = safe_yaml.compose(_member_bytes(tar, member).decode("utf-8", errors="replace"))
            loaded = safe_yaml.construct(node) if node is not None else None
        except (safe_yaml.YamlProblem, yaml.YAMLError):
            loaded = None  # registration parsed it already; an unreadable one still shows as text
        config.update(loaded if isinstance(loaded, dict) else {})
    return config


def _check_size(members: dict[str, tarfile.TarInfo], max_bytes: int) -> None:
    total = sum(m.size for m in members.values())
    if total > max_bytes:
        largest = max(members, key=lambda p: members[p].size)
        raise SnapshotTooLarge(
            f"copier.yml and the files it runs come to {total:,} bytes ({largest}: {members[largest].size:,}), over "
            f"the {max_bytes:,}-byte limit of what a trust request shows an approver "
            "(PORTAL_TEMPLATES_TRUST_SNAPSHOT_MAX_BYTES); trust was not requested.")


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if member.issym():
        return f"symlink to {member.linkname}".encode()
    handle = tar.extractfile(member)
    return handle.read() if handle else b""


def unsafe_paths(config: dict[str, Any], members: dict[str, tarfile.TarInfo]) -> set[str]:
    """The template's files copier may execute: named by tasks, migrations or extensions, or scripts outside the project."""
    subdirectory = str(config.get("_subdirectory") or "").strip("/")
    if "{" in subdirectory:
        subdirectory = ""  # a Jinja subdirectory could be anything: only named files count then
    suffix = str(config.get("_templates_suffix", ".jinja") or "")
    words = {w for key in COMMAND_KEYS for text in _strings(config.get(key)) for w in _words(text)}
    words |= {m for ext in _strings(config.get("_jinja_extensions")) for m in _extension_files(ext)}
    found = set()
    for path, member in members.items():
        outside = bool(subdirectory) and not path.startswith(subdirectory + "/")
        script = path.endswith(SCRIPT_SUFFIXES) or bool(member.mode & 0o111)
        if (outside and script) or _named(path, subdirectory, suffix, words):
            found.add(path)
    return found


def _strings(value: Any) -> list[str]:
    """Every string in a task, migration or extension list, however deeply copier lets it nest."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _words(command: str) -> set[str]:
    # `{{ _copier_conf.src_path }}/tasks/x.py` names tasks/x.py; `./x.sh` names x.sh.
    return {w.strip("/").removeprefix("./") for w in WORD_SPLIT.split(JINJA.sub("/", command)) if w.strip("/.")}


def _extension_files(extension: str) -> set[str]:
    """The files a Jinja extension may be loaded from: `ext/file.py:Class`, or a dotted module path."""
    target = extension.split(":")[0]
    if target.endswith(".py"):
        return {target.removeprefix("./")}
    parts = target.split(".")
    modules = [parts, parts[:-1]] if len(parts) > 1 else [parts]
    return {"/".join(m) + tail for m in modules if m for tail in (".py", "/__init__.py")}


def _named(path: str, subdirectory: str, suffix: str, words: set[str]) -> bool:
    """Whether a command names this file, as it sits in the template or as it lands in the rendered project."""
    names = {path}
    if subdirectory and path.startswith(subdirectory + "/"):
        names.add(path.removeprefix(subdirectory + "/"))
    names |= {n.removesuffix(suffix) for n in names if suffix and n.endswith(suffix)}
    return any(w == n or w.endswith("/" + n) for n in names for w in words)


def _snapshot(contents: dict[str, bytes]) -> SafetySnapshot:
    hashes = {path: hashlib.sha256(data).hexdigest() for path, data in contents.items()}
    overall = hashlib.sha256("".join(f"{p}\0{h}\n" for p, h in sorted(hashes.items())).encode()).hexdigest()
    return SafetySnapshot(files={p: _as_text(data, hashes[p]) for p, data in contents.items()}, file_hashes=hashes,
                          content_hash=overall, size_bytes=sum(len(d) for d in contents.values()))


def _as_text(data: bytes, digest: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    return f"(binary file, {len(data):,} bytes, sha256 {digest})\n" if "\0" in text else text


def diff_parts(before: dict[str, str] | None, after: dict[str, str]) -> list[PartDiff]:
    """A unified line diff of each unsafe part from the last trusted snapshot; the whole text when never trusted."""
    if before is None:
        return [PartDiff(path, "never trusted before", text) for path, text in after.items()]
    parts = []
    for path in list(after) + [p for p in before if p not in after]:
        old, new = before.get(path), after.get(path)
        status = ("added" if old is None else "removed" if new is None else
                  "unchanged" if old == new else "changed")
        lines = difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                     fromfile=f"trusted/{path}", tofile=f"requested/{path}")
        parts.append(PartDiff(path, status, "".join(line if line.endswith("\n") else line + "\n" for line in lines)))
    return parts


def pending_snapshot(*, session: Session, entry: TemplateEntry) -> TemplateTrustSnapshot | None:
    """The snapshot taken by the entry's pending trust request, or None when nobody asked."""
    if entry.trust_requested_by_id is None:
        return None
    return session.exec(select(TemplateTrustSnapshot).where(
        TemplateTrustSnapshot.template_id == entry.id, col(TemplateTrustSnapshot.approved_at).is_(None),
        TemplateTrustSnapshot.requested_by_id == entry.trust_requested_by_id)
        .order_by(col(TemplateTrustSnapshot.id).desc())).first()


def last_trusted_snapshot(*, session: Session, entry: TemplateEntry) -> TemplateTrustSnapshot | None:
    """The snapshot of the template's last approved version, or None when no version was approved with one."""
    return session.exec(select(TemplateTrustSnapshot).where(
        TemplateTrustSnapshot.template_id == entry.id, col(TemplateTrustSnapshot.approved_at).is_not(None))
        .order_by(col(TemplateTrustSnapshot.approved_at).desc(), col(TemplateTrustSnapshot.id).desc())).first()
