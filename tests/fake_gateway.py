"""A deterministic OpenAI-compatible server on 127.0.0.1 that tests can tell to fail.

    with FakeGateway() as gateway:
        client = GatewayClient(base_url=gateway.url)
        gateway.fail_next("429", retry_after="7")

Endpoints: GET /v1/models, POST /v1/chat/completions (streamed as server-sent events or not),
POST /v1/embeddings. The answer is always "Echo: " + the last user message, one word per chunk — except that a
last user message starting with "Reply verbatim: " is answered with the rest of it (for tests needing JSON).
Failure modes for fail_next / fail_always:
    "delay"         sleep `seconds` (default 5) before answering, or mid-stream after `after_chunks` chunks;
                    reset()/stop() cut the sleep short
    "401"           authentication error
    "404"           the requested model does not exist
    "429"           rate limited, with a Retry-After header (`retry_after`, default "7")
    "500"           internal server error
    "cut"           stream `after_chunks` chunks (default 2), then drop the connection mid-body;
                    `graceful=True` ends the body cleanly instead, still without finish_reason or [DONE]
    "invalid_json"  a body (or SSE data line) that is not JSON
    "html"          200 with a text/html page, as when the URL points at a website instead of the API
    "error_event"   stream `after_chunks` chunks (default 2), then an SSE error event (as LiteLLM sends)
A failure given `only_path="/chat/completions"` waits for a request to that path.
Also settable: `chunk_delay_s` (pause before each streamed chunk), `send_usage = False` (never send a usage
chunk, like llama_cpp.server), `models`. Every request is recorded in `requests` / `last_request`.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import math
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODELS = ("fake-small", "fake-large")
EMBEDDING_DIMENSIONS = 16
VERBATIM = "Reply verbatim: "
FAILURE_MODES = ("delay", "401", "404", "429", "500", "cut", "invalid_json", "html", "error_event")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake gateway received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Failure:
    """A failure the fake gateway is to act out, with its options."""

    mode: str
    options: dict[str, Any] = field(default_factory=dict)


def embedding_for(text: str) -> list[float]:
    """The fake's deterministic unit vector for a text (derived from its SHA-256)."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(byte - 127.5) / 127.5 for byte in digest[:EMBEDDING_DIMENSIONS]]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def answer_words(messages: list[dict[str, Any]]) -> list[str]:
    """The echo answer split into the pieces the fake streams (each word keeps its leading space)."""
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = str(last_user.get("content") or "")
    answer = content.removeprefix(VERBATIM) if content.startswith(VERBATIM) else f"Echo: {content}"
    words = answer.split() or [""]
    return [words[0]] + [f" {word}" for word in words[1:]]


def count_words(messages: list[dict[str, Any]]) -> int:
    """The fake's 'prompt tokens': one per whitespace-separated word of every message."""
    return sum(len(str(m.get("content") or "").split()) for m in messages)


