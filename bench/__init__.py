"""Benchmarks: each prints a ratio against a baseline measured in the same process (`python -m bench`)."""


def verdict(ratio: float, goal: float) -> str:
    """'ratio R (goal <= G) ok', or ABOVE GOAL: the tail every benchmark line ends with."""
    return f"ratio {ratio:.3f} (goal <= {goal}) " + ("ok" if ratio <= goal else "ABOVE GOAL")
