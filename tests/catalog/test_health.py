"""Gateway sync, registration and health probes against the deterministic test gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from catalog.health import ProbeCall, probe_models, probe_stats, register_from_gateway, sync_with_gateway
from catalog.models import CatalogModel, ModelStatus, ProbeResult
from portal.core.audit import AuditEvent, utcnow
from portal.core.auth import Permission, Role, SystemPrincipal
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.gateway import GatewayClient, GatewayUnreachable
from metering.probes import metered_probe_call
from portal.core.principals import SYSTEM_CLI, SYSTEM_SCHEDULER
from tests.metering.support import metered

S = ModelStatus


@pytest.fixture
def gateway(fake_gateway) -> GatewayClient:
    return GatewayClient(base_url=fake_gateway.url, timeout_s=5)


@pytest.fixture
def probes(session, gateway) -> ProbeCall:
    """Probes as the portal makes them: on the metered path, paid for by system:probe."""
    return metered_probe_call(metered(gateway, session))


def test_sync_marks_served_unregistered_and_unavailable(session, make_user, make_model, gateway) -> None:
    make_model(S.APPROVED, name="fake-small")
    make_model(S.APPROVED, name="gone-model")
    make_model(S.PROPOSED, name="not-yet")
    report = sync_with_gateway(session=session, actor=make_user(Role.ADMIN), gateway=gateway)
    session.commit()
    assert report.served == ["fake-small"]
    assert report.unregistered == ["fake-large"]
    assert report.unavailable == ["gone-model"]  # a proposed model is not expected to be served
    served = dict(session.exec(select(CatalogModel.name, CatalogModel.served)).all())
    assert served == {"fake-small": True, "gone-model": False, "not-yet": False}
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.synced")).one().actor_email


def test_sync_needs_an_admin_and_a_reachable_gateway(session, make_user, make_model) -> None:
    with pytest.raises(PermissionDenied):
        sync_with_gateway(session=session, actor=make_user(Role.REVIEWER),
                          gateway=GatewayClient(base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(GatewayUnreachable, match="127.0.0.1:9"):
        sync_with_gateway(session=session, actor=SYSTEM_CLI, gateway=GatewayClient(base_url="http://127.0.0.1:9/v1"))


def test_register_creates_a_proposed_card_that_its_registrar_cannot_approve(session, make_user, gateway) -> None:
    admin = make_user(Role.ADMIN)
    model = register_from_gateway(session=session, actor=admin, name="fake-large", gateway=gateway)
    assert (model.status, model.served, model.requested_by_id) == ("proposed", True, admin.id)
    with pytest.raises(InvalidInput, match="already in the catalog"):
        register_from_gateway(session=session, actor=admin, name="fake-large", gateway=gateway)
    with pytest.raises(InvalidInput, match="does not serve 'phantom'"):
        register_from_gateway(session=session, actor=admin, name="phantom", gateway=gateway)


def test_probe_stores_timings_and_failures(session, make_model, probes, fake_gateway) -> None:
    small = make_model(S.APPROVED, name="fake-small", served=True)
    large = make_model(S.DEPRECATED, name="fake-large", served=True)
    make_model(S.PROPOSED, name="proposed-served", served=True)
    make_model(S.APPROVED, name="embedder", served=True, mode="embedding")
    fake_gateway.fail_next("500")
    outcomes = probe_models(session=session, actor=SYSTEM_CLI, call=probes)
    assert sorted(o.model_name for o in outcomes) == ["fake-large", "fake-small"]
    results = {o.result.model_id: o.result for o in outcomes}
    assert set(results) == {small.id, large.id}
    failed = [r for r in results.values() if not r.success]
    ok = [r for r in results.values() if r.success]
    assert len(failed) == 1 and "internal error" in failed[0].error
    assert ok[0].latency_s > 0 and ok[0].time_to_first_token_s is not None and ok[0].tokens_per_second


def test_probe_stats_are_nearest_rank_percentiles_over_seven_days(session, make_model) -> None:
    model = make_model(S.APPROVED)
    now = utcnow()
    for i in range(1, 21):  # latencies 0.1 .. 2.0 s within the window
        session.add(ProbeResult(model_id=model.id, at=now - timedelta(hours=i), success=True, latency_s=i / 10,
                                time_to_first_token_s=i / 100))
    session.add(ProbeResult(model_id=model.id, at=now - timedelta(days=8), success=True, latency_s=99.0))
    session.add(ProbeResult(model_id=model.id, at=now - timedelta(minutes=1), success=False, error="timeout"))
    session.commit()
    stats = probe_stats(session=session, model_id=model.id, now=now)
    assert (stats.probes, stats.successes) == (21, 20)
    assert stats.p50_latency_s == pytest.approx(1.0) and stats.p95_latency_s == pytest.approx(1.9)
    assert stats.p50_ttft_s == pytest.approx(0.10) and stats.p95_ttft_s == pytest.approx(0.19)
    assert stats.last.success is False and stats.success_rate == pytest.approx(20 / 21)


def test_probe_stats_of_a_never_probed_model(session, make_model) -> None:
    stats = probe_stats(session=session, model_id=make_model(S.APPROVED).id)
    assert (stats.probes, stats.p50_latency_s, stats.last, stats.success_rate) == (0, None, None, None)


@pytest.mark.parametrize("principal", [SYSTEM_CLI, SYSTEM_SCHEDULER])
def test_a_sync_by_a_system_principal_is_audited_under_its_name(session, make_model, gateway, principal) -> None:
    make_model(S.APPROVED, name="fake-small")
    sync_with_gateway(session=session, actor=principal, gateway=gateway)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.synced")).one()
    assert (event.actor_email, event.actor_id) == (principal.name, None)


def test_a_probe_is_audited_under_the_principal_that_ran_it(session, make_model, probes, fake_gateway) -> None:
    make_model(S.APPROVED, name="fake-small", served=True)
    make_model(S.APPROVED, name="fake-large", served=True)
    fake_gateway.fail_next("500")
    probe_models(session=session, actor=SYSTEM_CLI, call=probes)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.probed")).one()
    assert (event.actor_email, event.actor_id, event.summary) == ("system:cli", None, "2 probed, 1 failed")
    assert event.after["probed"] == ["fake-large", "fake-small"] and len(event.after["failed"]) == 1


def test_a_principal_without_manage_catalog_may_not_sync_or_probe(session, gateway, probes) -> None:
    clerk = SystemPrincipal(name="system:clerk", permissions=frozenset({Permission.MANAGE_PROMPTS}), acts_for="tests")
    with pytest.raises(PermissionDenied, match="system:clerk may not"):
        sync_with_gateway(session=session, actor=clerk, gateway=gateway)
    with pytest.raises(PermissionDenied, match="system:clerk may not"):
        probe_models(session=session, actor=clerk, call=probes)


def test_probes_go_through_the_metered_path_paid_for_by_system_probe(session, make_user, make_model, probes,
                                                                     fake_gateway) -> None:
    from metering.models import CallStatus, PROBE, UsageEvent
    from sandbox.dashboard import org_usage

    make_model(S.APPROVED, name="fake-small", served=True, input_price_per_mtok=1.0, output_price_per_mtok=2.0)
    make_model(S.APPROVED, name="fake-large", served=True, input_price_per_mtok=3.0, output_price_per_mtok=6.0)
    fake_gateway.fail_next("500")
    probe_models(session=session, actor=SYSTEM_CLI, call=probes)
    session.commit()
    events = session.exec(select(UsageEvent).order_by(UsageEvent.model_name)).all()
    assert [(e.principal, e.user_id, e.source, e.team) for e in events] == [("system:probe", None,
                                                                             PROBE.value, "")] * 2
    assert sorted(e.status for e in events) == sorted([CallStatus.OK.value, CallStatus.FAILED.value])
    answered = next(e for e in events if e.status == CallStatus.OK.value)
    assert answered.tokens_in > 0 and answered.tokens_out > 0 and answered.cost_usd > 0
    top = org_usage(session=session, actor=make_user(Role.ADMIN), days=1).top_users
    assert [(t.name, t.totals.calls) for t in top] == [("system:probe", 2)]
