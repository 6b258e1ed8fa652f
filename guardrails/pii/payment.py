"""Payment card numbers and IBANs: found by shape, confirmed by issuer range or country length and checksum."""

from __future__ import annotations

import re

from guardrails.pii.detector import Detector, PiiKind, compile_pattern

# --- payment cards ------------------------------------------------------------------------------------------
_CARD = compile_pattern(r"(?<![\w.-]) \d(?:[ -]?\d){12,30} (?![\w-]|\.\d)")  # longer than a card: see _card_span
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
_IBAN = compile_pattern(r"""(?<![A-Za-z0-9])  # either case: people type IBANs in lower case; the checksum ignores case
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


PAYMENT_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.PAYMENT_CARD, _CARD, _card_span),
    Detector(PiiKind.IBAN, _IBAN, _iban_span),
)
