"""Benchmarks: each prints a ratio against a baseline measured in the same process (`python -m bench`)."""


def verdict(ratio: float, goal: float) -> str:
    """'ratio R (goal <= G) ok', or ABOVE GOAL: the tail every benchmark line ends with."""
    return f"ratio {ratio:.3f} (goal <= {goal}) " + ("ok" if ratio <= goal else "ABOVE GOAL")


def alternate(measure, baseline, rounds: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(measured, baseline) timing pairs, the two taking turns going first so neither always runs warm."""
    pairs = []
    for i in range(rounds):
        if i % 2:
            base = baseline()
            mine = measure()
        else:
            mine = measure()
            base = baseline()
        pairs.append((mine, base))
    return pairs


def report_pairs(pairs, *, label: str, mine: str, base: str, unit: str, goal: float) -> dict[str, float]:
    """Print and return the median per-pair ratios of time to first token (index 0) and total time (index 1)."""
    import statistics

    ratios = {}
    for key, index, name in (("ttft_ratio", 0, "time to first token"), ("total_ratio", 1, "total time")):
        ratios[key] = statistics.median(m[index] / b[index] for m, b in pairs)
        mine_ms = statistics.median(m[index] for m, _ in pairs) * 1000
        base_ms = statistics.median(b[index] for _, b in pairs) * 1000
        print(f"{label}: {name} {mine_ms:.2f} ms ({mine}) vs {base_ms:.2f} ms ({base}) over {len(pairs)} {unit} "
              f"-> median {verdict(ratios[key], goal)}")
    return ratios
