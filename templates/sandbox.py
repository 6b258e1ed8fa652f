"""Running an untrusted template's Jinja in a child process: clean environment, safe filters, and limits.

Every render of a template (its question expressions, a fork, a preview, an update) runs in a process forked
from a forkserver that has copier imported already (a fork costs milliseconds, not the half second of a fresh
interpreter). The child forgets the portal's environment variables, resolves copier's Ansible filters to the
allow-listed ones (templates.safe_jinja), caps its address space (RLIMIT_AS) and the size of any file it writes
(RLIMIT_FSIZE); the parent kills it at the wall-clock limit or as soon as its output folder outgrows the limit.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import resource
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from portal.core.errors import InvalidInput

log = logging.getLogger(__name__)

PRELOAD = ["templates.sandbox", "templates.safe_jinja", "copier", "jinja2_ansible_filters"]
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL")  # git needs PATH; nothing secret lives in these
MEGABYTE = 1024 * 1024


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


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # read only when the server starts: once per portal process
    return context


def run_sandboxed(job: Callable[..., Any], *args: Any, limits: RenderLimits, watch: Path | None = None) -> Any:
    """job(*args) in a limited child process; its result, its InvalidInput, or RenderLimitExceeded naming the limit."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    with tempfile.TemporaryDirectory(prefix="portal-render-") as scratch:
        process = _context().Process(target=_child, args=(sender, job, args, limits, scratch), daemon=True)
        process.start()
        sender.close()
        try:
            outcome = _wait(process, receiver, limits, watch)
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()
    return _result(outcome, limits)


def _wait(process: multiprocessing.process.BaseProcess, receiver: Connection, limits: RenderLimits,
          watch: Path | None) -> tuple:
    deadline = time.monotonic() + limits.timeout_s
    interval = 0.005
    while True:
        if receiver.poll(interval):
            try:
                return receiver.recv()
            except EOFError:  # the child died without a word (killed by the kernel, most likely for memory)
                return ("died", process.exitcode)
        if time.monotonic() > deadline:
            return ("limit", timeout_message(limits))
        if watch is not None and tree_size(watch) > limits.max_output_bytes:
            return ("output", output_message(limits))
        interval = min(interval * 2, 0.1)


def _result(outcome: tuple, limits: RenderLimits) -> Any:
    kind, payload = outcome[0], outcome[1]
    if kind == "ok":
        return payload
    if kind == "limit":
        raise RenderLimitExceeded(payload)
    if kind == "output":
        raise OutputTooLarge(payload)
    if kind == "refused":
        raise payload from None
    if kind == "died":
        log.error("template render child ended with exit code %s", payload)
        raise RenderLimitExceeded(f"Stopped: the template's render ended abruptly (exit code {payload}); it most "
                                  f"likely needed more than {limits.memory_mb} MB of memory.")
    log.error("template render failed in the child process:\n%s", payload)
    raise InvalidInput("The template could not be rendered; the error is in the portal's log.")


def tree_size(folder: Path) -> int:
    """Bytes of the regular files under `folder` (0 when it does not exist yet)."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:  # removed between listing and looking
                continue
    return total


def _child(sender: Connection, job: Callable[..., Any], args: tuple, limits: RenderLimits, scratch: str) -> None:
    """The child's whole life: confine itself, run the job, send back one outcome."""
    from templates.safe_jinja import take_place_of_ansible_filters

    _confine(limits, scratch)
    take_place_of_ansible_filters()
    try:
        outcome: tuple = ("ok", job(*args))
    except MemoryError:
        outcome = ("limit", memory_message(limits))
    except OSError as exc:
        outcome = (("output", output_message(limits)) if exc.errno == errno.EFBIG
                   else ("failed", traceback.format_exc()))
    except InvalidInput as exc:
        outcome = ("refused", exc)
    except BaseException:  # noqa: BLE001 - whatever it was, the parent logs it
        outcome = ("failed", traceback.format_exc())
    try:
        sender.send(outcome)
    except Exception:  # an answer that cannot be pickled: say so rather than hang the parent
        sender.send(("failed", traceback.format_exc()))
    sender.close()


def _confine(limits: RenderLimits, scratch: str) -> None:
    """Forget the portal's environment, write temporary files in scratch, cap memory and file sizes."""
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    os.environ.clear()
    os.environ.update(kept, HOME=scratch, TMPDIR=scratch, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
                      GIT_TERMINAL_PROMPT="0")
    tempfile.tempdir = scratch
    os.chdir(scratch)
    # The limit counts what the render adds to the interpreter and copier already in memory.
    ceiling = _address_space() + limits.memory_mb * MEGABYTE
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write then fails with EFBIG instead of killing us
    size = limits.max_output_bytes + 1
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
