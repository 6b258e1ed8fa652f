"""Every detector the guardrails run, gathered from the modules that define them, one module a kind of data."""

from __future__ import annotations

from sandbox.pii.contact import CONTACT_DETECTORS
from sandbox.pii.credentials import SECRET_DETECTORS
from sandbox.pii.detector import Detector
from sandbox.pii.national_ids import NATIONAL_ID_DETECTORS
from sandbox.pii.network import NETWORK_DETECTORS
from sandbox.pii.payment import PAYMENT_DETECTORS

DETECTORS: tuple[Detector, ...] = (
    *CONTACT_DETECTORS, *PAYMENT_DETECTORS, *NATIONAL_ID_DETECTORS, *NETWORK_DETECTORS, *SECRET_DETECTORS,
)
