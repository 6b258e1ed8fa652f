"""GatewayClient against the fake OpenAI-compatible gateway: answers, identity, usage and every failure."""

import math
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from portal.core.gateway import (
    Caller,
    ChatResult,
    GatewayAuthError,
    GatewayBadResponse,
    GatewayClient,
    GatewayError,
    GatewayModelNotFound,
    GatewayRateLimited,
    GatewayServerError,
    GatewayStreamInterrupted,
    GatewayTimeout,
    GatewayUnreachable,
    retry_after_seconds,
)
from tests.fake_gateway import FakeGateway, embedding_for

HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello brave world"}]
SHORT_TIMEOUT_S = 0.3


@pytest.fixture
def client(fake_gateway: FakeGateway) -> GatewayClient:
    return GatewayClient(base_url=fake_gateway.url, timeout_s=5.0)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_list_models_returns_the_gateways_models_sorted(client, fake_gateway):
    fake_gateway.models = ["zeta-7b", "alpha-1b"]

    models = client.list_models()

    assert [m.id for m in models] == ["alpha-1b", "zeta-7b"]
    assert models[0].owned_by == "fake-gateway"


def test_status_of_a_running_gateway_lists_its_models(client, fake_gateway):
    status = client.status()

    assert status.reachable is True
    assert status.error is None
    assert status.url == fake_gateway.url
    assert [m.id for m in status.models] == ["fake-large", "fake-small"]


def test_status_of_a_closed_port_is_unreachable_and_names_the_url():
    url = closed_port_url()

    status = GatewayClient(base_url=url, timeout_s=2.0).status()

    assert status.reachable is False
    assert status.models == []
    assert url in status.error
    assert "running" in status.error


def test_stream_yields_words_then_a_result_with_the_gateways_usage(client, fake_gateway):
    stream = client.stream_chat(model="fake-small", messages=HELLO)

    deltas = list(stream)

    assert deltas == ["Echo:", " hello", " brave", " world"]
    result = stream.result
    assert result.text == "Echo: hello brave world"
    assert result.model == "fake-small"
    assert result.finish_reason == "stop"
    assert (result.tokens_in, result.tokens_out, result.usage_reported) == (5, 4, True)  # the fake counts words
    assert 0 < result.time_to_first_token_s <= result.total_time_s
    assert result.tokens_per_second > 0
    assert fake_gateway.last_request.body["stream_options"] == {"include_usage": True}


def test_without_a_usage_chunk_tokens_are_counted_and_estimated(client, fake_gateway):
    fake_gateway.send_usage = False  # as llama_cpp.server does

    result = client.chat(model="fake-small", messages=HELLO)

    prompt_chars = len("Be brief.") + len("hello brave world")
    assert result.usage_reported is False
    assert result.tokens_out == 4  # one per content-bearing chunk
    assert result.tokens_in == math.ceil(prompt_chars / 4)


def test_result_is_refused_until_the_stream_has_finished(client):
    stream = client.stream_chat(model="fake-small", messages=HELLO)
    with pytest.raises(RuntimeError, match="after iterating"):
        stream.result

    deltas = iter(stream)
    next(deltas)
    with pytest.raises(RuntimeError, match="after iterating"):
        stream.result

    stream.close()
    assert client.chat(model="fake-small", messages=HELLO).text == "Echo: hello brave world"


def test_a_stream_can_be_read_only_once(client):
    stream = client.stream_chat(model="fake-small", messages=HELLO)
    list(stream)

    with pytest.raises(RuntimeError, match="only once"):
        iter(stream)
    assert stream.result.text == "Echo: hello brave world"


def test_sampling_options_are_sent_only_when_given(client, fake_gateway):
    client.chat(model="fake-small", messages=HELLO)
    assert not {"temperature", "top_p", "max_tokens"} & fake_gateway.last_request.body.keys()

    result = client.chat(model="fake-large", messages=HELLO, temperature=0.2, top_p=0.9, max_tokens=2)

    body = fake_gateway.last_request.body
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 2)
    assert (result.text, result.finish_reason) == ("Echo: hello", "length")


def test_caller_identity_goes_in_the_user_field_and_headers(client, fake_gateway):
    client.chat(model="fake-small", messages=HELLO, caller=Caller(email="ana@example.com", team="Risk"))

    request = fake_gateway.last_request
    assert request.body["user"] == "ana@example.com"
    assert request.headers["x-portal-user"] == "ana@example.com"
    assert request.headers["x-portal-team"] == "Risk"


def test_header_names_are_configurable_and_team_is_optional(fake_gateway):
    client = GatewayClient(base_url=fake_gateway.url, user_header="x-user-email", team_header="x-cost-centre")

    client.embed(model="fake-small", texts=["a"], caller=Caller(email="bo@example.com"))

    request = fake_gateway.last_request
    assert request.body["user"] == "bo@example.com"
    assert request.headers["x-user-email"] == "bo@example.com"
    assert "x-cost-centre" not in request.headers


