"""Every detector the guardrails run, gathered from the modules that define them, one module a kind of data."""

from __future__ import annotations

from guardrails.pii.contact import CONTACT_DETECTORS
from guardrails.pii.credentials import SECRET_DETECTORS
from guardrails.pii.detector import Detector
from guardrails.pii.national_ids import NATIONAL_ID_DETECTORS
from guardrails.pii.network import NETWORK_DETECTORS
from guardrails.pii.payment import PAYMENT_DETECTORS

DETECTORS: tuple[Detector, ...] = (
    *CONTACT_DETECTORS, *PAYMENT_DETECTORS, *NATIONAL_ID_DETECTORS, *NETWORK_DETECTORS, *SECRET_DETECTORS,
)