class FakeGateway:
    """The server: start()/stop() or a with-block; `.url` is the base URL ending in /v1."""

    def __init__(self, *, models: tuple[str, ...] = DEFAULT_MODELS, required_api_key: str | None = None):
        self.models = list(models)
        self.required_api_key = required_api_key
        self.chunk_delay_s = 0.0
        # False acts like llama_cpp.server, which ignores include_usage; embeddings then come without usage too.
        self.send_usage = True
        self.requests: list[RecordedRequest] = []
        self._failures: list[Failure] = []
        self._always: Failure | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL for an OpenAI client, e.g. http://127.0.0.1:54321/v1."""
        if self._server is None:
            raise RuntimeError("FakeGateway is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request received."""
        if not self.requests:
            raise AssertionError("the fake gateway has received no request")
        return self.requests[-1]

    def start(self) -> FakeGateway:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        handler = type("BoundHandler", (_Handler,), {"gateway": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # so stop() returns quickly
        self._thread = threading.Thread(target=serve, name="fake-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wake any handler that is acting out a delay."""
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_open_connections()  # else pooled keep-alive connections would still be served
            self._server = None

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, mode: str, **options: Any) -> None:
        """Act out `mode` on the next request only (calls queue up)."""
        with self._lock:
            self._failures.append(_checked(Failure(mode, options)))

    def fail_always(self, mode: str, **options: Any) -> None:
        """Act out `mode` on every request until reset()."""
        with self._lock:
            self._always = _checked(Failure(mode, options))

    def reset(self) -> None:
        """Forget failures, recorded requests and tweaks; cut short any delay in progress."""
        self._wake.set()
        with self._lock:
            self._failures.clear()
            self._always = None
            self.requests.clear()
        self.models = list(DEFAULT_MODELS)
        self.chunk_delay_s = 0.0
        self.send_usage = True
        self._wake = threading.Event()

    def _take_failure(self, path: str) -> Failure | None:
        """The failure for a request to `path`; one given `only_path=` waits for a request to that path."""
        with self._lock:
            for index, failure in enumerate(self._failures):
                wanted = failure.options.get("only_path")
                if wanted is None or path.endswith(wanted):
                    return self._failures.pop(index)
            return self._always

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def _checked(failure: Failure) -> Failure:
    if failure.mode not in FAILURE_MODES:
        raise ValueError(f"unknown failure mode {failure.mode!r}; choose from {FAILURE_MODES}")
    return failure


def _error_body(message: str, *, type_: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class _QuietServer(ThreadingHTTPServer):
    """Ignores clients that hang up; tracks connections so stop() also ends keep-alive ones."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_connections: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        for connection in list(self.open_connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # the client hung up, e.g. after its timeout
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Serves one connection; HTTP/1.1 so clients keep connections alive like with a real gateway."""

    gateway: FakeGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle(body=None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._send_json(400, _error_body("request body is not JSON", type_="invalid_request_error"))
            return
        self._handle(body=body)

    def _handle(self, *, body: Any) -> None:
        gateway = self.gateway
        headers = {name.lower(): value for name, value in self.headers.items()}
        gateway._record(RecordedRequest(self.command, self.path, headers, body))
        failure = gateway._take_failure(self.path)
        if failure and failure.mode == "delay" and "after_chunks" not in failure.options:
            gateway._wake.wait(float(failure.options.get("seconds", 5.0)))
            failure = None
        if failure and self._act_out_status_failure(failure, body):
            return
        if not self._authorized():
            return
        route = {
            ("GET", "/v1/models"): self._models,
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/embeddings"): self._embeddings,
        }.get((self.command, self.path.split("?")[0]))
        if route is None:
            self._send_json(404, _error_body(f"no route {self.command} {self.path}", type_="invalid_request_error"))
            return
        route(body or {}, failure)

    def _authorized(self) -> bool:
        required = self.gateway.required_api_key
        if required is None or self.headers.get("Authorization") == f"Bearer {required}":
            return True
        self._send_json(401, _error_body("Incorrect API key provided.", type_="invalid_request_error",
                                         code="invalid_api_key"))
        return False

    def _act_out_status_failure(self, failure: Failure, body: Any) -> bool:
        """Answer with the failure's HTTP error, if it is one; True when answered."""
        model = (body or {}).get("model", "unknown") if isinstance(body, dict) else "unknown"
        if failure.mode == "401":
            self._send_json(401, _error_body("Incorrect API key provided.", type_="invalid_request_error",
                                             code="invalid_api_key"))
        elif failure.mode == "404":
            self._model_not_found(model)
        elif failure.mode == "429":
            headers = {"Retry-After": str(failure.options.get("retry_after", "7"))}
            self._send_json(429, _error_body("Rate limit reached for requests.", type_="requests",
                                             code="rate_limit_exceeded"), headers=headers)
        elif failure.mode == "500":
            self._send_json(500, _error_body("The server had an error while processing your request.",
                                             type_="server_error"))
        elif failure.mode == "html":
            self._send_raw(200, b"<html><body>Sign in to continue</body></html>", "text/html; charset=utf-8")
        else:
            return False
        return True

    def _model_not_found(self, model: str) -> None:
        self._send_json(404, _error_body(f"The model `{model}` does not exist or you do not have access to it.",
                                         type_="invalid_request_error", code="model_not_found", param="model"))

    def _models(self, body: dict, failure: Failure | None) -> None:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake-gateway"} for m in self.gateway.models]
        self._send_body_or_failure({"object": "list", "data": data}, failure)

    def _embeddings(self, body: dict, failure: Failure | None) -> None:
        if body.get("model") not in self.gateway.models:
            self._model_not_found(str(body.get("model")))
            return
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        as_base64 = body.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i, "embedding": _encode(embedding_for(t), as_base64)}
                for i, t in enumerate(texts)]
        tokens = sum(len(t.split()) for t in texts)
        answer = {"object": "list", "data": data, "model": body["model"]}
        if self.gateway.send_usage:
            answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        self._send_body_or_failure(answer, failure)

    def _chat(self, body: dict, failure: Failure | None) -> None:
        model = body.get("model")
        if model not in self.gateway.models:
            self._model_not_found(str(model))
            return
        messages = body.get("messages") or []
        words = answer_words(messages)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        finish = "length" if max_tokens and len(words) > max_tokens else "stop"
        words = words[:max_tokens] if max_tokens else words
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream_chat(model, words, finish, count_words(messages), include_usage, failure)
            return
        usage = {"prompt_tokens": count_words(messages), "completion_tokens": len(words),
                 "total_tokens": count_words(messages) + len(words)}
        completion = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                      "model": model, "usage": usage,
                      "choices": [{"index": 0, "finish_reason": finish,
                                   "message": {"role": "assistant", "content": "".join(words)}}]}
        self._send_body_or_failure(completion, failure)

    def _stream_chat(self, model: str, words: list[str], finish: str, prompt_tokens: int,
                     include_usage: bool, failure: Failure | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if failure and failure.mode == "invalid_json":
            self._write_chunk(b'data: {"id": "chatcmpl-fake", "choices": [\n\n')
            self._end_chunked()
            return
        mid_stream = failure and failure.mode in ("cut", "delay", "error_event")
        stop_after = int(failure.options.get("after_chunks", 2)) if mid_stream else None
        events = _chat_events(model, words, finish, prompt_tokens, include_usage and self.gateway.send_usage)
        for i, event in enumerate(events):
            if i == stop_after and self._act_out_mid_stream(failure):
                return
            if self.gateway.chunk_delay_s:
                time.sleep(self.gateway.chunk_delay_s)
            self._write_chunk(b"data: " + event + b"\n\n")
        self._end_chunked()

    def _act_out_mid_stream(self, failure: Failure) -> bool:
        """Stall, send an error event, or cut the stream; True when the stream is over."""
        if failure.mode == "delay":
            self.gateway._wake.wait(float(failure.options.get("seconds", 5.0)))
            return False
        if failure.mode == "error_event":
            error = _error_body("The backend model is overloaded.", type_="server_error")
            self._write_chunk(b"data: " + json.dumps(error).encode() + b"\n\n")
            self._end_chunked()
        else:
            self._cut(graceful=bool(failure.options.get("graceful", False)))
        return True

    def _cut(self, *, graceful: bool) -> None:
        """Stop streaming: end the body cleanly (graceful) or drop the connection mid-body."""
        if graceful:
            self._end_chunked()
        else:
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _send_body_or_failure(self, payload: dict, failure: Failure | None) -> None:
        if failure and failure.mode == "invalid_json":
            self._send_raw(200, b'{"object": "list", "data": [', "application/json")
        elif failure and failure.mode == "cut":
            raw = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2])
            self._cut(graceful=False)
        else:
            self._send_json(200, payload)

    def _send_json(self, status: int, payload: dict, *, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers=headers)

    def _send_raw(self, status: int, raw: bytes, content_type: str, *, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _chat_events(model: str, words: list[str], finish: str, prompt_tokens: int, include_usage: bool) -> list[bytes]:
    """The SSE data payloads of one streamed answer, in OpenAI's chunk format."""
    def chunk(delta: dict, finish_reason: str | None = None, *, choices: bool = True, usage: dict | None = None):
        payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}] if choices else []}
        if usage is not None:
            payload["usage"] = usage
        return json.dumps(payload).encode()

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": word}) for word in words]
    events.append(chunk({}, finish))
    if include_usage:
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                 "total_tokens": prompt_tokens + len(words)}
        events.append(chunk({}, choices=False, usage=usage))
    events.append(b"[DONE]")
    return events


def _encode(vector: list[float], as_base64: bool) -> list[float] | str:
    if not as_base64:
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
