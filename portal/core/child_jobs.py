"""Running untrusted work (a template render, a PDF parse) in a confined child process with limits.

A `JobServer` starts `python -m <module> SOCKET` once, with none of the portal's environment variables; that
module imports what its jobs need and calls `serve`, which forks one child per connection. The child confines
itself (no environment, temporary files in a scratch folder, an address-space limit, a file-size limit, a CPU-time
backstop), sends its process id, runs the job it was sent and sends back one outcome. The portal side
(`run_in_child`) kills the child at the wall-clock limit or as soon as a watched folder outgrows its limit.
Forking a warm server costs milliseconds; a fresh interpreter importing the job's libraries costs far more, and
multiprocessing's forkserver re-imports the portal's main script (Streamlit's) in every child.
"""

from __future__ import annotations

import atexit
import errno
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from portal.core.errors import InvalidInput

KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL")  # nothing secret lives in these; git needs PATH
MEGABYTE = 1024 * 1024
CPU_BACKSTOP_S = 5


@dataclass(frozen=True)
class ChildLimits:
    """Wall-clock seconds and megabytes (above the warm server's own) one job may take; bytes it may write."""

    timeout_s: float
    memory_mb: int
    max_file_bytes: int | None = None  # the largest file it may write, and the watched folder's limit
    scratch_prefix: str = "portal-child-"


# Outcomes, as the child sends them or the portal finds them: ("ok", result), ("refused", InvalidInput),
# ("memory",), ("output",), ("failed", traceback), and found by the portal: ("died",), ("timeout",).
Outcome = tuple


def serve(socket_path: str, *, prepare: Callable[[], None] | None = None) -> None:
    """Accept connections until standard input closes; each is handled by a child of its own.

    `prepare` runs in each child after it is confined, before its job."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nobody reads that pipe from now on
    while True:
        for key, _ in selector.select():
            if key.fileobj is not listener:
                return  # the portal is gone (its end of our standard input closed)
            connection, _ = listener.accept()
            if os.fork() == 0:
                try:
                    listener.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a subprocess' exit status must reach the job
                    handle(Connection(connection.detach()), prepare)
                finally:
                    os._exit(0)  # never back into the server's loop
            connection.close()


def handle(connection: Connection, prepare: Callable[[], None] | None = None) -> None:
    """The child's whole life: say who it is, confine itself, run the job, send back one outcome."""
    os.setpgid(0, 0)  # a group of its own, so the portal can stop it together with anything it starts
    connection.send(os.getpid())
    try:
        job, args, limits, scratch = connection.recv()
        confine(limits, scratch)
        if prepare is not None:
            prepare()
        outcome: Outcome = ("ok", job(*args))
    except MemoryError:
        outcome = ("memory",)
    except OSError as exc:
        outcome = ("output",) if exc.errno == errno.EFBIG else ("failed", traceback.format_exc())
    except InvalidInput as exc:
        outcome = ("refused", exc)
    except BaseException:  # noqa: BLE001 - whatever it was, the portal logs it
        outcome = ("failed", traceback.format_exc())
    try:
        connection.send(outcome)
    except Exception:  # noqa: BLE001 - an outcome that cannot be pickled: say so rather than leave the portal waiting
        connection.send(("failed", traceback.format_exc()))


def confine(limits: ChildLimits, scratch: str) -> None:
    """Forget the environment, write temporary files in scratch, cap memory, file sizes and CPU time."""
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    os.environ.clear()
    os.environ.update(kept, HOME=scratch, TMPDIR=scratch)
    tempfile.tempdir = scratch
    os.chdir(scratch)
    # The limit counts what the job adds to the interpreter and the libraries already in memory.
    ceiling = _address_space() + limits.memory_mb * MEGABYTE
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    if limits.max_file_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write then fails with EFBIG instead of killing
        size = limits.max_file_bytes + 1
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    # A backstop should the portal be gone and unable to stop us: the kernel ends a job past its CPU time.
    cpu_seconds = int(limits.timeout_s) + CPU_BACKSTOP_S
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_in_child(server: JobServer, job: Callable[..., Any], *args: Any, limits: ChildLimits,
                 watch: Path | None = None) -> Outcome:
    """job(*args) in a confined child of `server`; the outcome (see `Outcome`). The child never outlives the call.

    `job` must be a module-level function the server has imported (it is sent by reference); `watch` is a folder
    whose size is checked against `limits.max_file_bytes` while the job runs."""
    with tempfile.TemporaryDirectory(prefix=limits.scratch_prefix) as scratch:
        connection = server.connect()
        child, outcome = None, ("unfinished",)
        try:
            child = connection.recv()
            connection.send((job, args, limits, scratch))
            outcome = _wait(connection, limits, watch)
        finally:
            if child is not None and outcome[0] in ("timeout", "output", "unfinished"):
                _kill(child)  # stopped at a limit, or we are interrupted: it must not run on unwatched
            connection.close()
    return outcome


def _wait(connection: Connection, limits: ChildLimits, watch: Path | None) -> Outcome:
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
        if watch is not None and limits.max_file_bytes is not None and tree_size(watch) > limits.max_file_bytes:
            return ("output",)
        interval = min(interval * 2, 0.1)


def _kill(child: int) -> None:
    try:
        os.killpg(child, signal.SIGKILL)  # the child and anything it started
    except ProcessLookupError:  # it ended on its own meanwhile
        pass


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


class JobServer:
    """One server of confined children (`python -m module SOCKET`): started on first use, again if it went away."""

    def __init__(self, module: str, *, start_timeout_s: float = 60) -> None:
        self.module, self.start_timeout_s = module, start_timeout_s
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
        folder = tempfile.mkdtemp(prefix="coe-child-jobs-")  # 0700: only the portal's user can connect
        self._socket_path = os.path.join(folder, "socket")
        environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
        environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, self._socket_path], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=environment, cwd=folder, text=True)
        ready = self._process.stdout.readline().strip()  # after the module imported what its jobs need
        if ready != "ready":
            raise RuntimeError(f"the child-job server {self.module} did not start (it said {ready!r})")
        atexit.register(self.stop)

    def stop(self) -> None:
        """Close the server's standard input: it ends, and so does nothing else."""
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)
