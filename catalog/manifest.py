"""What the model catalog adds to the portal: its pages and its tables."""

from __future__ import annotations

from sqlmodel import Session

from catalog import models
from catalog.events import CATALOG_EVENTS
from portal.core.auth import Permission
from portal.core.features import FeatureManifest, PageSpec, SeedStep, Section
from portal.core.principals import Principal
from portal.core.settings import Settings

SECTION = "Models"


def _seed_catalog(*, session: Session, actor: Principal, settings: Settings) -> str:
    from catalog.seed import seed_catalog

    return f"catalog: {seed_catalog(session=session, actor=actor).created} model(s) added"


MANIFEST = FeatureManifest(
    name="catalog",
    sections=(Section(SECTION, order=100),),
    pages=(
        PageSpec("catalog.py", title="Model catalog", icon=":material/menu_book:", section=SECTION,
                 help="Search and filter the models, open their cards and compare up to three."),
        # Reached from the catalog with ?model=<name>, so it stays out of the menu.
        PageSpec("model_card.py", title="Model card", icon=":material/description:", section=SECTION, hidden=True),
        PageSpec("model_request.py", title="Request a model", icon=":material/add_circle:", section=SECTION,
                 permission=Permission.CONTRIBUTE),
        PageSpec("catalog_admin.py", title="Catalog operations", icon=":material/fact_check:", section=SECTION,
                 help="The review queue; for admins also gateway sync, registration and probes.",
                 permission=Permission.REVIEW),
        PageSpec("model_evaluations.py", title="Model evaluations", icon=":material/analytics:", section=SECTION,
                 help="Record, correct and remove the benchmark results on a model's card.",
                 permission=Permission.MANAGE_CATALOG),
    ),
    # The `catalog` command (catalog/commands.py) is registered by portal.commands, which wires its probes to the
    # metered gateway path: metering sits above the catalog, so the catalog cannot reach it itself.
    table_modules=(models,),
    audit_events=CATALOG_EVENTS,
    seed_steps=(SeedStep("catalog", _seed_catalog),),
)
