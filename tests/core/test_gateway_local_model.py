"""End to end: the real local model (SmolLM2-135M behind llama_cpp.server) answers through GatewayClient."""

import pytest

from portal.core.gateway import Caller, GatewayClient, GatewayError
from portal.core.model_server import DEFAULT_MODEL_NAME, exit_summary

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
