"""Links between use cases and the assets they use: on a use case, its assets; on an asset's page, its use cases."""

import streamlit as st

from portal.ui import plain
from portal.views import _links as links

# The pages each kind of linked asset opens on; forks and documents have no page of their own.
ASSET_PAGES = {"models": links.model_card, "prompts": links.prompt, "templates": links.template,
               "courses": links.course}
LABELS = {"models": "Models", "prompts": "Prompts", "templates": "Templates", "forks": "Template forks",
          "courses": "Courses", "documents": "Documents"}


def linked_assets(linked: dict[str, list[str]]) -> None:
    """A use case's links, each a link to the asset's page where it has one."""
    if not any(linked.values()):
        st.markdown("**Links.** none yet: edit the answers to name the models, prompts and templates it uses.")
        return
    st.markdown("**Links.**")
    for name, refs in linked.items():
        if not refs:
            continue
        if name not in ASSET_PAGES:
            numbers = ", ".join(plain(ref) for ref in refs)
            st.caption(f"{LABELS[name]}: {numbers}")
            continue
        columns = st.columns([1, 4])
        columns[0].caption(LABELS[name])
        for ref in refs:
            ASSET_PAGES[name](ref).show(plain(ref), container=columns[1])


SHOWN = 20  # links on an asset's page; a page with hundreds of them is slow and unreadable


def used_by(use_cases, *, what: str) -> None:
    """The use cases that depend on this asset (production first), each a link to its page; at most SHOWN."""
    st.subheader("Used by use cases")
    if not use_cases:
        st.caption(f"No use case you can see links to this {what} yet.")
        return
    if len(use_cases) > SHOWN:
        st.caption(f"The first {SHOWN} of more, production first; the portfolio's table lists them all.")
    for used in use_cases[:SHOWN]:
        tier = f"tier {used.tier}" if used.tier else "no tier yet"
        links.use_case(str(used.id)).show(f"{plain(used.title)} · {used.stage} · {tier}",
                                          icon=":material/lightbulb:")
