"""Sandbox fixtures: a gateway client on the deterministic test server."""

import pytest

from portal.core.gateway import GatewayClient


@pytest.fixture
def gateway(fake_gateway) -> GatewayClient:
    return GatewayClient(base_url=fake_gateway.url, timeout_s=5)
