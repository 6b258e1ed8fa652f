"""Editors at the same moment: threads that each read a revision, then write on top of it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from portal.core.errors import StaleEdit


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(i) in `count` threads; each result is its return value or the exception it raised."""
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects every failure
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def editors_until_saved(count: int, read: Callable[[], int], write: Callable[[int, int], None]
                        ) -> list[tuple[int, int, str]]:
    """`count` editors each read the revision (all before anyone writes), then write on top of it; an editor told
    someone saved first reads again and retries. Returns every attempt as (editor, base revision, outcome)."""
    first_round = threading.Barrier(count)
    attempts: list[tuple[int, int, str]] = []

    def editor(i: int) -> None:
        first = True
        while True:
            base = read()  # the page load
            if first:
                first_round.wait()  # everyone has read the same revision before anyone saves
                first = False
            try:
                write(i, base)
                attempts.append((i, base, "saved"))
                return
            except StaleEdit as stale:
                assert stale.base == base and (stale.latest is None or stale.latest > base), stale.message
                attempts.append((i, base, "refused"))

    results = run_together(count, editor)
    assert [r for r in results if r is not None] == []  # no error but the stale-edit refusal
    return attempts


def saves_by_revision(attempts: list[tuple[int, int, str]]) -> dict[int, int]:
    """base revision -> the editor whose save started from it."""
    saved = [(base, i) for i, base, outcome in attempts if outcome == "saved"]
    by_base = dict(saved)
    assert len(by_base) == len(saved), "two saves started from the same revision: one of them was lost"
    return by_base
