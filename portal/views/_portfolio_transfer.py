"""The portfolio page's downloads and, for admins, the YAML export and import (portfolio.as_code)."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from portal.core.auth import has_permission
from portal.core.db import session_scope
from portal.core.users import User
from portal.deps import PortalContext
from portal.ui import plain_lines, run_action
from portfolio.as_code import IMPORT_PERMISSION, PortfolioImport, export_portfolio, import_portfolio
from portfolio.board import PortfolioRow
from portfolio.portfolio_file import MAX_FILE_BYTES
from portfolio.scoring import Standing
from portfolio.table import portfolio_csv

UPLOAD_ROUND = "pf_import_round"
MAX_UPLOAD_MB = MAX_FILE_BYTES // 2**20


def csv_download(rows: list[PortfolioRow], standing: Mapping[int, Standing]) -> None:
    """The table as it is filtered, as a CSV a spreadsheet opens safely."""
    st.download_button("Download CSV", portfolio_csv(rows, standing), file_name="portfolio.csv", mime="text/csv",
                       key="pf_csv", icon=":material/download:",
                       help="The rows of the table with its filters; text that would run as a formula is quoted.")


def transfer_section(context: PortalContext, user: User) -> None:
    """For admins: download the portfolio as YAML, and import a file (validated whole, all or nothing)."""
    if not has_permission(user, IMPORT_PERMISSION):
        return
    with st.expander("Export or import the portfolio as YAML", icon=":material/sync_alt:"):
        st.download_button("Download portfolio YAML", lambda: _exported(context, user), file_name="portfolio.yaml",
                           mime="application/x-yaml", key="pf_export", icon=":material/download:",
                           help="Every use case, with its stage, tier and history (for reading).")
        st.caption("An import creates and edits use cases as you, through the same checks as the form. It never "
                   "moves a stage, lowers a tier or adds an approval: those values of the file are listed, not "
                   "applied. One wrong entry and nothing is imported.")
        upload_round = st.session_state.setdefault(UPLOAD_ROUND, 0)
        uploaded = st.file_uploader("Portfolio file", type=["yaml", "yml"], key=f"pf_import_file_{upload_round}",
                                    max_upload_size=MAX_UPLOAD_MB, help=f"Up to {MAX_UPLOAD_MB} MB.")
        if st.button("Import", key="pf_import", icon=":material/upload:", disabled=uploaded is None):
            _import(context, user, uploaded.name, uploaded.getvalue())


def _exported(context: PortalContext, user: User) -> str:
    with session_scope(context.engine) as session:
        return export_portfolio(session=session, actor=user)


def _import(context: PortalContext, user: User, name: str, data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        st.error(f"{name} is {len(data):,} bytes; a portfolio file may be at most {MAX_UPLOAD_MB} MB. Nothing was "
                 "imported.", icon="⚠️")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        st.error(f"{plain_lines(name)} is not UTF-8 text; export the portfolio again or save the file as UTF-8. "
                 "Nothing was imported.", icon="⚠️")
        return
    run_action(lambda session: import_portfolio(session=session, actor=user, text=text, source=name),
               engine=context.engine, success=lambda result: _report(name, result), then=_next_round)


def _report(name: str, result: PortfolioImport) -> str:
    said = f"Imported {plain_lines(name)}: {result.summary()}."
    if not result.not_applied:
        return said
    notes = plain_lines("\n".join(str(note) for note in result.not_applied))
    return f"{said}  \nNot applied ({len(result.not_applied)}), left as the portal has them:  \n{notes}"


def _next_round(_result: PortfolioImport) -> None:
    st.session_state[UPLOAD_ROUND] = st.session_state.get(UPLOAD_ROUND, 0) + 1  # an empty uploader after an import
