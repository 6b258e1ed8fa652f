"""Detectors for personal and secret data: a precompiled pattern finds candidates, a check confirms each.

`sandbox.guardrails.scan` runs them all and settles overlaps.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    """What a finding is; the value doubles as the audit label and, upper-cased, the placeholder name."""

    EMAIL = "email"
    PHONE = "phone"
    PAYMENT_CARD = "payment_card"
    IBAN = "iban"
    US_SSN = "us_ssn"
    UK_NINO = "uk_nino"
    IP_ADDRESS = "ip_address"
    SECRET = "secret"


Confirm = Callable[[re.Match[str]], tuple[int, int] | None]


@dataclass(frozen=True)
class Detector:
    """One kind of value: a pattern that finds candidates and a check that returns the confirmed span."""

    kind: PiiKind
    pattern: re.Pattern[str]
    confirm: Confirm
    needs: str = ""  # the text must contain this, so most messages skip the pattern entirely


def _compile(pattern: str) -> re.Pattern[str]:
    # ASCII: Luhn, int() and ipaddress expect ASCII digits, and \d would also take Arabic-Indic ones.
    return re.compile(pattern, re.ASCII | re.VERBOSE)


def _entire(check: Callable[[str], bool]) -> Confirm:
    """A confirm that keeps the whole match when `check` accepts its text."""
    return lambda m: m.span() if check(m.group()) else None


# A number right after one of these labels is a reference, version or section, not a phone or an address.
_REFERENCE_LABEL = re.compile(
    r"(?i)(?<![a-z])(?:order|invoice|inv|ref|reference|sku|part|item|product|model|serial|tracking|shipment|"
    r"parcel|isbn|issn|ean|upc|ticket|case|po|batch|lot|account|acct|version|ver|release|build|section|"
    r"chapter|clause|step|v)_*\.?[ \t]*(?:no\.?|nr\.?|num(?:ber)?|id|code|\#)?[ \t]*[:\#=]?[ \t]*[\"']?$")


def _after_reference_label(m: re.Match[str]) -> bool:
    return _REFERENCE_LABEL.search(m.string, max(0, m.start() - 32), m.start()) is not None


# --- e-mail -------------------------------------------------------------------------------------------------
_EMAIL = _compile(r"""
    (?<![\w.%+-]) [A-Za-z0-9][A-Za-z0-9._%+-]{0,63}
    @ (?:[A-Za-z0-9-]{1,63}\.){1,8} [A-Za-z]{2,24} (?![\w-]|\.[A-Za-z0-9])""")
_URL_USERINFO = re.compile(r"://[^\s/@]*$")


def _email_span(m: re.Match[str]) -> tuple[int, int] | None:
    local, domain = m.group().rsplit("@", 1)
    if ".." in local or local.endswith(".") or any(p.startswith("-") or p.endswith("-") for p in domain.split(".")):
        return None
    # In https://user:password@host or https://token@host the part before @ is a credential, not an address.
    if _URL_USERINFO.search(m.string, max(0, m.start() - 256), m.start()):
        return None
    return m.span()


# --- phone numbers ------------------------------------------------------------------------------------------
# Separators are required between groups, so a digit run splits one way only and nothing backtracks far.
# National numbers never start inside a run of digit groups (a card, an IBAN, a tracking number).
_PHONE_INTERNATIONAL = _compile(r"""
    (?<![\w+]) (?:\+[1-9]\d{0,3}|\(\+[1-9]\d{0,3}\))   # country code, as in +44 or (+44)
    (?:[ .-]?\(\d{1,5}\))?                           # area code or trunk hint, as in +44 (0)20
    [ .-]?\d{1,14} (?:[ .-]\d{1,8}){0,6}
    (?![\w]|[./-]\d)""")
_PHONE_TRUNK = _compile(r"""
    (?<![\w./+-])(?<!\d[ ]) (?:\(0\d{1,4}\)[ ]?|0\d{1,4}[ ./-])   # trunk 0 and area code, as in 020 or (030)
    \d{2,8} (?:[ .-]\d{2,8}){0,4}
    (?![\w]|[./-]\d)""")
_PHONE_NANP = _compile(r"""
    (?<![\w./+-])(?<!\d[ ]) (?:1[ .-]?)? (?:\([2-9]\d\d\)[ ]?|[2-9]\d\d[ .-]) \d{3}[ .-]\d{4}
    (?![\w]|[./-]\d)""")


def _labelled(labels: str, number: str) -> re.Pattern[str]:
    """Digits without separators count only right after a label saying what they are ("mobile: 07700900123")."""
    return _compile(rf"""(?i)
        (?<![a-z]) (?:{labels}) \.? [ \t]* (?:\#|no\.?|nr\.?|number)? [ \t]* [:=]? [ \t]* (?:(?:is|on|at)[ \t]+)?
        (?P<number>{number}) (?![\w]|[./-]\d)""")


_PHONE_LABELLED = _labelled(r"phone|telephone|tel|mobile|mob|cell|cellphone|fax|sms|whatsapp"
                            r"|(?:call|ring|text)(?:[ \t]+me)?", r"0\d{9,12}|[2-9]\d{9}")
_DATE_FIRST = re.compile(r"\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d(?!\d)")
_ZIP_PLUS_FOUR = re.compile(r"\d{5}-\d{4}")
_SIGNED_DECIMAL = re.compile(r"\+\d+\.\d+")
# ITU country codes: every two-digit one, and the first two digits of the three-digit ones.
_TWO_DIGIT_CC = frozenset("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 "
                          "63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split())
_THREE_DIGIT_CC_START = frozenset("21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99".split())


def _country_code_ok(code: str) -> bool:
    return code in ("1", "7") or (len(code) == 2 and code in _TWO_DIGIT_CC) or (
        len(code) == 3 and code[:2] in _THREE_DIGIT_CC_START)


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _drop_trailing_groups(text: str, most: int) -> str:
    """After a + the groups may run on into a following number ("+44 20 7946 0958 4111"): drop those."""
    while _digit_count(text) > most and (cut := max(map(text.rfind, " -."))) > 0:
        text = text[:cut]
    return text


def _phone_span(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    bare = text.lstrip("(")
    if bare.startswith("+"):
        # E.164 allows 15 digits; fewer than 9 is more often arithmetic; +35236450.6 is a signed decimal
        text = _drop_trailing_groups(text, 15)
        plausible = 9 <= _digit_count(text) <= 15 and not _SIGNED_DECIMAL.fullmatch(text)
    elif bare.startswith("00"):
        # 00 is the international prefix; the country code is then written as its own group ("0044 20 ...").
        groups = re.findall(r"\d+", text)
        plausible = 11 <= _digit_count(text) <= 15 and len(groups) > 1 and _country_code_ok(groups[0][2:] or groups[1])
    elif bare.startswith("0"):
        # Without a +, groups running past 13 digits are a longer number (an account, a card), not a phone.
        plausible = (9 <= _digit_count(text) <= 13 and not _DATE_FIRST.match(text)
                     and not _ZIP_PLUS_FOUR.fullmatch(text))
    else:
        plausible = True  # the NANP pattern fixes the whole shape
    return (m.start(), m.start() + len(text)) if plausible and not _after_reference_label(m) else None


# --- payment cards ------------------------------------------------------------------------------------------
_CARD = _compile(r"(?<![\w.-]) \d(?:[ -]?\d){12,30} (?![\w-]|\.\d)")  # longer than a card: see _card_span
# (first prefix, last prefix, lengths): issuer ranges; a number outside all of them is not a card.
_CARD_RANGES: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("4", "4", (16, 19)),  # Visa; 13-digit Visa is retired and 13 digits starting 4 are often EAN barcodes
    ("51", "55", (16,)), ("2221", "2720", (16,)),  # Mastercard
    ("34", "34", (15,)), ("37", "37", (15,)),  # American Express
    ("6011", "6011", range(16, 20)), ("644", "649", range(16, 20)), ("65", "65", range(16, 20)),  # Discover
    ("300", "305", range(14, 20)), ("36", "36", range(14, 20)), ("38", "39", range(14, 20)),  # Diners Club
    ("3528", "3589", range(16, 20)),  # JCB
    ("62", "62", range(16, 20)),  # UnionPay
    ("2200", "2204", range(16, 20)),  # Mir
    ("5018", "5018", range(13, 20)), ("5020", "5020", range(13, 20)), ("5038", "5038", range(13, 20)),
    ("5893", "5893", range(13, 20)), ("6304", "6304", range(13, 20)), ("6759", "6759", range(13, 20)),
    ("6761", "6763", range(13, 20)),  # Maestro
)


def luhn_ok(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _issued_range(digits: str) -> bool:
    return any(low <= digits[:len(low)] <= high and len(digits) in lengths for low, high, lengths in _CARD_RANGES)


def _card_grouping_ok(sizes: list[int]) -> bool:
    # Cards are written as one run, in fours (the last group may be short), or 4-6-5 / 4-6-4 (Amex, Diners).
    return len(sizes) == 1 or sizes in ([4, 6, 5], [4, 6, 4]) or (
        all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4)


def _card_span(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group()
    separators = set(re.findall(r"[ -]", text))
    if len(separators) > 1:
        return None
    separator = separators.pop() if separators else " "
    groups = text.split(separator)
    # Next to another number ("1234 4111 1111 1111 1111", "... 1111 2024") the match runs long; try its groups.
    for first in range(len(groups)):
        if len(groups[first]) < 4:  # every grouping starts with four digits, so "1 2 3 ..." ends here quickly
            continue
        offset = m.start() + sum(len(g) + 1 for g in groups[:first])
        for last in range(len(groups), first, -1):
            digits = "".join(groups[first:last])
            if len(digits) < 13:
                break
            if _card_grouping_ok([len(g) for g in groups[first:last]]) and _issued_range(digits) and luhn_ok(digits):
                return offset, offset + len(separator.join(groups[first:last]))
    return None


# --- IBAN ---------------------------------------------------------------------------------------------------
_IBAN = _compile(r"""(?<![A-Za-z0-9])  # either case: people type IBANs in lower case; the checksum ignores case
    [A-Za-z]{2}\d{2} (?:[ ]?[A-Za-z0-9]{4}){2,7} (?:[ ]?[A-Za-z0-9]{1,3})? (?![A-Za-z0-9])""")
# ISO 13616 registry: the length of a country's IBAN; a country missing here has no IBAN.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban_checksum_ok(iban: str) -> bool:
    """ISO 7064 mod 97-10: the IBAN, rotated and read with A=10..Z=35, leaves remainder 1."""
    rotated = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rotated)) % 97 == 1


def _iban_span(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group().upper()
    length = _IBAN_LENGTHS.get(text[:2])
    if length is None:
        return None
    # The pattern may run on into a following code ("... 7034 EURO"); cut at the country's length.
    seen = 0
    for end, ch in enumerate(text, start=1):
        seen += ch != " "
        if seen == length:
            break
    else:
        return None
    if text[end:end + 1] not in ("", " ") or not iban_checksum_ok(text[:end].replace(" ", "")):
        return None
    return m.start(), m.start() + end


# --- US Social Security and UK National Insurance numbers ---------------------------------------------------
_US_SSN = _compile(r"(?<![\w-])(?<!\d[ ]) (\d{3})([- ])(\d{2})\2(\d{4}) (?![\w-]|[ ]\d)")


def _ssn_ok(text: str) -> bool:
    area, group, serial = re.split(r"[- ]", text)
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


_US_SSN_LABELLED = _labelled(r"ssn|social[ \t]+security", r"\d{9}")


def _labelled_ssn_span(m: re.Match[str]) -> tuple[int, int] | None:
    number = m.group("number")
    return m.span("number") if _ssn_ok(f"{number[:3]}-{number[3:5]}-{number[5:]}") else None


# First letter never D F I Q U V; second never D F I O Q U V; suffix A-D.
_UK_NINO = _compile(r"""
    (?<![A-Za-z0-9]) [A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] [ ]?\d{2} [ ]?\d{2} [ ]?\d{2} [ ]?[A-D] (?![A-Za-z0-9])""")
_NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


# --- IP addresses -------------------------------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = _compile(rf"(?<![\w.]) {_OCTET}(?:\.{_OCTET}){{3}} (?![\w]|\.\d)")
_IPV6 = _compile(rf"""
    (?<![\w:.]) (?:[0-9A-Fa-f]{{0,4}}:){{2,7}} (?:{_OCTET}(?:\.{_OCTET}){{3}}|[0-9A-Fa-f]{{1,4}})? (?![\w:]|\.\w)""")


_CONSTRAINTS = frozenset({">=", "<=", "==", "~=", "!=", "=>"})


def _ipv4_span(m: re.Match[str]) -> tuple[int, int] | None:
    # 0.x and 127.x identify nobody (and 0.1.2.3 is a version); after >= or == it is a version constraint.
    if m.group().startswith(("0.", "127.")) or m.string[max(0, m.start() - 2):m.start()] in _CONSTRAINTS:
        return None
    return None if _after_reference_label(m) else m.span()


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


# --- secrets ------------------------------------------------------------------------------------------------
_PROVIDER_KEY = _compile(r"""
    (?<![\w-]) (?:
        (?P<openai>sk-[A-Za-z0-9_-]{20,})
      | (?P<aws>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})
      | (?P<github>gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})
      | (?P<slack>xox[abposr]-[A-Za-z0-9-]{10,})
      | (?P<google>AIza[A-Za-z0-9_-]{35})
      | (?P<jwt>eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,})
    ) (?![A-Za-z0-9_-])""")
_BEARER = _compile(r"(?i)(?<![\w-]) bearer[ \t]+ (?P<token>[A-Za-z0-9._~+/-]{16,}=*)")
_ASSIGNED_SECRET = _compile(r"""(?i)
    (?<![a-z0-9]) (?P<name>(?:[a-z0-9]+[_.-]){0,3}
        (?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?(?:key|token)|auth[_-]?token
          |refresh[_-]?token|token|password|passwd|passphrase|pwd|private[_-]?key))
    ["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?
    (?P<value>[^\s"'`,;<>()\[\]{}]{6,256})""")
_URL_PASSWORD = _compile(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:(?P<password>[^\s@/]{1,128})@")
_PRIVATE_KEY = _compile(r"""
    -----BEGIN[ ](?:[A-Z0-9]+[ ]){0,3}PRIVATE[ ]KEY-----[A-Za-z0-9+/=\s]*
    (?:-----END[ ](?:[A-Z0-9]+[ ]){0,3}PRIVATE[ ]KEY-----)?""")
# Values that name where a secret lives, or stand in for one, rather than being one.
_NOT_A_VALUE = re.compile(r"(?i)(?:none|null|nil|true|false|undefined|changeme|redacted|example|secret|passw(?:or)?d"
                          r"|pwd|pass|token|api[_-]?key|your[_-].*|x+|\*+|\.+|-+)|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NEXT_QUERY_PARAMETER = re.compile(r"&\w+=")


def _entropy_bits(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_random(value: str, min_length: int = 16) -> bool:
    """True for strings shaped like generated keys: long, letters and digits mixed, little repetition."""
    return (len(value) >= min_length and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)
            and _entropy_bits(value) >= 3.0)


def _trim_dots(m: re.Match[str], group: str) -> tuple[int, int]:
    # A sentence's full stop after a token belongs to the sentence.
    start, end = m.span(group)
    while end > start and m.string[end - 1] == ".":
        end -= 1
    return start, end


def _provider_key_span(m: re.Match[str]) -> tuple[int, int] | None:
    if m.group("openai") or m.group("slack"):
        return m.span() if looks_random(m.group().split("-", 1)[1], 10) else None
    if m.group("jwt"):
        header = m.group().split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
            return None
        return m.span() if isinstance(decoded, dict) and "alg" in decoded else None
    return m.span()


def _bearer_span(m: re.Match[str]) -> tuple[int, int] | None:
    start, end = _trim_dots(m, "token")
    return (start, end) if looks_random(m.string[start:end]) else None


def _assigned_secret_span(m: re.Match[str]) -> tuple[int, int] | None:
    start, end = _trim_dots(m, "value")
    end = start + len(_NEXT_QUERY_PARAMETER.split(m.string[start:end], 1)[0])  # ...token=abc&state=xyz
    value, name = m.string[start:end], m.group("name").lower()
    if len(value) < 6 or value[0] in "$%{*#:" or _NOT_A_VALUE.fullmatch(value):
        return None
    if "pass" in name or "pwd" in name:
        # A password may be short and unrandom, but letters alone are more often prose or an identifier in code.
        symbols = any(not ch.isalnum() and ch != "_" for ch in value)
        return (start, end) if symbols or any(ch.isdigit() for ch in value) else None
    return (start, end) if looks_random(value) else None


def _url_password_span(m: re.Match[str]) -> tuple[int, int] | None:
    value = m.group("password")  # "<password>" and "${DB_PASSWORD}" are how documentation writes the slot
    return None if value[0] in "$%{<*" or _NOT_A_VALUE.fullmatch(value) else m.span("password")


def _private_key_span(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group().rstrip()
    # A header alone, as in code that looks for one, holds no key.
    body = text.split("-----")[2] if text.count("-----") >= 2 else ""
    return (m.start(), m.start() + len(text)) if len("".join(body.split())) >= 16 else None


DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.EMAIL, _EMAIL, _email_span, needs="@"),
    Detector(PiiKind.PHONE, _PHONE_INTERNATIONAL, _phone_span, needs="+"),
    Detector(PiiKind.PHONE, _PHONE_TRUNK, _phone_span, needs="0"),
    Detector(PiiKind.PHONE, _PHONE_NANP, _phone_span),
    Detector(PiiKind.PHONE, _PHONE_LABELLED, lambda m: m.span("number")),
    Detector(PiiKind.PAYMENT_CARD, _CARD, _card_span),
    Detector(PiiKind.IBAN, _IBAN, _iban_span),
    Detector(PiiKind.US_SSN, _US_SSN, _entire(_ssn_ok)),
    Detector(PiiKind.US_SSN, _US_SSN_LABELLED, _labelled_ssn_span),
    Detector(PiiKind.UK_NINO, _UK_NINO, _entire(lambda text: text[:2] not in _NINO_UNALLOCATED)),
    Detector(PiiKind.IP_ADDRESS, _IPV4, _ipv4_span, needs="."),
    Detector(PiiKind.IP_ADDRESS, _IPV6, _entire(_ipv6_ok), needs=":"),
    Detector(PiiKind.SECRET, _PROVIDER_KEY, _provider_key_span),
    Detector(PiiKind.SECRET, _BEARER, _bearer_span),
    Detector(PiiKind.SECRET, _ASSIGNED_SECRET, _assigned_secret_span),
    Detector(PiiKind.SECRET, _URL_PASSWORD, _url_password_span, needs="://"),
    Detector(PiiKind.SECRET, _PRIVATE_KEY, _private_key_span, needs="PRIVATE KEY"),
)