def test_a_non_ascii_team_name_is_percent_encoded_in_its_header(client, fake_gateway):
    client.chat(model="fake-small", messages=HELLO, caller=Caller(email="lé@example.com", team="Données"))

    request = fake_gateway.last_request
    assert request.headers["x-portal-team"] == "Donn%C3%A9es"
    assert request.body["user"] == "lé@example.com"  # the JSON body carries it unchanged


def test_without_a_caller_no_identity_is_sent(client, fake_gateway):
    client.chat(model="fake-small", messages=HELLO)

    request = fake_gateway.last_request
    assert "user" not in request.body
    assert "x-portal-user" not in request.headers


def test_embed_returns_one_unit_vector_per_text_in_order(client, fake_gateway):
    vectors = client.embed(model="fake-small", texts=["first text", "second text"])

    assert vectors == [pytest.approx(embedding_for("first text")), pytest.approx(embedding_for("second text"))]
    assert all(len(v) == 16 and math.isclose(math.hypot(*v), 1.0) for v in vectors)
    assert fake_gateway.last_request.body["encoding_format"] == "float"


def test_embedding_nothing_sends_no_request(client, fake_gateway):
    assert client.embed(model="fake-small", texts=[]) == []
    assert fake_gateway.requests == []


def test_the_api_key_is_sent_and_never_shown_in_error_messages():
    with FakeGateway(required_api_key="right-key") as gateway:
        assert GatewayClient(base_url=gateway.url, api_key="right-key").list_models()
        assert gateway.last_request.headers["authorization"] == "Bearer right-key"

        with pytest.raises(GatewayAuthError) as caught:
            GatewayClient(base_url=gateway.url, api_key="sk-wrong-secret").list_models()

    assert "401" in caught.value.message
    assert "sk-wrong-secret" not in caught.value.message


def test_without_an_api_key_a_placeholder_is_sent(client, fake_gateway):
    client.list_models()

    assert fake_gateway.last_request.headers["authorization"] == "Bearer not-needed"


def test_an_unknown_model_is_named_in_the_error(client):
    with pytest.raises(GatewayModelNotFound, match="'gpt-nonexistent'"):
        client.stream_chat(model="gpt-nonexistent", messages=HELLO)


def stream_answer(client: GatewayClient) -> str:
    return "".join(client.stream_chat(model="fake-small", messages=HELLO))


def list_models(client: GatewayClient) -> object:
    return client.list_models()


def embed(client: GatewayClient) -> object:
    return client.embed(model="fake-small", texts=["x"])


FAILURES = [
    # mode, options, operation, expected error, words the message must contain
    ("delay", {}, stream_answer, GatewayTimeout, ["did not answer within 0.3 s"]),
    ("delay", {}, list_models, GatewayTimeout, ["did not answer within 0.3 s"]),
    ("delay", {}, embed, GatewayTimeout, ["did not answer within 0.3 s"]),
    ("401", {}, stream_answer, GatewayAuthError, ["HTTP 401", "API key"]),
    ("401", {}, list_models, GatewayAuthError, ["HTTP 401", "API key"]),
    ("404", {}, stream_answer, GatewayModelNotFound, ["'fake-small'"]),
    ("404", {}, embed, GatewayModelNotFound, ["'fake-small'"]),
    ("404", {}, list_models, GatewayError, ["404", "/v1"]),
    ("429", {"retry_after": "12"}, stream_answer, GatewayRateLimited, ["Try again in 12 s"]),
    ("429", {}, embed, GatewayRateLimited, ["Try again in 7 s"]),
    ("500", {}, stream_answer, GatewayServerError, ["HTTP 500", "Try again"]),
    ("500", {}, list_models, GatewayServerError, ["HTTP 500"]),
    ("cut", {}, stream_answer, GatewayStreamInterrupted, ["stopped before it was finished", "dropped", "try again"]),
    ("cut", {"graceful": True}, stream_answer, GatewayStreamInterrupted, ["without saying the answer was complete"]),
    ("cut", {"after_chunks": 0, "graceful": True}, stream_answer, GatewayStreamInterrupted,
     ["sent no answer at all", "context window", "'fake-small'"]),
    ("cut", {}, embed, GatewayUnreachable, ["No answer"]),
    ("delay", {"after_chunks": 3}, stream_answer, GatewayStreamInterrupted, ["sent nothing for 0.3 s"]),
    ("error_event", {}, stream_answer, GatewayStreamInterrupted, ["reported an error", "overloaded", "kept"]),
    ("invalid_json", {}, stream_answer, GatewayBadResponse, ["cannot read", "OpenAI-compatible"]),
    ("invalid_json", {}, list_models, GatewayBadResponse, ["cannot read"]),
    ("invalid_json", {}, embed, GatewayBadResponse, ["cannot read"]),
    ("html", {}, stream_answer, GatewayBadResponse, ["text/html", "instead of an event stream"]),
    ("html", {}, list_models, GatewayBadResponse, ["text/html", "instead of JSON"]),
]


