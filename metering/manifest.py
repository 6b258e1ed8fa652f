"""What metering adds to the portal: the usage, budget and lock tables, and the usage behind each model."""

from __future__ import annotations

from metering import models
from metering.models import METERING_USAGE_SOURCES
from metering.events import METERING_EVENTS
from metering.usage import usage_dependents
from portal.core.features import FeatureManifest

MANIFEST = FeatureManifest(
    name="metering",
    table_modules=(models,),
    model_dependents=(usage_dependents,),
    audit_events=METERING_EVENTS,
    usage_sources=METERING_USAGE_SOURCES,
)
