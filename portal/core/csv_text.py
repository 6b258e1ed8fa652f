"""CSV for people to open in a spreadsheet: a header row, and text that can never run as a formula.

A spreadsheet reads a cell starting with = + - @ (or a tab or carriage return before one) as a formula, so a use
case titled `=HYPERLINK("http://…")` would run in whoever opens the download. Such text gets a leading apostrophe,
which spreadsheets show as plain text (OWASP's advice for CSV injection); numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """The value as a CSV cell may hold it: text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(records: Sequence[dict[str, Any]]) -> str:
    """Records as CSV text with a header row (empty text for no records); no cell can run as a formula."""
    if not records:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[neutralised(name) for name in records[0]], lineterminator="\n")
    writer.writeheader()
    writer.writerows({neutralised(k): neutralised(v) for k, v in record.items()} for record in records)
    return out.getvalue()
