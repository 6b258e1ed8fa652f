"""OpenAI-compatible client for the central AI gateway: models, streamed chat, embeddings, typed errors."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import openai

from portal.core.gateway_errors import (
    GatewayAuthError,
    GatewayBadResponse,
    GatewayError,
    GatewayModelNotFound,
    GatewayRateLimited,
    GatewayServerError,
    GatewayStreamInterrupted,
    GatewayTimeout,
    GatewayUnreachable,
    retry_after_seconds,
)
from portal.core.settings import Settings

# Local servers (llama_cpp.server, Ollama) ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"
# Without a usage chunk we estimate prompt tokens as characters / 4, OpenAI's rule of thumb for English.
CHARS_PER_TOKEN_ESTIMATE = 4

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """Who a request is made for, passed on so the gateway can attribute usage."""

    email: str
    team: str | None = None
    department: str | None = None


@dataclass(frozen=True)
class GatewayModel:
    """A model the gateway serves."""

    id: str
    owned_by: str | None = None


@dataclass(frozen=True)
class ChatResult:
    """A finished answer with its token counts and timings."""

    model: str
    text: str
    tokens_in: int
    tokens_out: int
    usage_reported: bool  # False: the gateway sent no usage, so tokens were counted (out) and estimated (in)
    time_to_first_token_s: float | None
    total_time_s: float
    finish_reason: str | None

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second of generation, i.e. after the first token arrived."""
        generating_s = self.total_time_s - (self.time_to_first_token_s or 0.0)
        if self.tokens_out <= 0 or generating_s <= 0:
            return None
        return self.tokens_out / generating_s


@dataclass(frozen=True)
class MeasuredEmbeddings:
    """Vectors, one per text, and the input tokens the gateway counted for them (None: it did not say)."""

    vectors: list[list[float]]
    prompt_tokens: int | None


@dataclass(frozen=True)
class GatewayStatus:
    """Whether the gateway answers, and which models it lists."""

    url: str
    reachable: bool
    models: list[GatewayModel]
    error: str | None = None


def estimate_prompt_tokens(messages: list[dict[str, str]]) -> int:
    """Rough prompt size in tokens (characters / 4, rounded up) for when the gateway reports no usage."""
    chars = sum(len(str(message.get("content") or "")) for message in messages)
    return math.ceil(chars / CHARS_PER_TOKEN_ESTIMATE)


@dataclass
class _Tally:
    """What a stream has delivered so far."""

    started: float
    pieces: list[str] = field(default_factory=list)
    chunks: int = 0
    content_chunks: int = 0
    first_token_s: float | None = None
    finish_reason: str | None = None
    usage: Any = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def add(self, chunk: Any) -> str:
        """Take in one chunk; return its text delta ('' when it carries none)."""
        self.chunks += 1
        if getattr(chunk, "usage", None):  # the last usage wins: some servers send running totals
            self.usage = chunk.usage
        delta = ""
        for choice in getattr(chunk, "choices", None) or []:
            delta += (getattr(choice.delta, "content", None) or "") if choice.delta else ""
            self.finish_reason = choice.finish_reason or self.finish_reason
        if delta:
            self.pieces.append(delta)
            self.content_chunks += 1
            if self.first_token_s is None:
                self.first_token_s = time.perf_counter() - self.started
        return delta


