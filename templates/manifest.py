"""What solution templates add to the portal: their pages, their tables and the forks behind each model."""

from __future__ import annotations

from portal.core.auth import Permission
from portal.core.features import FeatureManifest, PageSpec, Section
from templates import models
from templates.events import TEMPLATE_EVENTS
from templates.lineage import template_dependents

SECTION = "Templates"

MANIFEST = FeatureManifest(
    name="templates",
    sections=(Section(SECTION, order=400),),
    pages=(
        PageSpec("templates.py", title="Solution templates", icon=":material/view_quilt:", section=SECTION,
                 help="Starter projects to fork through a form, with their lineage."),
        # Reached from the list with ?template=<name>, so it stays out of the menu.
        PageSpec("template.py", title="Template", icon=":material/call_split:", section=SECTION, hidden=True),
        PageSpec("template_admin.py", title="Manage templates", icon=":material/settings_applications:",
                 section=SECTION, help="Register templates from git repositories; trust those with tasks.",
                 permission=Permission.MANAGE_TEMPLATES),
    ),
    table_modules=(models,),
    model_dependents=(template_dependents,),
    audit_events=TEMPLATE_EVENTS,
)
