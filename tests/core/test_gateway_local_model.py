"""End to end: the real local model (SmolLM2-135M behind llama_cpp.server) answers through GatewayClient."""

import socket
from collections.abc import Iterator

import pytest

from portal.core.gateway import Caller, GatewayClient, GatewayError
from portal.core.model_server import (
    DEFAULT_MODEL_NAME,
    ModelServerProcess,
    exit_summary,
    start_local_model_server,
    stop_local_model_server,
    wait_until_ready,
)

READY_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def local_model_server() -> Iterator[tuple[str, ModelServerProcess]]:
    port = free_port()
    process = start_local_model_server(port=port)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        wait_until_ready(base_url, timeout_s=READY_TIMEOUT_S, process=process)
        yield base_url, process
    finally:
        stop_local_model_server(process)


@pytest.mark.local_model
def test_the_local_model_streams_a_short_answer(local_model_server):
    base_url, process = local_model_server
    client = GatewayClient(base_url=base_url, timeout_s=60)
    assert DEFAULT_MODEL_NAME in [m.id for m in client.status().models]

    stream = client.stream_chat(model=DEFAULT_MODEL_NAME, max_tokens=16, caller=Caller(email="tester@example.com"),
                                messages=[{"role": "user", "content": "Name one colour of the rainbow."}])
    try:
        deltas = list(stream)
    except GatewayError as exc:  # name the server's own fate, e.g. a crash inside llama.cpp
        pytest.fail(f"{exc.message}\nModel server: {exit_summary(process) or 'still running'}")

    result = stream.result
    assert "".join(deltas).strip()
    assert result.text == "".join(deltas)
    assert 0 < result.tokens_out <= 16
    assert result.finish_reason in ("stop", "length")
    assert 0 < result.time_to_first_token_s <= result.total_time_s
    assert process.poll() is None
