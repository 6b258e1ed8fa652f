"""The PII detectors scored on a labelled set of about 1,770 texts (tests/guardrails/pii_corpus/): recall and
false positives, with the misses listed by kind so a regression reads at a glance."""

from __future__ import annotations

from collections import Counter

from guardrails.text import PiiKind, scan
from tests.guardrails.pii_corpus.build import build, load, render

CORPUS = load()
RECALL_GOAL, FALSE_POSITIVE_GOAL = 0.97, 0.02


def _score() -> tuple[dict[str, tuple[int, int]], list[tuple[str, str, str]], list[tuple[str, list]]]:
    """Per kind (found, labelled), the missed values, and the clean texts with any finding."""
    found_by_kind: Counter[str] = Counter()
    labelled_by_kind: Counter[str] = Counter()
    missed, false_alarms = [], []
    for record in CORPUS:
        findings = scan(record["text"])
        if not record["expected"]:
            if findings:
                false_alarms.append((record["text"], [(f.kind.value, f.text) for f in findings]))
            continue
        got = {(f.kind.value, f.text) for f in findings}
        for kind, value in record["expected"]:
            labelled_by_kind[kind] += 1
            if (kind, value) in got:
                found_by_kind[kind] += 1
            else:
                missed.append((kind, value, record["text"]))
    return {k: (found_by_kind[k], labelled_by_kind[k]) for k in labelled_by_kind}, missed, false_alarms


def test_recall_and_false_positive_rate_on_the_labelled_set() -> None:
    per_kind, missed, false_alarms = _score()
    labelled = sum(n for _, n in per_kind.values())
    clean = sum(1 for record in CORPUS if not record["expected"])
    recall = 1 - len(missed) / labelled
    false_positive_rate = len(false_alarms) / clean
    report = "\n".join([
        f"{len(CORPUS)} texts ({len(CORPUS) - clean} with {labelled} labelled values, {clean} clean): "
        f"recall {recall:.1%} (goal {RECALL_GOAL:.0%}), false positives {false_positive_rate:.1%} "
        f"({len(false_alarms)} clean texts; goal {FALSE_POSITIVE_GOAL:.0%})",
        "recall by kind: " + ", ".join(f"{kind} {found / n:.0%} ({found}/{n})"
                                       for kind, (found, n) in sorted(per_kind.items())),
        "missed (kind, value, text):", *(f"  {m!r}" for m in missed),
        "false positives (text, findings):", *(f"  {fa!r}" for fa in false_alarms)])
    print(report)
    assert recall >= RECALL_GOAL and false_positive_rate <= FALSE_POSITIVE_GOAL, report


def test_the_set_is_large_and_covers_every_kind() -> None:
    kinds = Counter(kind for record in CORPUS for kind, _ in record["expected"])
    assert len(CORPUS) >= 1500 and sum(1 for record in CORPUS if not record["expected"]) >= 700
    assert set(kinds) == {kind.value for kind in PiiKind} and min(kinds.values()) >= 40, kinds


def test_every_label_points_at_text_in_its_sample() -> None:
    assert all(value in record["text"] for record in CORPUS for _, value in record["expected"])


def test_the_committed_file_is_what_the_script_makes() -> None:
    """corpus.jsonl is reviewed as data; rebuild it with `python -m tests.guardrails.pii_corpus.build`."""
    assert render(build()) == render(CORPUS)
