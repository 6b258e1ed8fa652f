"""The template render server: `python -m templates.render_server SOCKET`, started by templates.sandbox.

It starts with none of the portal's environment variables, imports copier and renders a small template once,
then forks one child per connection: the child confines itself (no environment, temporary files in a scratch
folder, an address-space limit, a per-file size limit, copier's Ansible filters resolved to the allow-list),
sends its process id, runs the job it was sent and sends back one outcome. The server ends when the portal
closes its standard input (the portal ended). Forking a warm server costs milliseconds; a fresh interpreter
importing copier costs about half a second, and multiprocessing's forkserver re-imports the portal's main
script (Streamlit's) in every child.
"""

from __future__ import annotations

import errno
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection

from portal.core.errors import InvalidInput

KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL")  # nothing secret lives in these; git needs PATH
MEGABYTE = 1024 * 1024


def serve(socket_path: str) -> None:
    """Accept connections until standard input closes; each is handled by a child of its own."""
    # Imported, and copier warmed up, once here for every child to inherit (the jobs live in these modules).
    import templates.questions
    import templates.render_warmup
    import templates.updates  # noqa: F401 - imported for the children, not used here

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
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # git's exit status must reach copier
                    handle(Connection(connection.detach()))
                finally:
                    os._exit(0)  # never back into the server's loop
            connection.close()


def handle(connection: Connection) -> None:
    """The child's whole life: say who it is, confine itself, run the job, send back one outcome."""
    os.setpgid(0, 0)  # a group of its own, so the portal can stop it together with the git it runs
    connection.send(os.getpid())
    try:
        job, args, limits, scratch = connection.recv()
        confine(limits, scratch)
        outcome: tuple = ("ok", job(*args))
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


def confine(limits, scratch: str) -> None:
    """Forget the environment, write temporary files in scratch, cap memory and file sizes, safe filters only."""
    from templates.safe_jinja import take_place_of_ansible_filters

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
    # A backstop should the portal be gone and unable to stop us: the kernel ends a render past its CPU time.
    cpu_seconds = int(limits.timeout_s) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    take_place_of_ansible_filters()


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    serve(sys.argv[1])
