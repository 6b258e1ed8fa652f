"""National identity numbers: US Social Security and UK National Insurance numbers."""

from __future__ import annotations

import re

from sandbox.pii.detector import Detector, PiiKind, compile_pattern, labelled_number, whole_match_if

_US_SSN = compile_pattern(r"(?<![\w-])(?<!\d[ ]) (\d{3})([- ])(\d{2})\2(\d{4}) (?![\w-]|[ ]\d)")


def _ssn_ok(text: str) -> bool:
    area, group, serial = re.split(r"[- ]", text)
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


_US_SSN_LABELLED = labelled_number(r"ssn|social[ \t]+security", r"\d{9}")


def _labelled_ssn_span(m: re.Match[str]) -> tuple[int, int] | None:
    number = m.group("number")
    return m.span("number") if _ssn_ok(f"{number[:3]}-{number[3:5]}-{number[5:]}") else None


# First letter never D F I Q U V; second never D F I O Q U V; suffix A-D.
_UK_NINO = compile_pattern(r"""
    (?<![A-Za-z0-9]) [A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] [ ]?\d{2} [ ]?\d{2} [ ]?\d{2} [ ]?[A-D] (?![A-Za-z0-9])""")
_NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


NATIONAL_ID_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.US_SSN, _US_SSN, whole_match_if(_ssn_ok)),
    Detector(PiiKind.US_SSN, _US_SSN_LABELLED, _labelled_ssn_span),
    Detector(PiiKind.UK_NINO, _UK_NINO, whole_match_if(lambda text: text[:2] not in _NINO_UNALLOCATED)),
)
