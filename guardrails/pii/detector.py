"""What a detector is (a kind, a pattern, a confirming check) and the pattern helpers the detectors share."""

from __future__ import annotations

import re
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
    needs_any: tuple[str, ...] = ()  # or, lower-cased, one of these: case-insensitive patterns are costly to run


def compile_pattern(pattern: str) -> re.Pattern[str]:
    # ASCII: Luhn, int() and ipaddress expect ASCII digits, and \d would also take Arabic-Indic ones.
    return re.compile(pattern, re.ASCII | re.VERBOSE)


def whole_match_if(check: Callable[[str], bool]) -> Confirm:
    """A confirm that keeps the whole match when `check` accepts its text."""
    return lambda m: m.span() if check(m.group()) else None


def labelled_number(labels: str, number: str) -> re.Pattern[str]:
    """Digits without separators count only right after a label saying what they are ("mobile: 07700900123")."""
    return compile_pattern(rf"""(?i)
        (?<![a-z]) (?:{labels}) \.? ["']? [ \t]* (?:\#|no\.?|nr\.?|number)? [ \t]* [:=,-]? [ \t]* ["']? [ \t]*
        (?:(?:is|was|on|at)[ \t]+)?
        (?P<number>{number}) (?![\w]|[./-]\d)""")


# A number right after one of these labels is a reference, version or section, not a phone or an address.
_REFERENCE_LABELS = frozenset("""order invoice inv ref reference sku part item product model serial tracking shipment
    parcel isbn issn ean upc ticket case po batch lot account acct version ver release build section chapter clause
    step incident inc request req change chg task bug issue job booking confirmation claim imei v""".split())
# The last word before the number, then what may sit between a label and its number ("no.", "#", ":", a quote).
# A plain letter run, then a set look-up: an alternation of every label tried at each position cost 0.1 ms a number.
_LABEL_BEFORE = re.compile(
    r"(?i)(?<![a-z])(?P<label>[a-z]+)_*\.?[ \t]*(?:no\.?|nr\.?|num(?:ber)?|id|code|\#)?[ \t]*[:\#=]?[ \t]*[\"']?$")


def after_reference_label(m: re.Match[str]) -> bool:
    before = _LABEL_BEFORE.search(m.string, max(0, m.start() - 32), m.start())
    return before is not None and before.group("label").lower() in _REFERENCE_LABELS
