"""Gateway sync and health: which catalog models the gateway serves, and how fast they answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, case, cast, func
from sqlmodel import Session, col, select

from catalog.models import CatalogModel, ModelStatus, ProbeResult, USABLE_STATUSES
from catalog.events import CatalogProbed, CatalogSynced, ModelRegistered
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput
from portal.core.gateway import ChatResult, GatewayClient, GatewayError
from portal.core.principals import Principal
from portal.core.users import User

PROBE_MESSAGES = [{"role": "user", "content": "Reply with the single word: ok"}]
PROBE_MAX_TOKENS = 8
STATS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class SyncReport:
    """What the gateway serves compared with the catalog."""

    served: list[str]  # catalog models the gateway serves
    unregistered: list[str]  # served by the gateway, missing from the catalog
    unavailable: list[str]  # usable in the catalog, not served by the gateway


def sync_with_gateway(*, session: Session, actor: Principal, gateway: GatewayClient) -> SyncReport:
    """Mark every card served or not from the gateway's /v1/models; admins or a system principal."""
    require(actor, Permission.MANAGE_CATALOG)
    served_ids = {m.id for m in gateway.list_models()}
    now = utcnow()
    models = session.exec(select(CatalogModel)).all()
    for model in models:
        model.served, model.served_checked_at = model.name in served_ids, now
        session.add(model)
    known = {m.name for m in models}
    report = SyncReport(
        served=sorted(m.name for m in models if m.served),
        unregistered=sorted(served_ids - known),
        unavailable=sorted(m.name for m in models if not m.served and ModelStatus(m.status) in USABLE_STATUSES),
    )
    record(session, actor, CatalogSynced(served=report.served, unregistered=report.unregistered,
                                         unavailable=report.unavailable))
    session.flush()
    return report


def unregistered_models(*, session: Session, gateway: GatewayClient) -> list[str]:
    """Models the gateway serves that the catalog has no card for."""
    known = set(session.exec(select(CatalogModel.name)).all())
    return sorted({m.id for m in gateway.list_models()} - known)


def register_from_gateway(*, session: Session, actor: User, name: str, gateway: GatewayClient) -> CatalogModel:
    """Create a proposed card for a model the gateway serves; it then goes through review like any other."""
    require(actor, Permission.MANAGE_CATALOG)
    if name not in {m.id for m in gateway.list_models()}:
        raise InvalidInput(f"The gateway does not serve '{name}'; sync the catalog and try again.")
    if session.exec(select(CatalogModel.id).where(CatalogModel.name == name)).first() is not None:
        raise InvalidInput(f"'{name}' is already in the catalog.")
    model = CatalogModel(name=name, display_name=name, status=ModelStatus.PROPOSED.value, served=True,
                         served_checked_at=utcnow(), requested_by_id=actor.id,
                         request_use_case="Registered from the gateway's model list.")
    session.add(model)
    session.flush()
    record(session, actor, ModelRegistered(model=name, card=model.snapshot()))
    return model


@dataclass(frozen=True)
class ProbeOutcome:
    model_name: str
    result: ProbeResult


class ProbeCall(Protocol):
    """Sends one probe request to the model and returns its answer; raises GatewayError when the call fails.

    The command or page that probes hands one in: the metered gateway path paid for by the system:probe principal
    (metering.probes), so every probe is reserved, settled and recorded as usage like any other call."""

    def __call__(self, model: CatalogModel, *, messages: list[dict[str, str]], max_tokens: int) -> ChatResult: ...


def probe_models(*, session: Session, actor: Principal, call: ProbeCall) -> list[ProbeOutcome]:
    """Send a tiny request to each served, usable chat model and store how it went, audited.

    Only reads come before the calls, so no write transaction is open while the metered path records them."""
    require(actor, Permission.MANAGE_CATALOG)
    models = session.exec(select(CatalogModel).where(
        col(CatalogModel.served), CatalogModel.mode == "chat",
        col(CatalogModel.status).in_([s.value for s in USABLE_STATUSES]))).all()
    outcomes = [ProbeOutcome(model_name=model.name, result=probe_one(model, call)) for model in models]
    session.add_all([outcome.result for outcome in outcomes])
    failed = sorted(o.model_name for o in outcomes if not o.result.success)
    record(session, actor, CatalogProbed(probed=sorted(o.model_name for o in outcomes), failed=failed))
    session.flush()
    return outcomes


def probe_one(model: CatalogModel, call: ProbeCall) -> ProbeResult:
    """One timed request; a failure is a result too, with the gateway's message."""
    started = time.perf_counter()
    try:
        result = call(model, messages=PROBE_MESSAGES, max_tokens=PROBE_MAX_TOKENS)
    except GatewayError as exc:
        return ProbeResult(model_id=model.id, success=False, latency_s=time.perf_counter() - started,
                           error=exc.message[:500])
    return ProbeResult(model_id=model.id, success=True, latency_s=result.total_time_s,
                       time_to_first_token_s=result.time_to_first_token_s,
                       tokens_per_second=result.tokens_per_second)


@dataclass(frozen=True)
class ProbeStats:
    """A model's health over the last 7 days, computed in SQL."""

    probes: int
    successes: int
    p50_latency_s: float | None
    p95_latency_s: float | None
    p50_ttft_s: float | None
    p95_ttft_s: float | None
    last: ProbeResult | None

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.probes if self.probes else None


def probe_stats(*, session: Session, model_id: int, now: datetime | None = None) -> ProbeStats:
    """Counts and nearest-rank p50/p95 of latency and time to first token over the last 7 days."""
    since = (now or utcnow()) - STATS_WINDOW
    window = and_(ProbeResult.model_id == model_id, col(ProbeResult.at) >= since)
    probes, successes = session.exec(select(
        func.count(), func.coalesce(func.sum(case((col(ProbeResult.success), 1), else_=0)), 0)
    ).where(window)).one()
    p50_latency, p95_latency = _percentiles(session, ProbeResult.latency_s, window)
    p50_ttft, p95_ttft = _percentiles(session, ProbeResult.time_to_first_token_s, window)
    last = session.exec(select(ProbeResult).where(ProbeResult.model_id == model_id)
                        .order_by(col(ProbeResult.at).desc()).limit(1)).first()
    return ProbeStats(probes=probes, successes=successes, p50_latency_s=p50_latency, p95_latency_s=p95_latency,
                      p50_ttft_s=p50_ttft, p95_ttft_s=p95_ttft, last=last)


def _percentiles(session: Session, column, window) -> tuple[float | None, float | None]:
    """Nearest-rank p50 and p95 of a column over successful probes, with window functions (SQLite and PostgreSQL)."""
    ranked = select(
        column.label("value"),
        func.row_number().over(order_by=column).label("rank"),
        func.count().over().label("n"),
    ).where(window, col(ProbeResult.success), column.is_not(None)).subquery()
    # Nearest rank: the smallest value whose rank reaches p * n.
    p50 = func.min(case((cast(ranked.c.rank, Float) >= 0.50 * ranked.c.n, ranked.c.value)))
    p95 = func.min(case((cast(ranked.c.rank, Float) >= 0.95 * ranked.c.n, ranked.c.value)))
    return tuple(session.exec(select(p50, p95)).one())
