"""The metered gateway path as the tests build it: on the test server, on the test's own database."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from guardrails.messages import GuardrailPolicy
from metering.budgets import BudgetPolicy
from metering.gateway import MeteredGateway
from portal.core.gateway import GatewayClient

UNLIMITED = BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=0)


def metered(gateway: GatewayClient, database: Session | Engine, budgets: BudgetPolicy = UNLIMITED,
            guardrails: GuardrailPolicy | None = None) -> MeteredGateway:
    """`gateway` behind the metering steps, reserving and settling on the database `database` belongs to
    (guardrails: the settings' default actions unless `guardrails` says otherwise)."""
    engine = database.get_bind() if isinstance(database, Session) else database
    return MeteredGateway(gateway=gateway, engine=engine, budgets=budgets, guardrails=guardrails)


def every_classification(action: str) -> GuardrailPolicy:
    """One guardrail action for data of every classification."""
    return GuardrailPolicy(actions={label: action for label in ("public", "internal", "confidential", "restricted")})
