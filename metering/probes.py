"""The catalog's health probes on the metered path: paid for by the system:probe principal, recorded as usage."""

from __future__ import annotations

from catalog.health import ProbeCall
from catalog.models import CatalogModel, DataClassification
from metering.budgets import Payer
from metering.gateway import Call, MeteredGateway
from metering.models import PROBE
from portal.core.gateway import ChatResult
from portal.core.principals import SYSTEM_PROBE


def metered_probe_call(metered: MeteredGateway) -> ProbeCall:
    """A catalog.health.ProbeCall that reserves, calls, settles and records each probe as system:probe's usage.

    No person's or team's budget applies to a system payer; the usage is still recorded (source `probe`)."""
    payer = Payer.system(SYSTEM_PROBE)

    def call(model: CatalogModel, *, messages: list[dict[str, str]], max_tokens: int) -> ChatResult:
        # A probe sends the catalog's own fixed prompt: public data, guarded like any call all the same.
        return metered.chat(Call(payer=payer, model=model, source=PROBE, messages=messages,
                                 max_tokens=max_tokens, temperature=0,
                                 classification=DataClassification.PUBLIC)).result

    return call
