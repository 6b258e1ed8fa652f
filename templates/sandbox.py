"""Running an untrusted template's Jinja in a child process: clean environment, safe filters, and limits.

Every render of a template (its question expressions, a fork, a preview, an update) runs in a child of the
render server (templates.render_server), a portal.core.child_jobs server with copier already imported. The child
confines itself (address-space and file-size limits, copier's Ansible filters resolved to the allow-list); the
portal kills it at the wall-clock limit or as soon as its output folder outgrows the limit, and this module turns
each outcome into a message naming the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.core.child_jobs import ChildLimits, JobServer, run_in_child, tree_size
from portal.core.errors import InvalidInput

log = logging.getLogger(__name__)
__all__ = ["RenderLimits", "RenderLimitExceeded", "OutputTooLarge", "run_sandboxed", "tree_size"]


@dataclass(frozen=True)
class RenderLimits:
    """How long, how much memory and how many bytes of output one render of a template may take."""

    timeout_s: float = 30.0
    memory_mb: int = 512
    max_output_bytes: int = 20_000_000


class RenderLimitExceeded(InvalidInput):
    """The template took too long, too much memory or too much disk to render; the render was stopped."""


class OutputTooLarge(RenderLimitExceeded):
    """The rendered project is bigger than the templates_max_output_bytes setting allows."""


def timeout_message(limits: RenderLimits) -> str:
    return (f"Stopped: the template took longer than {limits.timeout_s:g} s to render "
            "(PORTAL_TEMPLATES_RENDER_TIMEOUT_S).")


def memory_message(limits: RenderLimits) -> str:
    return (f"Stopped: the template needed more than {limits.memory_mb} MB of memory to render "
            "(PORTAL_TEMPLATES_RENDER_MEMORY_MB).")


def output_message(limits: RenderLimits) -> str:
    return (f"Stopped: the template produced more than {limits.max_output_bytes:,} bytes of output (the "
            f"{limits.max_output_bytes:,}-byte limit, PORTAL_TEMPLATES_MAX_OUTPUT_BYTES).")


def run_sandboxed(job: Callable[..., Any], *args: Any, limits: RenderLimits, watch: Path | None = None) -> Any:
    """job(*args) in a limited child process; its result, its InvalidInput, or RenderLimitExceeded naming the limit.

    `job` must be a module-level function (it is sent by reference); `watch` is the folder whose size is checked
    against the output limit while the job runs.
    """
    return _result(run_in_child(_server, job, *args, limits=child_limits(limits), watch=watch), limits)


def child_limits(limits: RenderLimits) -> ChildLimits:
    """A render's limits as the child process applies them."""
    return ChildLimits(timeout_s=limits.timeout_s, memory_mb=limits.memory_mb,
                       max_file_bytes=limits.max_output_bytes, scratch_prefix="portal-render-")


def _result(outcome: tuple, limits: RenderLimits) -> Any:
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "refused":
        raise outcome[1] from None
    if kind == "output":
        raise OutputTooLarge(output_message(limits))
    if kind in ("timeout", "memory"):
        raise RenderLimitExceeded(timeout_message(limits) if kind == "timeout" else memory_message(limits))
    if kind == "died":
        log.error("a template render process ended without an answer")
        raise RenderLimitExceeded(f"Stopped: the template's render ended abruptly; it most likely needed more "
                                  f"than {limits.memory_mb} MB of memory (PORTAL_TEMPLATES_RENDER_MEMORY_MB).")
    log.error("template render failed in its child process:\n%s", outcome[1])
    raise InvalidInput("The template could not be rendered; the error is in the portal's log.")


_server = JobServer("templates.render_server")
