"""What the model catalog adds to the portal: its pages, the `catalog` command and its tables."""

from __future__ import annotations

import argparse

from catalog import models
from portal.core.auth import Permission
from portal.core.features import FeatureManifest, PageSpec, Section

SECTION = "Models"


def _register_commands(commands: argparse._SubParsersAction) -> None:
    from catalog import commands as catalog_commands

    catalog_commands.register(commands)


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
    commands=(_register_commands,),
    table_modules=(models,),
)
