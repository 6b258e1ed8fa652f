"""Prompt library fixtures: a prompt factory and a gateway client on the fake gateway."""

from __future__ import annotations

import pytest

from portal.core.gateway import GatewayClient
from prompt_library.runner import RunContext
from prompt_library.editing import PromptDraft, create_prompt
from prompt_library.templates import Message, Variable
from tests.metering.support import metered


def draft(title: str = "Summarise a ticket", *, system: str = "You are a support agent for {product}.",
          user: str = "Summarise: {ticket}", template_format: str = "f-string", **fields) -> PromptDraft:
    """A valid draft; pass fields to change the card."""
    variables = fields.pop("variables", [Variable("product", "the product", "Portal"),
                                         Variable("ticket", "the ticket text", "It broke")])
    return PromptDraft(title=title, messages=[Message("system", system), Message("user", user)],
                       template_format=template_format, variables=variables, **fields)


@pytest.fixture
def make_prompt(session, make_user):
    """Factory: a committed prompt owned by a new contributor (or `owner`)."""

    def make(owner=None, **kwargs):
        owner = owner or make_user("contributor")
        prompt = create_prompt(session=session, actor=owner, draft=draft(**kwargs))
        session.commit()
        return prompt

    return make


@pytest.fixture
def gateway_client(fake_gateway):
    client = GatewayClient(base_url=fake_gateway.url)
    yield client
    client.close()


@pytest.fixture
def run_context(gateway_client, session):
    return RunContext(gateway=metered(gateway_client, session), judge_model="fake-large")
