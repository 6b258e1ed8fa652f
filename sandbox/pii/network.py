"""IP addresses: IPv4 and IPv6, without the look-alikes (versions, loopback, slices)."""

from __future__ import annotations

import ipaddress
import re

from sandbox.pii.detector import Detector, PiiKind, after_reference_label, compile_pattern, whole_match_if

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = compile_pattern(rf"(?<![\w.]) {_OCTET}(?:\.{_OCTET}){{3}} (?![\w]|\.\d)")
_IPV6 = compile_pattern(rf"""
    (?<![\w:.]) (?:[0-9A-Fa-f]{{0,4}}:){{2,7}} (?:{_OCTET}(?:\.{_OCTET}){{3}}|[0-9A-Fa-f]{{1,4}})? (?![\w:]|\.\w)""")


_CONSTRAINTS = frozenset({">=", "<=", "==", "~=", "!=", "=>"})


def _ipv4_span(m: re.Match[str]) -> tuple[int, int] | None:
    # 0.x and 127.x identify nobody (and 0.1.2.3 is a version); after >= or == it is a version constraint.
    if m.group().startswith(("0.", "127.")) or m.string[max(0, m.start() - 2):m.start()] in _CONSTRAINTS:
        return None
    return None if after_reference_label(m) else m.span()


def _ipv6_ok(text: str) -> bool:
    # "::1", "dead::beef" and the slice a[1::2] are valid but no host's address: want digits and real groups.
    groups = [group for group in text.split(":") if group]
    if len(groups) < 2 or max(len(g) for g in groups) < 3 or not any(ch.isdigit() for ch in text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


NETWORK_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.IP_ADDRESS, _IPV4, _ipv4_span, needs="."),
    Detector(PiiKind.IP_ADDRESS, _IPV6, whole_match_if(_ipv6_ok), needs=":"),
)
