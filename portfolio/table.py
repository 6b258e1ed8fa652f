"""The portfolio table as records: what the page's table shows and what its CSV download holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.core.csv_text import safe_csv
from portfolio.board import PortfolioRow
from portfolio.scoring import Standing


def table_records(rows: list[PortfolioRow], standing: Mapping[int, Standing]) -> list[dict[str, Any]]:
    """One record per row, in the table's column order, with its latest scores and priority."""
    return [_record(r, standing.get(r.use_case.id, Standing())) for r in rows]


def _record(r: PortfolioRow, scores: Standing) -> dict[str, Any]:
    return {"id": r.use_case.id, "key": r.use_case.key, "use case": r.use_case.title, "stage": r.use_case.stage,
            "tier": int(r.use_case.tier) if r.use_case.tier is not None else None,
            "department": r.use_case.department, "owner": r.owner, "value / year": r.use_case.value_amount,
            "unit": r.use_case.value_unit, "waiting for": r.waiting_for,
            "value": scores.value, "feasibility": scores.feasibility, "priority": scores.priority}


def portfolio_csv(rows: list[PortfolioRow], standing: Mapping[int, Standing]) -> str:
    """The table's rows (with the page's filters applied) as spreadsheet-safe CSV."""
    return safe_csv(table_records(rows, standing))
