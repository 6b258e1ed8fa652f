"""The portfolio page's value × feasibility chart: each scored use case placed by its latest score, coloured by
stage; the use cases not scored yet listed beside it."""

import json

import altair as alt
import pandas as pd
import streamlit as st

from portal.ui import plain
from portfolio.board import PortfolioRow
from portfolio.models import Stage
from portfolio.scoring import Standing

UNSCORED_SHOWN = 30
# Use cases with the same scores would sit on one point: each is nudged by at most this much (the same way on every
# run, from its id), and the tooltip gives the exact scores.
SPREAD = 0.2


@st.cache_data(show_spinner=False)  # the spec depends on nothing but the field names: build and validate it once
def _scatter_spec() -> str:
    axis = dict(scale=alt.Scale(domain=[0.5, 5.5], zero=False), axis=alt.Axis(values=[1, 2, 3, 4, 5]))
    chart = alt.Chart().mark_circle(size=140, opacity=0.8).encode(
        x=alt.X("feasibility shown:Q", title="feasibility (5: easiest)", **axis),
        y=alt.Y("value shown:Q", title="value (5: worth most)", **axis),
        # Every stage keeps its colour whichever stages a filter leaves on the chart.
        color=alt.Color("stage:N", title="stage", scale=alt.Scale(domain=[s.value for s in Stage],
                                                                  scheme="tableau10")),
        tooltip=["use case:N", "value:Q", "feasibility:Q", "stage:N", "tier:O", "priority:Q"])
    spec = chart.to_dict()
    spec.pop("data", None), spec.pop("datasets", None)
    return json.dumps(spec)


def _nudge(use_case_id: int) -> float:
    return ((use_case_id * 7) % 9 - 4) / 4 * SPREAD


def chart_points(rows: list[PortfolioRow], standing: dict[int, Standing]) -> pd.DataFrame:
    """One row per scored use case: exact scores for the tooltip, nudged ones for the position."""
    points = []
    for row in rows:
        uc, s = row.use_case, standing.get(row.use_case.id, Standing())
        if s.scored:
            points.append({"use case": uc.title, "value": s.value, "feasibility": s.feasibility, "stage": uc.stage,
                           "tier": int(uc.tier), "priority": s.priority,
                           "value shown": s.value + _nudge(uc.id),
                           "feasibility shown": s.feasibility + _nudge(uc.id * 3)})
    return pd.DataFrame(points, columns=["use case", "value", "feasibility", "stage", "tier", "priority",
                                         "value shown", "feasibility shown"])


def value_feasibility(rows: list[PortfolioRow], standing: dict[int, Standing]) -> None:
    """The chart, with the use cases not scored yet beside it."""
    points = chart_points(rows, standing)
    unscored = [r.use_case.title for r in rows if not standing.get(r.use_case.id, Standing()).scored]
    chart_col, list_col = st.columns([3, 1])
    if points.empty:
        chart_col.info("No use case here is scored yet: reviewers score value and feasibility on a use case's "
                       "Priority tab.")
    else:
        chart_col.vega_lite_chart(points, json.loads(_scatter_spec()), key="pf_chart")
        chart_col.caption("Each point is a use case at its latest score (top right: worth most, easiest); points "
                          "with equal scores are spread a little so each stays visible.")
    list_col.markdown(f"**Not scored yet** ({len(unscored)})")
    list_col.markdown("\n".join(f"- {plain(title)}" for title in unscored[:UNSCORED_SHOWN]) or "—")
    if len(unscored) > UNSCORED_SHOWN:
        list_col.caption(f"and {len(unscored) - UNSCORED_SHOWN} more")