class ChatStream:
    """Iterate to get text deltas; afterwards `.result` is the ChatResult."""

    def __init__(self, sdk_stream: Any, *, model: str, messages: list[dict[str, str]], started: float,
                 translate: Callable[[Exception, str], GatewayError]) -> None:
        self._sdk_stream = sdk_stream
        self._model = model
        self._prompt_estimate = estimate_prompt_tokens(messages)
        self._tally = _Tally(started=started)
        self._translate = translate
        self._iterated = False
        self._result: ChatResult | None = None

    @property
    def result(self) -> ChatResult:
        """The finished answer; only there once iteration has reached the end of the stream."""
        if self._result is None:
            raise RuntimeError("ChatStream.result is only available after iterating the stream to its end "
                               "(it is still streaming, was closed early, or failed)")
        return self._result

    def __iter__(self) -> Iterator[str]:
        if self._iterated:
            raise RuntimeError("a ChatStream can be iterated only once; read .result for the answer")
        self._iterated = True
        return self._deltas()

    def close(self) -> None:
        """Stop reading and release the connection (when the reader gives up early)."""
        self._sdk_stream.close()

    def _deltas(self) -> Iterator[str]:
        tally = self._tally
        try:
            for chunk in self._sdk_stream:
                delta = tally.add(chunk)
                if delta:
                    yield delta
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise self._translate(exc, tally.text) from exc
        finally:
            self._sdk_stream.close()
        if tally.finish_reason is None:  # the SDK ends quietly when the body ends early; only finish_reason tells
            content_type = self._sdk_stream.response.headers.get("content-type", "")
            raise self._translate(_EndedEarly(content_type, tally.chunks), tally.text)
        self._result = self._finish()

    def _finish(self) -> ChatResult:
        tally, usage = self._tally, self._tally.usage
        return ChatResult(
            model=self._model,
            text=tally.text,
            tokens_in=usage.prompt_tokens if usage else self._prompt_estimate,
            tokens_out=usage.completion_tokens if usage else tally.content_chunks,
            usage_reported=usage is not None,
            time_to_first_token_s=tally.first_token_s,
            total_time_s=time.perf_counter() - tally.started,
            finish_reason=tally.finish_reason,
        )


class _EndedEarly(Exception):
    """The stream's body ended without a finish_reason; args: the response's content type, chunks received."""