@pytest.mark.parametrize(("mode", "options", "operation", "error", "words"), FAILURES,
                         ids=[f"{f[0]}{'-' + '-'.join(map(str, f[1].values())) if f[1] else ''}-{f[2].__name__}"
                              for f in FAILURES])
def test_each_failure_becomes_a_typed_error_a_person_can_act_on(fake_gateway, mode, options, operation, error, words):
    client = GatewayClient(base_url=fake_gateway.url, timeout_s=SHORT_TIMEOUT_S)
    fake_gateway.fail_next(mode, **options)

    with pytest.raises(error) as caught:
        operation(client)

    assert fake_gateway.url in caught.value.message
    for word in words:
        assert word in caught.value.message


def test_an_interrupted_stream_keeps_the_text_that_arrived(client, fake_gateway):
    fake_gateway.fail_next("cut", after_chunks=3)  # role chunk, "Echo:", " hello", then the connection drops
    received = []

    with pytest.raises(GatewayStreamInterrupted) as caught:
        for delta in client.stream_chat(model="fake-small", messages=HELLO):
            received.append(delta)

    assert received == ["Echo:", " hello"]
    assert caught.value.partial_text == "Echo: hello"


def test_rate_limit_error_carries_the_retry_after_hint(client, fake_gateway):
    fake_gateway.fail_next("429", retry_after="30")

    with pytest.raises(GatewayRateLimited) as caught:
        client.list_models()

    assert caught.value.retry_after_s == 30.0


def test_the_client_recovers_once_the_gateway_does(client, fake_gateway):
    fake_gateway.fail_next("500")
    with pytest.raises(GatewayServerError):
        client.chat(model="fake-small", messages=HELLO)

    assert client.chat(model="fake-small", messages=HELLO).text == "Echo: hello brave world"


@pytest.mark.parametrize(("mode", "reachable"), [("401", True), ("500", True), ("html", True), ("delay", False)])
def test_status_never_raises_and_says_whether_anything_answered(fake_gateway, mode, reachable):
    fake_gateway.fail_always(mode)

    status = GatewayClient(base_url=fake_gateway.url, timeout_s=SHORT_TIMEOUT_S).status()

    assert (status.reachable, status.models) == (reachable, [])
    assert fake_gateway.url in status.error


def in_seconds(seconds: int) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(("headers", "low", "high"), [
    ({"retry-after": "7"}, 7, 7),
    ({"retry-after": "0.5"}, 0.5, 0.5),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5, 1.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0, 0),  # a date in the past means now
])
def test_retry_after_accepts_seconds_milliseconds_and_dates(headers, low, high):
    assert low <= retry_after_seconds(headers) <= high


def test_retry_after_accepts_an_http_date():
    # Built when the test runs, not at collection: the suite may take minutes to reach it.
    assert 118 <= retry_after_seconds({"retry-after": in_seconds(120)}) <= 120


@pytest.mark.parametrize("headers", [{}, {"retry-after": "soon"}, {"retry-after-ms": "x"}])
def test_retry_after_is_none_when_absent_or_unreadable(headers):
    assert retry_after_seconds(headers) is None


@pytest.mark.parametrize(("tokens_out", "first_s", "total_s", "expected"), [
    (10, 1.0, 3.0, 5.0),   # 10 tokens in the 2 s after the first one arrived
    (10, None, 2.0, 5.0),  # no first-token time: over the whole duration
    (0, None, 2.0, None),
    (1, 1.0, 1.0, None),
])
def test_tokens_per_second_measures_generation_after_the_first_token(tokens_out, first_s, total_s, expected):
    result = ChatResult(model="m", text="", tokens_in=1, tokens_out=tokens_out, usage_reported=True,
                        time_to_first_token_s=first_s, total_time_s=total_s, finish_reason="stop")

    assert result.tokens_per_second == expected


def test_a_failure_for_one_path_waits_for_that_path(fake_gateway):
    client = GatewayClient(base_url=fake_gateway.url, timeout_s=5)
    fake_gateway.fail_next("500", only_path="/chat/completions")
    assert [m.id for m in client.list_models()] == ["fake-large", "fake-small"]
    with pytest.raises(GatewayServerError):
        client.chat(model="fake-small", messages=[{"role": "user", "content": "hi"}])
