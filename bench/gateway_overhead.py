"""Gateway overhead: GatewayClient streaming against a bare openai.OpenAI client, on the same fake gateway.

Both stream the same 21-chunk answer from the in-process fake server, interleaved pair by pair (order
alternating) so drift and warm-up hit both alike. The ratios are medians of the per-pair ratios of time to
first token and total time; the goal is <= 1.05 (the portal's wrapper adds no noticeable latency).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench import alternate, report_pairs  # noqa: E402

ROUNDS = 200
WARMUP = 10
GOAL = 1.05
MODEL = "fake-small"
MESSAGES = [{"role": "user", "content": " ".join(f"word{i}" for i in range(20))}]


def _time_portal(client) -> tuple[float, float]:
    """(time to first token, total) for one GatewayClient stream, as the portal measures it."""
    from portal.core.gateway import Caller

    stream = client.stream_chat(model=MODEL, messages=MESSAGES, caller=Caller(email="bench@example.com", team="b"))
    for _ in stream:
        pass
    return stream.result.time_to_first_token_s, stream.result.total_time_s


def _time_bare(client) -> tuple[float, float]:
    """(time to first token, total) for the same stream through the bare SDK."""
    started = time.perf_counter()
    first = None
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    return first, time.perf_counter() - started


def run() -> dict[str, float]:
    """Median per-pair ratios (portal / bare) of time to first token and total time; prints and returns them."""
    import openai

    from portal.core.gateway import GatewayClient
    from tests.fake_gateway import FakeGateway

    with FakeGateway() as gateway:
        portal = GatewayClient(base_url=gateway.url, timeout_s=10.0)
        bare = openai.OpenAI(base_url=gateway.url, api_key="not-needed", timeout=10.0, max_retries=0)
        for _ in range(WARMUP):
            _time_portal(portal)
            _time_bare(bare)
        pairs = alternate(lambda: _time_portal(portal), lambda: _time_bare(bare), ROUNDS)
    return report_pairs(pairs, label="gateway overhead", mine="GatewayClient", base="bare openai",
                        unit="streams", goal=GOAL)


if __name__ == "__main__":
    run()
