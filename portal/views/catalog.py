"""Model catalog: search and filter the model cards, open one, compare up to three side by side."""

import streamlit as st

from catalog.models import USABLE_STATUSES, DataClassification, Hosting, Mode, ModelStatus, RiskTier
from catalog.service import MAX_COMPARED, SORTS, CatalogFilter, browse_catalog, catalog_providers, compare_models
from portal import deps
from portal.core.db import session_scope
from portal.ui import open_picker, plain
from portal.views import _links as links

PAGE_SIZE = 25
MODALITIES = ["text", "image", "audio"]
# The format functions below take plain values too, as tests and URLs give them.

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

st.title("Model catalog")
st.caption("Every model the CoE knows about: what it can do, what it costs, which data it is cleared for, "
           "and where it is in its lifecycle.")


def served_label(served: bool | None, unknown: str = "—") -> str:
    return {True: "yes", False: "no", None: unknown}[served]


def read_filters() -> CatalogFilter:
    """The filter widgets above the table, as the service's filter."""
    with session_scope(context.engine) as session:
        providers = catalog_providers(session=session)
    search_col, sort_col = st.columns([3, 1])
    search = search_col.text_input("Search name, provider or family", key="catalog_search")
    sort = sort_col.selectbox("Sort by", list(SORTS), key="catalog_sort")
    provider_col, hosting_col, mode_col, modality_col = st.columns(4)
    provider = provider_col.selectbox("Provider", ["", *providers], format_func=lambda p: p or "any",
                                      key="catalog_provider")
    hosting = hosting_col.selectbox("Hosting", [None, *Hosting], key="catalog_hosting",
                                    format_func=lambda h: Hosting(h).label if h else "any")
    mode = mode_col.selectbox("Mode", [None, *Mode], format_func=lambda m: Mode(m).label if m else "any",
                              key="catalog_mode")
    modality = modality_col.selectbox("Input modality", ["", *MODALITIES], format_func=lambda m: m or "any",
                                      key="catalog_modality")
    status_col, risk_col, cleared_col = st.columns([2, 1, 1])
    statuses = status_col.multiselect(
        "Status", list(ModelStatus), default=list(USABLE_STATUSES), format_func=lambda s: ModelStatus(s).label,
        key="catalog_statuses", help="Approved, restricted and deprecated models are the ones staff may use. "
        "Clear the box to see every status.")
    risk_tiers = risk_col.multiselect("Risk tier", list(RiskTier), format_func=lambda r: RiskTier(r).label,
                                      key="catalog_risk")
    cleared = cleared_col.selectbox("Cleared for data classification", [None, *DataClassification],
                                    format_func=lambda c: DataClassification(c).label if c else "any",
                                    key="catalog_cleared")
    context_col, in_price_col, out_price_col = st.columns(3)
    min_context = context_col.number_input("Context window at least (tokens)", min_value=0, value=None,
                                           step=1000, key="catalog_min_context")
    max_in = in_price_col.number_input("Input price at most ($/M tokens)", min_value=0.0, value=None,
                                       step=0.1, key="catalog_max_input_price")
    max_out = out_price_col.number_input("Output price at most ($/M tokens)", min_value=0.0, value=None,
                                         step=0.1, key="catalog_max_output_price")
    return CatalogFilter(search=search, provider=provider, hosting=hosting, mode=mode, modality=modality,
                         statuses=tuple(statuses), risk_tiers=tuple(risk_tiers),
                         allowed_for=cleared, min_context=min_context, max_input_price=max_in,
                         max_output_price=max_out, sort=sort)


