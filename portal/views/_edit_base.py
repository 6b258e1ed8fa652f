"""An edit form's starting point: the revision and values it opened with, kept across reruns until a save.

The service refuses a save whose revision is no longer the latest (someone saved meanwhile); the form keeps the
user's input, and `take_latest` lets them carry their changes over onto the latest values."""

from __future__ import annotations

from typing import Any

import streamlit as st


def widget(key: str, field: str) -> str:
    return f"{key}_{field}"


def form_base(key: str, revision: int, values: dict[str, Any]) -> dict[str, Any]:
    """The revision and values the form started from; a form not on screen (first visit, after a save) restarts."""
    state = st.session_state
    first = next(iter(values))
    if f"{key}_base" not in state or widget(key, first) not in state:
        state[f"{key}_base"] = {"revision": revision, "values": values}
        for field, value in values.items():
            state[widget(key, field)] = value
    return state[f"{key}_base"]


def changes(key: str) -> dict[str, Any]:
    """What the user changed since the form opened, so fields they left alone never undo others' edits."""
    base = st.session_state[f"{key}_base"]["values"]
    return {field: st.session_state[widget(key, field)] for field in base
            if st.session_state[widget(key, field)] != base[field]}


def take_latest(key: str, revision: int, values: dict[str, Any]) -> None:
    """After a refused save: fields the user left alone take the latest values; their edits stay."""
    state, started_from = st.session_state, st.session_state[f"{key}_base"]["values"]
    state[f"{key}_base"] = {"revision": revision, "values": values}
    for field, value in values.items():
        if state.get(widget(key, field)) == started_from[field]:
            state[widget(key, field)] = value


def forget(key: str) -> None:
    """After a save: the next visit starts from the saved values."""
    base = st.session_state.pop(f"{key}_base", None)
    for field in (base or {}).get("values", {}):
        st.session_state.pop(widget(key, field), None)
