"""The Chroma server connection carries the configured token (Chroma's own client auth); the token stays secret.

`chroma run` (chromadb 1.5.9, the Rust server) enforces no auth itself: started with Chroma's server auth
settings it still answers every request without a token (checked by hand, and Chroma's issue 4965). So the
server here is a real `chroma run` behind a small reverse proxy that lets through only requests carrying the
token — the way a Chroma server is guarded in production — and records what each request presented.
"""

from __future__ import annotations

import http.client
import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import chromadb
import pytest
from pydantic import SecretStr

from portal.core.logs import SecretMaskingFilter
from portal.core.settings import Settings, describe_settings, load_settings
from portal.core.vector_index import ChromaRefused, chroma_client, vector_collection
from tests.conftest import free_port

TOKEN = "chroma-tok-4f9a2b7c1d"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class TokenGuard(BaseHTTPRequestHandler):
    """Forward to the Chroma server only requests presenting the token; answer 401 otherwise."""

    upstream_port: int
    seen: list[tuple[str | None, str | None]]

    def _forward(self) -> None:
        authorization, chroma_token = self.headers.get("Authorization"), self.headers.get("X-Chroma-Token")
        self.seen.append((authorization, chroma_token))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if TOKEN not in (chroma_token, (authorization or "").removeprefix("Bearer ")):
            return self._reply(401, {"content-type": "application/json"}, b'{"error":"Unauthorized"}')
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        self._reply(response.status, dict(response.getheaders()), response.read())
        upstream.close()

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def log_message(self, *_args) -> None:  # the test reads `seen`, not the console
        pass


@pytest.fixture(scope="module")
def guarded_chroma(tmp_path_factory) -> Iterator[tuple[int, list]]:
    """A real `chroma run` server behind the token guard; yields the guard's port and what it saw."""
    chroma_port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                                "--host", "127.0.0.1", "--port", str(chroma_port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_heartbeat(chroma_port)
        seen: list = []
        handler = type("Guard", (TokenGuard,), {"upstream_port": chroma_port, "seen": seen})
        with ThreadingHTTPServer(("127.0.0.1", 0), handler) as guard:
            threading.Thread(target=guard.serve_forever, daemon=True).start()
            yield guard.server_address[1], seen
            guard.shutdown()
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_heartbeat(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            return
        except Exception:  # not listening yet
            time.sleep(0.1)  # polling for start-up, not timing anything
    pytest.fail("chroma run did not start within 30 s")


def server_settings(port: int, **settings) -> Settings:
    return Settings(chroma_host="127.0.0.1", chroma_port=port, **settings)


@pytest.mark.parametrize("header", ["Authorization", "X-Chroma-Token"])
def test_the_configured_token_reaches_the_chroma_server_and_vectors_round_trip(guarded_chroma, header) -> None:
    port, seen = guarded_chroma
    seen.clear()
    client = chroma_client(server_settings(port, chroma_token=SecretStr(TOKEN), chroma_token_header=header))
    collection = vector_collection(client, name=f"token-{header.lower()}", space="test:2")
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["alpha", "beta"])
    found = collection.query(query_embeddings=[[0.9, 0.1]], n_results=1)
    assert found["documents"] == [["alpha"]]
    expected = (f"Bearer {TOKEN}", None) if header == "Authorization" else (None, TOKEN)
    assert seen and all(presented == expected for presented in seen), seen


@pytest.mark.parametrize("token", ["", "wrong-token-123"])
def test_without_the_right_token_the_guarded_server_refuses_the_portal(guarded_chroma, token: str) -> None:
    port, seen = guarded_chroma
    seen.clear()
    why = "its token (PORTAL_CHROMA_TOKEN) was not accepted" if token else "it needs a token (PORTAL_CHROMA_TOKEN)"
    with pytest.raises(ChromaRefused, match=re.escape(f"The Chroma server at 127.0.0.1:{port} refused the "
                                                      f"portal: {why}.")) as refused:
        chroma_client(server_settings(port, chroma_token=SecretStr(token)))
    assert token not in refused.value.message or not token
    assert seen and all(presented[0] in (None, f"Bearer {token}") for presented in seen)


def test_the_chroma_token_is_masked_in_the_settings_listing_and_the_log(monkeypatch, caplog) -> None:
    monkeypatch.setenv("PORTAL_CHROMA_TOKEN", TOKEN)
    settings = load_settings()
    listing = "\n".join(" ".join(row) for row in describe_settings(settings))
    assert TOKEN not in listing and "PORTAL_CHROMA_TOKEN ********" in listing
    caplog.handler.addFilter(SecretMaskingFilter(settings.secret_values))
    logging.getLogger("test.chroma").warning("Chroma refused token %s", TOKEN)
    assert TOKEN not in caplog.text and "Chroma refused token ********" in caplog.text
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
