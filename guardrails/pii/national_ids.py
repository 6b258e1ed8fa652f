"""National identity numbers: US Social Security and UK National Insurance numbers."""

from __future__ import annotations

import re

from guardrails.pii.detector import Detector, PiiKind, after_reference_label, compile_pattern, labelled_number

_US_SSN = compile_pattern(r"(?<![\w-])(?<!\d[ ]) (\d{3})([- ])(\d{2})\2(\d{4}) (?![\w-]|[ ]\d)")


def _ssn_ok(text: str) -> bool:
    area, group, serial = re.split(r"[- ]", text)
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _ssn_span(m: re.Match[str]) -> tuple[int, int] | None:
    # "Part no. 123-45-6789" is a catalogue number in the SSN's shape.
    return m.span() if _ssn_ok(m.group()) and not after_reference_label(m) else None


_US_SSN_LABELLED = labelled_number(r"ssn|social[ \t]+security", r"\d{9}")


def _labelled_ssn_span(m: re.Match[str]) -> tuple[int, int] | None:
    number = m.group("number")
    return m.span("number") if _ssn_ok(f"{number[:3]}-{number[3:5]}-{number[5:]}") else None


# First letter never D F I Q U V; second never D F I O Q U V; suffix A-D. People type them in lower case too.
_UK_NINO = compile_pattern(r"""(?i)
    (?<![A-Za-z0-9]) [A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] [ ]?\d{2} [ ]?\d{2} [ ]?\d{2} [ ]?[A-D] (?![A-Za-z0-9])""")
_NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _nino_span(m: re.Match[str]) -> tuple[int, int] | None:
    return m.span() if m.group()[:2].upper() not in _NINO_UNALLOCATED else None


NATIONAL_ID_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.US_SSN, _US_SSN, _ssn_span),
    Detector(PiiKind.US_SSN, _US_SSN_LABELLED, _labelled_ssn_span, needs_any=("ssn", "social")),
    Detector(PiiKind.UK_NINO, _UK_NINO, _nino_span),
)
