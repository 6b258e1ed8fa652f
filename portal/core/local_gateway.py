"""The embedded default's model server: llama_cpp.server for chat, plus /v1/embeddings from all-MiniLM-L6-v2.

Run as `python -m portal.core.local_gateway` (model_server.py does). llama.cpp's own /v1/embeddings is no use for
retrieval with a chat model (per-token vectors, or a 500), and no GGUF of MiniLM ships in a package, so the
embeddings come from sentence-transformers, routed ahead of llama.cpp's routes in the same FastAPI app: one
OpenAI-compatible address serves both, as a central gateway does.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from portal.core.embeddings import EmbeddingsUnavailable, LocalEmbeddings, _local_model
from portal.core.model_server import LOCAL_EMBEDDING_MODEL

# all-MiniLM-L6-v2 was trained on 256-token inputs and truncates beyond that.
EMBEDDING_MAX_TOKENS = 256
MAX_INPUTS = 2048  # OpenAI's own limit on inputs per request


class _Embedder:
    """sentence-transformers, loaded on the first request: a portal that never embeds pays no 4 s or 800 MB."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def vectors_and_tokens(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """Normalised vectors for texts, and the tokens the model read (counted by its own tokenizer)."""
        model = _local_model()
        vectors = np.asarray(LocalEmbeddings().embed_documents(texts), dtype=np.float32)
        with self._lock:
            lengths = model.tokenizer(texts, truncation=True, max_length=EMBEDDING_MAX_TOKENS)["input_ids"]
        return vectors, sum(len(ids) for ids in lengths)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    """An error body in OpenAI's shape, so clients show the message."""
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def _inputs(body: Any) -> list[str] | str:
    """The texts of an embeddings request, or a message saying what is wrong with it."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    model, texts = body.get("model"), body.get("input")
    if not isinstance(model, str) or model.lower() != LOCAL_EMBEDDING_MODEL:
        return f"Model {model!r} serves no embeddings here; use {LOCAL_EMBEDDING_MODEL!r}."
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        return "'input' must be a string or a non-empty list of strings (token arrays are not accepted)."
    if len(texts) > MAX_INPUTS:
        return f"At most {MAX_INPUTS} inputs per request; this one has {len(texts)}."
    if body.get("encoding_format", "float") not in ("float", "base64"):
        return "'encoding_format' must be 'float' or 'base64'."
    return texts


def _encoded(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    """One vector as OpenAI sends it: floats, or base64 of little-endian float32 (the openai client's default)."""
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()


def add_embeddings(app: FastAPI, *, chat_model: str) -> None:
    """Serve /v1/embeddings (and list the embedding model in /v1/models) ahead of llama.cpp's own routes."""
    embedder = _Embedder()

    async def create_embeddings(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        texts = _inputs(body)
        if isinstance(texts, str):
            return _error(400, texts)
        encoding_format = body.get("encoding_format", "float")
        try:
            # In a worker thread: encoding takes a while, and chat requests must not wait behind it.
            vectors, tokens = await run_in_threadpool(embedder.vectors_and_tokens, texts)
        except EmbeddingsUnavailable as error:  # the 'local' extra is not installed
            return _error(503, str(error), "service_unavailable")
        data = [{"object": "embedding", "index": index, "embedding": _encoded(vector, encoding_format)}
                for index, vector in enumerate(vectors)]
        return JSONResponse({"object": "list", "data": data, "model": LOCAL_EMBEDDING_MODEL,
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    async def list_models() -> JSONResponse:
        models = [{"id": name, "object": "model", "owned_by": "me", "permissions": []}
                  for name in (chat_model, LOCAL_EMBEDDING_MODEL)]
        return JSONResponse({"object": "list", "data": models})

    app.add_api_route("/v1/embeddings", create_embeddings, methods=["POST"])
    app.add_api_route("/v1/models", list_models, methods=["GET"])
    # Routes match in order: move the two just added in front of llama.cpp's routes for the same paths.
    app.router.routes[:0] = [app.router.routes.pop(), app.router.routes.pop()]


def llama_response_format(body: dict) -> dict:
    """OpenAI's `{"type": "json_schema", "json_schema": {"schema": ...}}` in llama.cpp's spelling (json_object with
    a schema, enforced by a grammar): clients written for any OpenAI-compatible gateway get structured output."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return body
    schema = (response_format.get("json_schema") or {}).get("schema")
    spelled = {"type": "json_object", **({"schema": schema} if isinstance(schema, dict) else {})}
    return {**body, "response_format": spelled}


class StructuredOutput:
    """ASGI wrapper that rewrites a chat request's response_format before llama.cpp's app validates it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            raw = json.dumps(llama_response_format(json.loads(raw))).encode()
        except (ValueError, AttributeError):
            pass  # not a JSON object: llama.cpp's app answers with its own validation error
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # later messages, e.g. the client disconnecting
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)


def build_app(*, model_path: str, chat_model: str, n_ctx: int) -> Any:
    """llama_cpp.server's app for the chat model, with embeddings and OpenAI's structured-output spelling added."""
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    app = create_app(server_settings=ServerSettings(),
                     model_settings=[ModelSettings(model=model_path, model_alias=chat_model, n_ctx=n_ctx)])
    add_embeddings(app, chat_model=chat_model)
    return StructuredOutput(app)


def main(argv: list[str] | None = None) -> None:
    """Serve chat and embeddings on one port until interrupted."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Path to the chat model's GGUF file.")
    parser.add_argument("--model_alias", required=True, help="Name the chat model is served under.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n_ctx", type=int, default=2048)
    args = parser.parse_args(argv)
    app = build_app(model_path=args.model, chat_model=args.model_alias, n_ctx=args.n_ctx)
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
