"""Build the PII corpus file: `python -m tests.guardrails.pii_corpus.build` rewrites corpus.jsonl from a fixed seed.

One JSON object a line: {"text": ..., "expected": [[kind, value], ...]}; an empty list marks a clean text.
A test checks that the committed file is what this script makes, so the file is reviewed and the script is truth.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.guardrails.pii_corpus import hand_written
from tests.guardrails.pii_corpus.negatives import negative_samples
from tests.guardrails.pii_corpus.positives import positive_samples

SEED = 20261203
CORPUS_FILE = Path(__file__).with_name("corpus.jsonl")


def build(seed: int = SEED) -> list[dict]:
    """Labelled texts with personal or secret data, then clean texts, duplicates dropped."""
    rng = random.Random(seed)
    records = [{"text": text, "expected": [[kind.value, value] for kind, value in expected]}
               for text, expected in positive_samples(rng)]
    by_text: dict[str, list] = {}
    for text, kind, value in hand_written.POSITIVES:
        by_text.setdefault(text, []).append([kind.value, value])
    records += [{"text": text, "expected": expected} for text, expected in by_text.items()]
    records += [{"text": text, "expected": []} for text in negative_samples(rng) + hand_written.NEGATIVES]
    seen: set[str] = set()
    unique = []
    for record in records:
        if record["text"] not in seen:
            seen.add(record["text"])
            unique.append(record)
    return unique


def render(records: list[dict]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def load() -> list[dict]:
    """The committed corpus."""
    return [json.loads(line) for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines()]


if __name__ == "__main__":
    CORPUS_FILE.write_text(render(build()), encoding="utf-8")
    print(f"wrote {CORPUS_FILE}")