def fetch_page(filters: CatalogFilter):
    """The page of matching cards the picker under the table points at (page 1 when the filters shrank it)."""
    page = int(st.session_state.get("catalog_page", 1))
    with session_scope(context.engine) as session:
        result = browse_catalog(session=session, actor=user, filters=filters, limit=PAGE_SIZE,
                                offset=(page - 1) * PAGE_SIZE)
        pages = max(1, -(-result.total // PAGE_SIZE))
        if page > pages:
            st.session_state["catalog_page"] = 1
            result = browse_catalog(session=session, actor=user, filters=filters, limit=PAGE_SIZE, offset=0)
    return result, pages


def catalog_table(models) -> None:
    small = st.column_config.Column(width="small")
    price = st.column_config.NumberColumn(format="$%.2f", width="small")
    st.dataframe(
        [{"display name": m.display_name, "gateway name": m.name, "provider": m.provider,
          "hosting": m.hosting.short_label, "status": m.status.label,
          "risk tier": int(m.risk_tier), "cleared up to": m.max_classification.label,
          "context": m.max_input_tokens, "$ in / M": m.input_price_per_mtok, "$ out / M": m.output_price_per_mtok,
          "served": served_label(m.served)} for m in models],
        hide_index=True, width="stretch",
        # Everything fits from about 1600 px wide; narrower screens scroll the table sideways.
        column_config={
            "hosting": small, "status": small, "risk tier": small, "cleared up to": st.column_config.Column(width=100),
            "context": st.column_config.NumberColumn(format="localized", width="small"),
            "$ in / M": price, "$ out / M": price,
            "served": st.column_config.Column(width="small", help="Served by the gateway at the last sync "
                                              "(— before the first sync)"),
        },
    )


def open_card(name: str) -> None:
    links.model_card(name).open()


def open_a_card(models) -> None:
    labels = {m.name: f"{m.display_name} ({m.name})" for m in models}
    if chosen := open_picker(labels, label="Open a card", placeholder="Pick a model from this page",
                             key="catalog_open", button="Open card", icon=":material/description:"):
        open_card(chosen)


def compare_section(models) -> None:
    """Side-by-side key fields of the picked models; the service refuses more than three."""
    picked = list(st.session_state.get("catalog_compare", []))
    labels = {name: name for name in picked} | {m.name: f"{m.display_name} ({m.name})" for m in models}
    # No max_selections: the service says why a fourth pick is refused (the widget would only stop the click).
    names = st.multiselect(f"Compare (up to {MAX_COMPARED})", list(labels), format_func=labels.__getitem__,
                           placeholder="Pick models from this page", key="catalog_compare", select_all=False)
    if not names:
        return
    compared = []
    with deps.showing_errors(), session_scope(context.engine) as session:
        compared = compare_models(session=session, names=names)
    if not compared:
        return
    for column, m in zip(st.columns(len(compared)), compared, strict=True):
        with column.container(border=True):
            st.markdown(f"**{plain(m.display_name)}**  \n{plain(m.name)}")
            st.markdown("  \n".join(f"**{label}:** {value}" for label, value in compare_fields(m)))
            if st.button("Open card", key=f"compare_open_{m.name}"):
                open_card(m.name)


def compare_fields(m) -> list[tuple[str, str]]:
    """The fields a comparison shows, as (label, Markdown-safe text)."""
    def tokens(n):
        return f"{n:,}" if n else "—"

    def yes_no(flag):
        return "yes" if flag else "no"

    return [
        ("Provider", plain(m.provider or "—")), ("Hosting", m.hosting.label),
        ("Status", m.status.label), ("Risk tier", m.risk_tier.label), ("Cleared up to", m.max_classification.label),
        ("Mode", m.mode.label), ("Input", plain(", ".join(m.input_modalities) or "—")),
        ("Context window", tokens(m.max_input_tokens)), ("Max output", tokens(m.max_output_tokens)),
        ("Tools / vision / JSON", " / ".join(yes_no(f) for f in (m.supports_tools, m.supports_vision,
                                                                    m.supports_json_output))),
        ("Price in / out", f"\\${m.input_price_per_mtok:.2f} / \\${m.output_price_per_mtok:.2f} per M tokens"),
        ("License", plain(m.license or "—")), ("Served by the gateway", served_label(m.served, "not checked yet")),
    ]


filters = read_filters()
result, page_count = fetch_page(filters)
st.caption(f"{result.total} model(s) match" + (f" — page {st.session_state.get('catalog_page', 1)} of "
                                               f"{page_count}" if page_count > 1 else ""))
catalog_table(result.models)
if page_count > 1:
    st.number_input(f"Page (of {page_count})", min_value=1, max_value=page_count, key="catalog_page")
if not result.models:
    st.info("No model matches these filters. Clear some of them, or ask for a new model on "
            "*Request a model*.")
else:
    open_a_card(result.models)
    st.subheader("Compare")
    compare_section(result.models)
