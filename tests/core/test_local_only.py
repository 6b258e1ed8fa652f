"""The development sign-in runs only for requests that really come from this machine, never through a proxy."""

from __future__ import annotations

import pytest

from portal.core.errors import SettingsError
from portal.core.local_only import dev_sign_in_refusal, is_loopback_address, is_loopback_host
from portal.core.settings import load_settings

BROWSER = [("Host", "127.0.0.1:8501"), ("Origin", "http://127.0.0.1:8501"), ("User-Agent", "Chromium")]


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_listening_addresses(address: str) -> None:
    assert is_loopback_address(address)


@pytest.mark.parametrize("address", ["", "0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "localhost.evil.com",
                                     "127.0.0.1.evil.com", "127.evil.com", "::1abc", "::ffff:10.0.0.1",
                                     "fe80::1", "localhost:8501", "127.0.0.1/8"])
def test_other_listening_addresses_are_not_loopback(address: str) -> None:
    assert not is_loopback_address(address)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8501", "localhost", "localhost:8501", "LocalHost:1",
                                  "[::1]", "[::1]:8501", " 127.0.0.1:8501 "])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["", "portal.example.com", "10.0.0.5:8501", "127.0.0.1.nip.io",
                                  "localhost.evil.com:8501", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:abc",
                                  "127.0.0.1:8501:1", "::1", "[::1", "[::1]x", "[::1]:", "[127.0.0.1]",
                                  "evil.com#127.0.0.1", "127.0.0.1@evil.com", "127.0.0.1\r\nX-Forwarded-For: 1",
                                  "[::ffff:7f00:1]:8501"])
def test_other_hosts_are_refused(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1", "localhost"])
@pytest.mark.parametrize("headers", [
    BROWSER,
    [("host", "localhost:8501"), ("origin", "http://localhost:8501")],
    [("Host", "[::1]:8501"), ("Origin", "http://[::1]:8501")],
    [("Host", "127.0.0.1:8501")],  # no Origin: a same-origin navigation
    [],  # no HTTP request at all: an in-process AppTest
])
def test_a_direct_request_on_loopback_may_use_the_development_sign_in(listen: str, headers) -> None:
    assert dev_sign_in_refusal(listen, headers) is None


@pytest.mark.parametrize("listen", ["", "0.0.0.0", "10.0.0.5", "localhost.evil.com"])
def test_a_server_listening_beyond_loopback_refuses_whatever_the_request(listen: str) -> None:
    refusal = dev_sign_in_refusal(listen, BROWSER)
    assert refusal is not None and "listens on" in refusal and "PORTAL_SERVER_ADDRESS" in refusal
    assert (listen or "every network interface") in refusal


@pytest.mark.parametrize(("header", "value", "named"), [
    ("X-Forwarded-For", "203.0.113.9", "X-Forwarded-For"),
    ("x-forwarded-for", "127.0.0.1", "X-Forwarded-For"),  # even one claiming loopback: a proxy relays it
    ("X-Forwarded-For", "", "X-Forwarded-For"),
    ("X-Real-IP", "203.0.113.9", "X-Real-IP"),
    ("Forwarded", "for=203.0.113.9;proto=https", "Forwarded"),
    ("X-Forwarded-Host", "portal.example.com", "X-Forwarded-Host"),
])
def test_any_proxy_header_switches_the_development_sign_in_off(header: str, value: str, named: str) -> None:
    refusal = dev_sign_in_refusal("127.0.0.1", [*BROWSER, (header, value)])
    assert refusal is not None and "through a proxy" in refusal and named in refusal


@pytest.mark.parametrize(("headers", "named"), [
    ([("Host", "portal.example.com")], "the Host 'portal.example.com'"),
    ([("Host", "127.0.0.1.nip.io:8501")], "the Host '127.0.0.1.nip.io:8501'"),
    ([("Host", "127.0.0.1:8501"), ("Host", "evil.example.com")], "the Host 'evil.example.com'"),
    ([("Host", "127.0.0.1:8501"), ("Origin", "https://evil.example.com")], "the Origin 'https://evil.example.com'"),
    ([("Host", "127.0.0.1:8501"), ("Origin", "null")], "the Origin 'null'"),
    ([("Host", "127.0.0.1:8501"), ("Origin", "http://127.0.0.1.evil.com")], "the Origin"),
    ([("Host", "127.0.0.1:8501"), ("Origin", "http://user@127.0.0.1:8501")], "the Origin"),
    ([("Host", "127.0.0.1:8501"), ("Origin", "file://127.0.0.1")], "the Origin"),
    ([("User-Agent", "curl")], "no Host header"),
])
def test_a_request_naming_another_host_or_origin_is_refused(headers, named: str) -> None:
    refusal = dev_sign_in_refusal("127.0.0.1", headers)
    assert refusal is not None and named in refusal and "PORTAL_AUTH_MODE=oidc" in refusal


def test_a_huge_hostile_host_is_quoted_short() -> None:
    refusal = dev_sign_in_refusal("127.0.0.1", [("Host", "x" * 100_000)])
    assert refusal is not None and len(refusal) < 400


@pytest.mark.parametrize("address", ["0.0.0.0", "", "10.0.0.5", "localhost.evil.com"])
def test_settings_refuse_the_default_development_sign_in_on_a_non_loopback_address(monkeypatch,
                                                                                   address: str) -> None:
    monkeypatch.setenv("PORTAL_SERVER_ADDRESS", address)
    with pytest.raises(SettingsError, match="PORTAL_SERVER_ADDRESS: the development sign-in only runs on a "
                                            "loopback address"):
        load_settings()
    monkeypatch.setenv("PORTAL_AUTH_MODE", "dev")
    with pytest.raises(SettingsError, match="PORTAL_AUTH_MODE=oidc"):
        load_settings()


def test_settings_allow_a_non_loopback_address_with_openid_connect(monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_SERVER_ADDRESS", "0.0.0.0")
    monkeypatch.setenv("PORTAL_AUTH_MODE", "oidc")
    settings = load_settings()
    assert settings.auth_mode == "oidc" and not settings.listens_on_loopback
