"""A fake OpenAI-compatible gateway on 127.0.0.1 for the tests: deterministic, no network, no model."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMENSIONS = 64


def embed(text: str) -> list[float]:
    """A bag-of-words vector: texts sharing words point the same way, so retrieval works without a model."""
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def echo(messages: list[dict]) -> str:
    """The default answer: 'Echo: ' and the last user message."""
    return "Echo: " + next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


class FakeGateway:
    """Serves /v1/chat/completions and /v1/embeddings; `reply` decides the answer, `requests` records bodies."""

    def __init__(self, reply: Callable[[list[dict]], str] = echo) -> None:
        self.reply = reply
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        # Answer 400 to a request asking for structured output, as a gateway that does not offer it does.
        self.refuse_response_format = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeGateway:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        self.requests.append({"path": path, **body})
        if self.fail_with:
            return self.fail_with, {"error": {"message": "fake failure", "type": "server_error"}}
        if self.refuse_response_format and "response_format" in body:
            return 400, {"error": {"message": "response_format is not supported", "type": "invalid_request_error"}}
        if path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": embed(t)} for i, t in enumerate(inputs)]
            return 200, {"object": "list", "data": data, "model": body["model"],
                         "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}}
        text = self.reply(body["messages"])
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        return 200, {"id": "fake-1", "object": "chat.completion", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}],
                     "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                               "total_tokens": prompt_tokens + len(text.split())}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = gateway.answer(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler
