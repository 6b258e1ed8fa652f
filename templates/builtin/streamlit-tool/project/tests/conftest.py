"""The fake gateway for every test, and the environment pointing the project at it."""

import pytest

from tests.fake_gateway import FakeGateway


@pytest.fixture
def gateway(monkeypatch, tmp_path):
    with FakeGateway() as fake:
        monkeypatch.setenv("GATEWAY_URL", fake.url)
        monkeypatch.setenv("GATEWAY_API_KEY", "test-key")
        monkeypatch.setenv("GATEWAY_MAX_RETRIES", "0")
        monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "chroma"))
        yield fake
