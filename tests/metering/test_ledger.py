"""The metered gateway path: a call's worst case is reserved atomically before it is made and settled after,
so budgets hold under parallel calls on SQLite and PostgreSQL alike."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from catalog.models import DataClassification
from metering.budgets import BudgetExhausted, BudgetPolicy, Payer
from metering.gateway import Call
from metering.models import CallStatus, UsageEvent
from prompt_library.models import PROMPT_TEST
from sandbox.models import SANDBOX_CHAT
from portal.core.gateway import GatewayClient, GatewayError
from tests.metering.support import metered

PARALLEL = 50
MESSAGES = [{"role": "user", "content": "Summarise our travel policy in one line please"}]
MAX_TOKENS = 20
PUBLIC = DataClassification.PUBLIC


@pytest.fixture
def pricey(make_model):
    """A served model at a dollar per thousand tokens, so a few calls reach a small cap."""
    return make_model(name="fake-small", served=True, input_price_per_mtok=1000.0, output_price_per_mtok=1000.0)


@pytest.fixture
def client(fake_gateway):
    client = GatewayClient(base_url=fake_gateway.url, timeout_s=20)
    yield client
    client.close()


def events(session: Session) -> list[UsageEvent]:
    session.expire_all()
    return list(session.exec(select(UsageEvent).order_by(UsageEvent.id)).all())


def chat_in_parallel(gateway, payers: list[Payer], model) -> tuple[int, int]:
    """PARALLEL calls at once; (answered, refused by the budgets)."""
    def call(payer: Payer) -> bool:
        try:
            gateway.chat(Call(payer=payer, model=model, source=SANDBOX_CHAT, messages=MESSAGES,
                         max_tokens=MAX_TOKENS, classification=PUBLIC))
            return True
        except BudgetExhausted:
            return False

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(call, payers))
    return outcomes.count(True), outcomes.count(False)


def test_fifty_parallel_calls_never_spend_past_a_teams_monthly_cap(session, make_user, pricey, client) -> None:
    cap = 0.5  # the worst case of one call is about $0.03: some fifteen fit, fifty do not
    team = [make_user(team="Campaigns") for _ in range(5)]
    gateway = metered(client, session, BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=cap))
    answered, refused = chat_in_parallel(gateway, [Payer.of(team[i % 5]) for i in range(PARALLEL)], pricey)
    rows = events(session)
    spent = sum(e.cost_usd for e in rows)
    assert answered > 0 and refused > 0
    assert spent <= cap, f"spent ${spent:.4f} against a ${cap} cap"
    assert len(rows) == answered and {e.status for e in rows} == {CallStatus.OK.value}


def test_fifty_parallel_calls_of_one_person_never_pass_the_daily_quota(session, make_user, pricey, client) -> None:
    quota = 300
    user = make_user()
    gateway = metered(client, session, BudgetPolicy(daily_tokens_per_user=quota, monthly_usd_per_team=0))
    answered, refused = chat_in_parallel(gateway, [Payer.of(user)] * PARALLEL, pricey)
    used = session.exec(select(func.sum(UsageEvent.tokens_in + UsageEvent.tokens_out))).one()
    assert answered > 0 and refused > 0
    assert used <= quota


def test_a_person_with_no_team_still_meets_the_monthly_cap(session, make_user, pricey, client) -> None:
    loner, other_loner = make_user(team=""), make_user(team="")
    gateway = metered(client, session, BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=0.04))
    gateway.chat(Call(payer=Payer.of(loner), model=pricey, source=SANDBOX_CHAT, messages=MESSAGES,
                 max_tokens=MAX_TOKENS, classification=PUBLIC))
    with pytest.raises(BudgetExhausted, match="Your personal .*monthly budget of \\$0.04"):
        gateway.chat(Call(payer=Payer.of(loner), model=pricey, source=SANDBOX_CHAT, messages=MESSAGES,
                     max_tokens=MAX_TOKENS, classification=PUBLIC))
    # Someone else without a team has a budget of their own, not the first person's leftovers.
    gateway.chat(Call(payer=Payer.of(other_loner), model=pricey, source=SANDBOX_CHAT, messages=MESSAGES,
                 max_tokens=MAX_TOKENS, classification=PUBLIC))


def test_a_call_whose_worst_case_does_not_fit_is_refused_before_it_is_sent(session, make_user, pricey, client,
                                                                             fake_gateway) -> None:
    user = make_user()
    gateway = metered(client, session, BudgetPolicy(daily_tokens_per_user=100, monthly_usd_per_team=0))
    fake_gateway.reset()
    with pytest.raises(BudgetExhausted, match="has 100 left, and this call could use up to 512"):
        gateway.chat(Call(payer=Payer.of(user), model=pricey, source=SANDBOX_CHAT,
                     messages=[{"role": "user", "content": "x" * 48}], max_tokens=500, classification=PUBLIC))
    assert fake_gateway.requests == [] and events(session) == []


def test_the_reservation_counts_while_the_call_runs_and_is_settled_to_what_it_used(session, make_user, pricey,
                                                                                 client) -> None:
    user = make_user()
    gateway = metered(client, session)
    stream = gateway.stream_chat(Call(payer=Payer.of(user), model=pricey, source=SANDBOX_CHAT,
                                 messages=MESSAGES, max_tokens=MAX_TOKENS, classification=PUBLIC))
    (reserved,) = events(session)
    assert (reserved.status, reserved.tokens_out) == (CallStatus.RESERVED.value, MAX_TOKENS)
    answer = "".join(stream)
    (settled,) = events(session)
    assert settled.id == reserved.id and settled.status == CallStatus.OK.value
    assert settled.tokens_out == len(answer.split()) < MAX_TOKENS
    assert settled.cost_usd == pytest.approx((settled.tokens_in + settled.tokens_out) * 0.001)


def test_a_stream_the_reader_leaves_early_is_settled_not_left_reserved(session, make_user, pricey, client) -> None:
    stream = metered(client, session).stream_chat(Call(payer=Payer.of(make_user()), model=pricey,
                                                  source=SANDBOX_CHAT, messages=MESSAGES,
                                                  max_tokens=MAX_TOKENS, classification=PUBLIC))
    pieces = iter(stream)
    next(pieces)
    pieces.close()
    (event,) = events(session)
    assert (event.status, event.tokens_out) == (CallStatus.INTERRUPTED.value, 1)


def test_a_failed_call_is_settled_at_no_cost(session, make_user, pricey, client, fake_gateway) -> None:
    fake_gateway.fail_next("500")
    with pytest.raises(GatewayError):
        metered(client, session).chat(Call(payer=Payer.of(make_user()), model=pricey, source=PROMPT_TEST,
                                      messages=MESSAGES, max_tokens=MAX_TOKENS, classification=PUBLIC))
    (event,) = events(session)
    assert (event.status, event.cost_usd, event.source) == (CallStatus.FAILED.value, 0.0, "prompt test")


def test_the_gateway_sees_who_pays(session, make_user, pricey, client, fake_gateway) -> None:
    user = make_user(team="Campaigns", department="Marketing")
    metered(client, session).chat(Call(payer=Payer.of(user), model=pricey, source=SANDBOX_CHAT,
                                  messages=MESSAGES, max_tokens=MAX_TOKENS, classification=PUBLIC))
    headers = {k.lower(): v for k, v in fake_gateway.last_request.headers.items()}
    assert headers["x-portal-user"] == user.email and headers["x-portal-team"] == "Campaigns"
