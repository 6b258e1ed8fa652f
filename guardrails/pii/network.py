"""IP addresses: IPv4 and IPv6, without the look-alikes (versions, loopback, slices)."""

from __future__ import annotations

import ipaddress
import re

from guardrails.pii.detector import Detector, PiiKind, after_reference_label, compile_pattern, whole_match_if

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = compile_pattern(rf"(?<![\w.]) {_OCTET}(?:\.{_OCTET}){{3}} (?![\w]|\.\d)")
_IPV6 = compile_pattern(rf"""
    (?<![\w:.]) (?:[0-9A-Fa-f]{{0,4}}:){{2,7}} (?:{_OCTET}(?:\.{_OCTET}){{3}}|[0-9A-Fa-f]{{1,4}})? (?![\w:]|\.\w)""")


_CONSTRAINTS = frozenset({">=", "<=", "==", "~=", "!=", "=>"})
# Four-part versions (1.2.3.4, 10.0.2.15) are valid IPv4 addresses: the words before one say which it is.
# Whichever kind of word comes last before the number, among the four nearest, wins; with neither, an address.
_VERSION_WORDS = frozenset("""version versions ver release releases released build builds firmware fw update
    updated updating upgrade upgraded upgrading downgrade downgraded bump bumped bumps patch patched hotfix fixed since
    changelog dependency dependencies requires installed pinned sdk driver tagged assemblyversion fileversion""".split())
_ADDRESS_WORDS = frozenset("""ip ipv4 addr address addresses host hosts hostname server servers client clients gateway
    dns nameserver resolver subnet route ping ssh connect connected connection connecting listen listening bind proxy
    upstream firewall whitelist allowlist blocklist blacklist allow allowed deny denied block blocked src dst source
    destination peer remote forwarded nat vpn router node origin login logged""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# "## [1.4.2.0]" heads a changelog entry; "Chrome/120.0.0.0" and "mylib-1.2.3.4" name a product's version.
_VERSION_BEFORE = re.compile(r"(?:^|\n)\#+[ ]*\[$|[A-Za-z][/-]$")
# "1.2.3.4-beta", "5.1.0.2-1 (Debian)", "1.2.3.4.tar.gz", "6.7.2.4 or older", "4.1.2.1 (Build 57)" are versions;
# "10.0.0.1-10.0.0.9" is a range of addresses.
_VERSION_AFTER = re.compile(r"""(?ix) -(?:[a-z]|\d+(?![\d.])) | \.[a-z]
    | [ ]+or[ ]+(?:older|newer|later|earlier|above|below) | [ ]+\(?(?:build|release|version|update)\b""")


def _named_as_version(m: re.Match[str]) -> bool:
    text, start = m.string, m.start()
    line_start = text.rfind("\n", 0, start) + 1
    window_start = max(line_start, start - 64)
    for word in reversed(_WORD.findall(text, window_start, start)[-4:]):  # the nearest few words speak for it
        word = word.lower()
        if word in _VERSION_WORDS:
            return True
        if word in _ADDRESS_WORDS:
            return False
    return bool(_VERSION_BEFORE.search(text, max(0, start - 8), start) or _VERSION_AFTER.match(text, m.end()))


def _ipv4_span(m: re.Match[str]) -> tuple[int, int] | None:
    # 0.x and 127.x identify nobody (and 0.1.2.3 is a version); after >= or == it is a version constraint.
    if m.group().startswith(("0.", "127.")) or m.string[max(0, m.start() - 2):m.start()] in _CONSTRAINTS:
        return None
    # x.y.0.0 names a network, never a host, unless a prefix length follows; "Chrome 120.0.0.0" is a version.
    if m.group().endswith(".0.0") and m.string[m.end():m.end() + 1] != "/":
        return None
    return None if after_reference_label(m) or _named_as_version(m) else m.span()


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
