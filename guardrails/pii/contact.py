"""E-mail addresses and phone numbers (international, national with a trunk 0, North American, labelled)."""

from __future__ import annotations

import re

from guardrails.pii.detector import Detector, PiiKind, after_reference_label, compile_pattern, labelled_number

# --- e-mail -------------------------------------------------------------------------------------------------
_EMAIL = compile_pattern(r"""
    (?<![\w.%+-]) [A-Za-z0-9][A-Za-z0-9._%+-]{0,63}
    @ (?:[A-Za-z0-9-]{1,63}\.){1,8} [A-Za-z]{2,24} (?![\w-]|\.[A-Za-z0-9])""")
_URL_USERINFO = re.compile(r"://[^\s/@]*$")


# File extensions no registry delegates as a top-level domain: "icon@2x.png" names an image, not a mailbox.
_FILE_EXTENSIONS = frozenset("png jpg jpeg gif svg webp avif bmp ico tif tiff heic psd js mjs cjs jsx ts tsx css scss "
                             "less json yaml yml toml xml html htm pdf csv txt log lock tar gz tgz bz2 xz whl jar exe "
                             "dll msi dmg deb rpm pyc wasm map".split())
# The conventional accounts of version-control hosts: git@github.com:org/repo.git is a repository, not a person.
_SERVICE_ACCOUNTS = frozenset({"git", "hg", "svn"})
_SCALE_OR_VERSION = re.compile(r"v?\d+x?", re.IGNORECASE)


def _email_span(m: re.Match[str]) -> tuple[int, int] | None:
    local, domain = m.group().rsplit("@", 1)
    if ".." in local or local.endswith(".") or any(p.startswith("-") or p.endswith("-") for p in domain.split(".")):
        return None
    *names, top = domain.split(".")
    if top.lower() in _FILE_EXTENSIONS or local.lower() in _SERVICE_ACCOUNTS:
        return None
    if all(_SCALE_OR_VERSION.fullmatch(name) for name in names):  # app@1.0.zip, logo@2x.zip: no host is named
        return None
    # In https://user:password@host or https://token@host the part before @ is a credential, not an address.
    if _URL_USERINFO.search(m.string, max(0, m.start() - 256), m.start()):
        return None
    return m.span()


# --- phone numbers ------------------------------------------------------------------------------------------
# Separators are required between groups, so a digit run splits one way only and nothing backtracks far.
# National numbers never start inside a run of digit groups (a card, an IBAN, a tracking number).
_PHONE_INTERNATIONAL = compile_pattern(r"""
    (?<![\w+]) (?:\+[1-9]\d{0,3}|\(\+[1-9]\d{0,3}\))   # country code, as in +44 or (+44)
    (?:[ .-]?\(\d{1,5}\))?                           # area code or trunk hint, as in +44 (0)20
    [ .-]?\d{1,14} (?:[ .-]\d{1,8}){0,6}
    (?![\w]|[./-]\d)""")
_PHONE_TRUNK = compile_pattern(r"""
    (?<![\w./+-])(?<!\d[ ]) (?:\(0\d{1,4}\)[ ]?|0\d{1,4}[ ./-])   # trunk 0 and area code, as in 020 or (030)
    \d{2,8} (?:[ .-]\d{2,8}){0,4}
    (?![\w]|[./-]\d)""")
_PHONE_NANP = compile_pattern(r"""
    (?<![\w./+-])(?<!\d[ ]) (?:1[ .-]?)? (?:\([2-9]\d\d\)[ ]?|[2-9]\d\d[ .-]) \d{3}[ .-]\d{4}
    (?![\w]|[./-]\d|[ ]\d{3})""")  # a further group makes it a longer number, as in a row of figures
_PHONE_LABELLED = labelled_number(r"phone|telephone|tel|mobile|mob|cell|cellphone|fax|sms|whatsapp"
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
    return (m.start(), m.start() + len(text)) if plausible and not after_reference_label(m) else None


CONTACT_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.EMAIL, _EMAIL, _email_span, needs="@"),
    Detector(PiiKind.PHONE, _PHONE_INTERNATIONAL, _phone_span, needs="+"),
    Detector(PiiKind.PHONE, _PHONE_TRUNK, _phone_span, needs="0"),
    Detector(PiiKind.PHONE, _PHONE_NANP, _phone_span),
    Detector(PiiKind.PHONE, _PHONE_LABELLED, lambda m: m.span("number"),
             needs_any=("phone", "tel", "mob", "cell", "fax", "sms", "whatsapp", "call", "ring", "text")),
)
