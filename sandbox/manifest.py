"""What the sandbox adds to the portal: its pages and its tables."""

from __future__ import annotations

from portal.core.auth import Permission
from portal.core.features import FeatureManifest, PageSpec, Section
from sandbox import models
from sandbox.events import SANDBOX_EVENTS
from sandbox.models import SANDBOX_USAGE_SOURCES
from sandbox.documents import models as document_models

SECTION = "Sandbox"

MANIFEST = FeatureManifest(
    name="sandbox",
    sections=(Section(SECTION, order=200),),
    pages=(
        PageSpec("sandbox.py", title="Sandbox", icon=":material/chat:", section=SECTION,
                 help="Chat with the approved models, with guardrails, budgets and costs.",
                 permission=Permission.USE_SANDBOX),
        PageSpec("sandbox_compare.py", title="Compare models", icon=":material/compare_arrows:", section=SECTION,
                 help="One message, two or three answers side by side; vote on the best.",
                 permission=Permission.USE_SANDBOX),
        PageSpec("usage.py", title="My usage", icon=":material/query_stats:", section=SECTION,
                 help="Your tokens and cost by day and model; reviewers see teams too.",
                 permission=Permission.USE_SANDBOX),
    ),
    table_modules=(models, document_models),
    audit_events=SANDBOX_EVENTS,
    usage_sources=SANDBOX_USAGE_SOURCES,
)