class GatewayClient:
    """Talks to the central AI gateway (or any OpenAI-compatible server) on the portal's behalf."""

    def __init__(self, *, base_url: str, api_key: str | None = None, timeout_s: float = 30.0, max_retries: int = 0,
                 team_header: str = "x-portal-team", user_header: str = "x-portal-user") -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._team_header = team_header
        self._user_header = user_header
        # The timeout bounds connecting and each read, so in a stream it is the longest allowed silence.
        self._client = openai.OpenAI(base_url=self._base_url, api_key=api_key or PLACEHOLDER_API_KEY,
                                     timeout=timeout_s, max_retries=max_retries)

    @property
    def base_url(self) -> str:
        """The gateway's base URL, e.g. https://ai-gateway.example.com/v1."""
        return self._base_url

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def list_models(self) -> list[GatewayModel]:
        """The models the gateway serves, sorted by id."""
        page = self._call(lambda: self._parsed(self._client.models.with_raw_response.list()), model=None)
        return sorted((GatewayModel(id=m.id, owned_by=getattr(m, "owned_by", None)) for m in page.data),
                      key=lambda m: m.id)

    def status(self) -> GatewayStatus:
        """Whether the gateway answers and what it lists; never raises."""
        try:
            models = self.list_models()
        except GatewayError as exc:
            # An auth or server error still means something answered at that address.
            reachable = not isinstance(exc, (GatewayUnreachable, GatewayTimeout))
            return GatewayStatus(url=self._base_url, reachable=reachable, models=[], error=exc.message)
        return GatewayStatus(url=self._base_url, reachable=True, models=models)

    def stream_chat(self, *, model: str, messages: list[dict[str, str]], caller: Caller | None = None,
                    temperature: float | None = None, top_p: float | None = None,
                    max_tokens: int | None = None) -> ChatStream:
        """Start a streamed answer; HTTP errors raise here, errors mid-answer raise while iterating."""
        options = {name: value for name, value in
                   (("temperature", temperature), ("top_p", top_p), ("max_tokens", max_tokens)) if value is not None}
        started = time.perf_counter()
        sdk_stream = self._call(lambda: self._client.chat.completions.create(
            model=model, messages=messages, stream=True, stream_options={"include_usage": True},
            **options, **self._identity(caller)), model=model)
        return ChatStream(sdk_stream, model=model, messages=messages, started=started,
                          translate=lambda exc, partial: self._translate_stream_error(exc, model, partial))

    def chat(self, *, model: str, messages: list[dict[str, str]], caller: Caller | None = None,
             temperature: float | None = None, top_p: float | None = None,
             max_tokens: int | None = None) -> ChatResult:
        """A whole answer at once (streamed underneath, so timings are measured the same way)."""
        stream = self.stream_chat(model=model, messages=messages, caller=caller, temperature=temperature,
                                  top_p=top_p, max_tokens=max_tokens)
        for _ in stream:
            pass
        return stream.result

    def embed(self, *, model: str, texts: list[str], caller: Caller | None = None) -> list[list[float]]:
        """One embedding vector per text, in the order given."""
        return self.embed_measured(model=model, texts=texts, caller=caller).vectors

    def embed_measured(self, *, model: str, texts: list[str], caller: Caller | None = None) -> MeasuredEmbeddings:
        """`embed`, with the input tokens the gateway reports (None when it reports none)."""
        if not texts:
            return MeasuredEmbeddings(vectors=[], prompt_tokens=0)
        # Ask for floats: base64, the SDK's default, is not implemented by every OpenAI-compatible server.
        response = self._call(lambda: self._parsed(self._client.embeddings.with_raw_response.create(
            model=model, input=texts, encoding_format="float", **self._identity(caller))), model=model)
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if len(vectors) != len(texts):
            raise GatewayBadResponse(f"The AI gateway at {self._base_url} returned {len(vectors)} embeddings "
                                     f"for {len(texts)} texts from model '{model}'.")
        usage = getattr(response, "usage", None)
        return MeasuredEmbeddings(vectors=vectors, prompt_tokens=getattr(usage, "prompt_tokens", None))

    def _identity(self, caller: Caller | None) -> dict[str, Any]:
        """Request fields naming the caller: `user` for OpenAI, headers for gateways (LiteLLM strips `user`)."""
        if caller is None:
            return {}
        headers = {self._user_header: _header_value(caller.email)}
        if caller.team:
            headers[self._team_header] = _header_value(caller.team)
        return {"user": caller.email, "extra_headers": headers}

    def _call(self, request: Callable[[], T], *, model: str | None) -> T:
        """Run one SDK request, turning its exceptions into GatewayErrors."""
        try:
            return request()
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise self._translate(exc, model=model) from exc

    def _translate(self, exc: Exception, *, model: str | None) -> GatewayError:
        """The GatewayError a person can act on for an SDK exception."""
        url = self._base_url
        if isinstance(exc, openai.APITimeoutError):
            return GatewayTimeout(f"The AI gateway at {url} did not answer within {self._timeout_s:g} s. "
                                  "It may be busy: try again in a moment.")
        if isinstance(exc, openai.APIConnectionError):
            return GatewayUnreachable(f"No answer from the AI gateway at {url}{_cause(exc)}. Check that it is "
                                      "running and that the portal's gateway URL setting is right.")
        if isinstance(exc, openai.APIStatusError):
            return self._translate_status(exc, model=model)
        if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError)):
            return GatewayBadResponse(f"The AI gateway at {url} sent a response the portal cannot read "
                                      f"({self._scrub(str(exc))}). Check that the URL points at an "
                                      "OpenAI-compatible API (it usually ends in /v1).")
        return GatewayServerError(f"The AI gateway at {url} reported an error: {self._scrub(str(exc))}")

    def _translate_status(self, exc: openai.APIStatusError, *, model: str | None) -> GatewayError:
        """The GatewayError for an HTTP error status."""
        url, code, said = self._base_url, exc.status_code, self._server_message(exc)
        if code in (401, 403):
            return GatewayAuthError(f"The AI gateway at {url} refused the request (HTTP {code}: {said}). "
                                    "Ask the CoE team to check the portal's gateway API key and your access.")
        if code == 404 and model is not None:
            return GatewayModelNotFound(f"The AI gateway at {url} has no model '{model}'. Pick a model the "
                                        "gateway lists, or ask the CoE team to enable it.")
        if code == 404:
            return GatewayError(f"The AI gateway at {url} answered 404 Not Found. Check that the gateway URL "
                                "is right (it usually ends in /v1).")
        if code == 429:
            retry_after_s = retry_after_seconds(exc.response.headers)
            wait = f"in {retry_after_s:.0f} s" if retry_after_s is not None else "in a minute"
            return GatewayRateLimited(f"The AI gateway at {url} is rate-limiting requests ({said}). Try again "
                                      f"{wait}.", retry_after_s=retry_after_s)
        if code >= 500:
            return GatewayServerError(f"The AI gateway at {url} had an internal error (HTTP {code}: {said}). "
                                      "Try again; if it keeps happening, tell the CoE team.")
        return GatewayError(f"The AI gateway at {url} rejected the request (HTTP {code}: {said}).")

    def _translate_stream_error(self, exc: Exception, model: str, partial_text: str) -> GatewayError:
        """The GatewayError for a failure after the answer started streaming."""
        if isinstance(exc, _EndedEarly):
            return self._ended_early_error(exc, model, partial_text)
        if isinstance(exc, openai.APITimeoutError):
            return self._interrupted(model, f"sent nothing for {self._timeout_s:g} s", partial_text)
        if isinstance(exc, openai.APIConnectionError):
            return self._interrupted(model, f"dropped the connection{_cause(exc)}", partial_text)
        if type(exc) is openai.APIError:  # an error event in the stream (LiteLLM sends these)
            return self._interrupted(model, f"reported an error ({self._scrub(exc.message)})", partial_text)
        return self._translate(exc, model=model)

    def _ended_early_error(self, exc: _EndedEarly, model: str, partial_text: str) -> GatewayError:
        """The GatewayError for a response body that ended without a finish_reason."""
        content_type, chunks = exc.args
        if chunks == 0 and "event-stream" not in content_type:
            return self._not_json_error(content_type, expected="an event stream")
        if chunks == 0:  # llama_cpp.server answers a prompt longer than its context window with an empty stream
            return GatewayStreamInterrupted(
                f"The AI gateway at {self._base_url} accepted the request for '{model}' but sent no answer at all. "
                "If the conversation is long, it may not fit the model's context window: shorten it or start anew.")
        return self._interrupted(model, "ended the response without saying the answer was complete", partial_text)

    def _interrupted(self, model: str, why: str, partial_text: str) -> GatewayStreamInterrupted:
        advice = "The text so far is kept; try again." if partial_text else "Try again."
        return GatewayStreamInterrupted(f"The answer from '{model}' stopped before it was finished: the AI gateway "
                                        f"at {self._base_url} {why}. {advice}", partial_text=partial_text)

    def _parsed(self, raw: Any) -> Any:
        """The parsed body of a raw SDK response; the SDK would hand a non-JSON body back as a str."""
        content_type = raw.headers.get("content-type", "")
        if "json" not in content_type:
            raise self._not_json_error(content_type, expected="JSON")
        return raw.parse()

    def _not_json_error(self, content_type: str, *, expected: str) -> GatewayBadResponse:
        """The error for a web page (or anything else) where the API should have answered."""
        got = content_type or "no content type"
        return GatewayBadResponse(f"The AI gateway at {self._base_url} answered with {got} instead of {expected}. "
                                  "Check that the URL points at an OpenAI-compatible API (it usually ends in /v1).")

    def _server_message(self, exc: openai.APIStatusError) -> str:
        """The gateway's own error message, without the API key, if it echoed it."""
        body = exc.body if isinstance(exc.body, Mapping) else {}
        message = body.get("message") or exc.response.reason_phrase or "no details"
        return self._scrub(str(message))[:300]

    def _scrub(self, text: str) -> str:
        """Text with the API key masked, so messages shown to people never contain it."""
        return text.replace(self._api_key, "***") if self._api_key else text


def _cause(exc: Exception) -> str:
    """' (<low-level reason>)' from the exception that caused exc, or ''."""
    cause = exc.__cause__ or exc.__context__
    return f" ({cause})" if cause and str(cause) else ""


def _header_value(value: str) -> str:
    """A header-safe value: HTTP headers carry ASCII, so other characters are percent-encoded."""
    return value if value.isascii() else quote(value, safe=" @.-_+")


def gateway_for(settings: Settings) -> GatewayClient:
    """The client for the gateway the settings name (or the local model server), with its key and headers."""
    return GatewayClient(base_url=settings.effective_gateway_url,
                         api_key=settings.gateway_api_key.get_secret_value() or None,
                         timeout_s=settings.gateway_timeout_s, max_retries=settings.gateway_max_retries,
                         team_header=settings.gateway_team_header, user_header=settings.gateway_user_header)
