"""What the guardrails add to the portal: the audit event of a guardrail that fired."""

from __future__ import annotations

from guardrails.events import GUARDRAIL_EVENTS
from portal.core.features import FeatureManifest

MANIFEST = FeatureManifest(
    name="guardrails",
    audit_events=GUARDRAIL_EVENTS,
)
