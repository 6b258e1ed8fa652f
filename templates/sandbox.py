"""Running an untrusted template's Jinja in a child process: clean environment, safe filters, and limits.

Every render of a template (its question expressions, a fork, a preview, an update) runs in a child of the
render server (templates.render_server), a process this module starts once with none of the portal's
environment variables and copier already imported. The child confines itself (address-space and file-size
limits, copier's Ansible filters resolved to the allow-list); the portal kills it at the wall-clock limit or as
soon as its output folder outgrows the limit, and turns each outcome into a message naming the limit.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from portal.core.errors import InvalidInput

log = logging.getLogger(__name__)

SERVER_VARIABLES = ("PATH", "LANG", "LC_ALL")  # what the render server gets of the portal's environment
SERVER_START_TIMEOUT_S = 60


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
    with tempfile.TemporaryDirectory(prefix="portal-render-") as scratch:
        connection = _server.connect()
        child, outcome = None, ("unfinished",)
        try:
            child = connection.recv()
            connection.send((job, args, limits, scratch))
            outcome = _wait(connection, limits, watch)
        finally:
            if child is not None and outcome[0] in ("timeout", "output", "unfinished"):
                _kill(child)  # stopped at a limit, or we are interrupted: it must not run on unwatched
            connection.close()
    return _result(outcome, limits)


def _wait(connection: Connection, limits: RenderLimits, watch: Path | None) -> tuple:
    deadline = time.monotonic() + limits.timeout_s
    interval = 0.005
    while True:
        if connection.poll(interval):
            try:
                return connection.recv()
            except EOFError:  # the child died without a word (killed by the kernel, most likely for memory)
                return ("died",)
        if time.monotonic() > deadline:
            return ("timeout",)
        if watch is not None and tree_size(watch) > limits.max_output_bytes:
            return ("output",)
        interval = min(interval * 2, 0.1)


def _kill(child: int) -> None:
    try:
        os.killpg(child, signal.SIGKILL)  # the child and any git it started
    except ProcessLookupError:  # it ended on its own meanwhile
        pass


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


class _RenderServer:
    """The one render server of this portal process: started on first use, started again if it went away."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._socket_path = ""

    def connect(self) -> Connection:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self._socket_path)
        return Connection(sock.detach())

    def _start(self) -> None:
        folder = tempfile.mkdtemp(prefix="coe-template-renderer-")  # 0700: only the portal's user can connect
        self._socket_path = os.path.join(folder, "socket")
        environment = {name: os.environ[name] for name in SERVER_VARIABLES if name in os.environ}
        environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "templates.render_server", self._socket_path], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=environment, cwd=folder, text=True)
        ready = self._process.stdout.readline().strip()  # after copier is imported and warmed up
        if ready != "ready":
            raise RuntimeError(f"the template render server did not start (it said {ready!r})")
        atexit.register(self.stop)

    def stop(self) -> None:
        """Close the server's standard input: it ends, and so does nothing else."""
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)


_server = _RenderServer()
