"""The guardrails' scan of a 10,000-character message (every detector) against one plain e-mail regex pass over the
same text, the cost of the simplest detector alone: `python -m bench` or `python bench/guardrail_scan.py`."""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import verdict  # noqa: E402

ROUNDS = 50
GOAL = 20.0  # about twenty detectors, each costing at most one plain regex pass
MESSAGE = (("Mail jane.doe@example.com or call +44 20 7946 0958 about invoice INV-2024-00917 of 2024-03-15. "
            "Revenue grew 4.2 percent; see section 3 of the 3.11.7 release notes and server 10.0.0.1. ") * 60)[:10_000]
PLAIN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _best(measure) -> float:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        measure()
        timings.append(time.perf_counter() - started)
    return statistics.median(sorted(timings)[:ROUNDS // 2])  # the quieter half: a busy machine's pauses left out


def run() -> dict[str, float]:
    from guardrails.text import scan
    from guardrails.pii.registry import DETECTORS

    scan(MESSAGE)  # warm: detectors compiled
    portal = _best(lambda: scan(MESSAGE))
    baseline = _best(lambda: list(PLAIN_EMAIL.finditer(MESSAGE)))
    ratio = portal / baseline
    print(f"guardrail scan: 10,000 characters {portal * 1000:.2f} ms ({len(DETECTORS)} detectors) vs {baseline * 1000:.2f} ms "
          f"(one plain e-mail regex) -> {verdict(ratio, GOAL)}")
    return {"guardrail_scan": ratio}


if __name__ == "__main__":
    run()
