"""Whether a request really comes from this machine: the development sign-in's only gate."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# A reverse proxy on the same host connects from 127.0.0.1 too; these headers are how it says whom it forwards.
PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-real-ip", "forwarded")
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:\[\]]+))(?::(?P<port>[0-9]{1,5}))?")


def is_loopback_address(address: str) -> bool:
    """True for an address only this machine reaches: 127.0.0.0/8, ::1 or the name localhost (no port)."""
    address = address.strip().lower()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """True for a Host header naming a loopback address, with or without a valid port."""
    match = _HOST.fullmatch(host.strip())
    if match is None:
        return False
    port = match["port"]
    if port is not None and not 0 < int(port) <= 65535:
        return False
    if match["ipv6"] is not None:  # only IPv6 goes in brackets: [127.0.0.1] is no valid Host
        return ":" in match["ipv6"] and is_loopback_address(match["ipv6"])
    return is_loopback_address(match["name"])


def _is_loopback_origin(origin: str) -> bool:
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or parts.username or parts.password or parts.path not in ("", "/"):
        return False
    if parts.query or parts.fragment:
        return False
    return is_loopback_host(parts.netloc)


def dev_sign_in_refusal(listen_address: str, headers: Iterable[tuple[str, str]]) -> str | None:
    """Why the development sign-in is off for this request, or None when it may run.

    `headers` are the (name, value) pairs of the browser's request, repeats included; no pairs at all means no
    HTTP request (an in-process test), where only the listening address counts.
    """
    if not is_loopback_address(listen_address):
        where = listen_address or "every network interface"
        return (f"The development sign-in is switched off because this server listens on {where}. Run it on "
                "127.0.0.1 (PORTAL_SERVER_ADDRESS) or configure OpenID Connect (PORTAL_AUTH_MODE=oidc).")
    pairs = [(name.strip().lower(), value) for name, value in headers]
    if not pairs:
        return None
    return _proxy_refusal(pairs) or _host_refusal(pairs)


def _proxy_refusal(pairs: list[tuple[str, str]]) -> str | None:
    forwarded = sorted({name for name, _ in pairs if name in PROXY_HEADERS})
    if forwarded:
        return (f"The development sign-in is switched off: this request came through a proxy (it carries "
                f"{', '.join(_title(name) for name in forwarded)}), so it may come from another machine. "
                "Open the portal on this machine at http://127.0.0.1, or configure OpenID Connect "
                "(PORTAL_AUTH_MODE=oidc).")
    return None


def _host_refusal(pairs: list[tuple[str, str]]) -> str | None:
    hosts = [value for name, value in pairs if name == "host"]
    bad_hosts = [host for host in hosts if not is_loopback_host(host)]
    bad_origins = [value for name, value in pairs if name == "origin" and not _is_loopback_origin(value)]
    if not hosts:
        named = "no Host header"
    elif bad_hosts:
        named = f"the Host {bad_hosts[0][:100]!r}"
    elif bad_origins:
        named = f"the Origin {bad_origins[0][:100]!r}"
    else:
        return None
    return (f"The development sign-in is switched off: this request carries {named}, not this machine's "
            "loopback address, so it may come from another machine. Open the portal at http://127.0.0.1, "
            "or configure OpenID Connect (PORTAL_AUTH_MODE=oidc).")


def _title(name: str) -> str:
    return "-".join(part.upper() if part in ("ip",) else part.capitalize() for part in name.split("-"))
