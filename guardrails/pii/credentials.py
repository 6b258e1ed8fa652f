"""Secrets: provider API keys and tokens, bearer tokens, assigned secrets and passwords, URL passwords, private keys."""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter

from guardrails.pii.detector import Detector, PiiKind, compile_pattern

_PROVIDER_KEY = compile_pattern(r"""
    (?<![\w-]) (?:
        (?P<openai>sk-[A-Za-z0-9_-]{20,})
      | (?P<aws>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})
      | (?P<github>gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})
      | (?P<gitlab>glpat-[A-Za-z0-9_-]{20,})
      | (?P<stripe>[sr]k_live_[A-Za-z0-9]{20,})
      | (?P<huggingface>hf_[A-Za-z0-9]{30,})
      | (?P<slack>xox[abposr]-[A-Za-z0-9-]{10,})
      | (?P<google>AIza[A-Za-z0-9_-]{35})
      | (?P<jwt>eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,})
    ) (?![A-Za-z0-9_-])""")
_BEARER = compile_pattern(r"(?i)(?<![\w-]) bearer[ \t]+ (?P<token>[A-Za-z0-9._~+/-]{16,}=*)")
_BASIC = compile_pattern(r"(?i)(?<![\w-]) basic[ \t]+ (?P<token>[A-Za-z0-9+/]{8,}={0,2}) (?![\w+/=])")
_ASSIGNED_SECRET = compile_pattern(r"""(?i)
    (?<![a-z0-9]) (?P<name>(?:[a-z0-9]+[_.-]){0,3}
        (?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?(?:key|token)|auth[_-]?token
          |refresh[_-]?token|token|password|passwd|passphrase|pwd|private[_-]?key))
    ["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?
    (?P<value>[^\s"'`,;<>()\[\]{}]{6,256})""")
_URL_PASSWORD = compile_pattern(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:(?P<password>[^\s@/]{1,128})@")
# A secret named in a sentence rather than assigned: "my token is …", "the webhook secret … leaked".
_SECRET_IN_PROSE = compile_pattern(r"""(?i)
    (?<![\w-]) (?P<name>api[ ]?key|secret|token|password|passphrase|passwd|pwd) s? (?=[ \t\n:=])
    (?:[ \t]+(?:is|was|to|now|set[ \t]+to|(?:for|of|in)[ \t]+[\w-]{1,32})){0,2} [ \t]*[:=]?[ \t]*\n?[ \t]* ["'`]?
    (?P<value>[^\s"'`,;<>()\[\]{}]{6,256})""")
_PRIVATE_KEY = compile_pattern(r"""
    -----BEGIN[ ](?:[A-Z0-9]+[ ]){0,3}PRIVATE[ ]KEY-----[A-Za-z0-9+/=\s]*
    (?:-----END[ ](?:[A-Z0-9]+[ ]){0,3}PRIVATE[ ]KEY-----)?""")
# Values that name where a secret lives, or stand in for one, rather than being one.
_NOT_A_VALUE = re.compile(r"(?i)(?:none|null|nil|true|false|undefined|changeme|redacted|example|secret|passw(?:or)?d"
                          r"|pwd|pass|token|api[_-]?key|your[_-].*|x+|\*+|\.+|-+)|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NEXT_QUERY_PARAMETER = re.compile(r"&\w+=")
# Documentation writes the slot in words or fills it: "your-key-here", "YOUR_API_KEY", "change-me", "xxxx-xxxx".
_PLACEHOLDER_WORD = re.compile(r"(?i)(?:^|[-_.])(?:your|here|placeholder|replace|changeme|change|insert|dummy|fake"
                               r"|sample|redacted|xxx+|todo|fixme)(?:[-_.]|$)")


def _entropy_bits(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_random(value: str, min_length: int = 16) -> bool:
    """True for strings shaped like generated keys: long, letters and digits mixed, little repetition."""
    return (len(value) >= min_length and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)
            and _entropy_bits(value) >= 3.0)


def is_placeholder(value: str) -> bool:
    """True for a documented stand-in: words naming the slot, or one character repeated (AKIAXXXXXXXXXXXXXXXX)."""
    body = value.split("_", 1)[-1] if value[:4] in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_") else value
    return _PLACEHOLDER_WORD.search(value) is not None or _entropy_bits(body.removeprefix("AKIA")) < 1.5


def _trim_dots(m: re.Match[str], group: str) -> tuple[int, int]:
    # A sentence's full stop after a token belongs to the sentence.
    start, end = m.span(group)
    while end > start and m.string[end - 1] == ".":
        end -= 1
    return start, end


def _provider_key_span(m: re.Match[str]) -> tuple[int, int] | None:
    if is_placeholder(m.group()):
        return None
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


def _basic_span(m: re.Match[str]) -> tuple[int, int] | None:
    # HTTP Basic credentials are base64 of "user:password"; "Basic authentication" decodes to nothing of the kind.
    token = m.group("token")
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode()
    except ValueError:
        return None
    user, _, password = decoded.partition(":")
    return m.span("token") if user and password and decoded.isprintable() else None


def _assigned_secret_span(m: re.Match[str]) -> tuple[int, int] | None:
    start, end = _trim_dots(m, "value")
    end = start + len(_NEXT_QUERY_PARAMETER.split(m.string[start:end], 1)[0])  # ...token=abc&state=xyz
    value, name = m.string[start:end], m.group("name").lower()
    if len(value) < 6 or value[0] in "$%{*#:" or _NOT_A_VALUE.fullmatch(value) or is_placeholder(value):
        return None
    if "pass" in name or "pwd" in name:
        # A password may be short and unrandom, but letters alone are more often prose or an identifier in code.
        symbols = any(not ch.isalnum() and ch != "_" for ch in value)
        return (start, end) if symbols or any(ch.isdigit() for ch in value) else None
    return (start, end) if looks_random(value) else None


def _secret_in_prose_span(m: re.Match[str]) -> tuple[int, int] | None:
    # Without an = or a colon the value must look generated; a password must at least mix in digits or symbols.
    return _assigned_secret_span(m)


def _url_password_span(m: re.Match[str]) -> tuple[int, int] | None:
    value = m.group("password")  # "<password>" and "${DB_PASSWORD}" are how documentation writes the slot
    return None if value[0] in "$%{<*" or _NOT_A_VALUE.fullmatch(value) else m.span("password")


def _private_key_span(m: re.Match[str]) -> tuple[int, int] | None:
    text = m.group().rstrip()
    # A header alone, as in code that looks for one, holds no key.
    body = text.split("-----")[2] if text.count("-----") >= 2 else ""
    return (m.start(), m.start() + len(text)) if len("".join(body.split())) >= 16 else None


# Every name the two patterns above accept holds one of these.
_SECRET_NAME_PARTS = ("key", "secret", "token", "pass", "pwd")

SECRET_DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.SECRET, _PROVIDER_KEY, _provider_key_span),
    Detector(PiiKind.SECRET, _BEARER, _bearer_span, needs_any=("bearer",)),
    Detector(PiiKind.SECRET, _BASIC, _basic_span, needs_any=("basic",)),
    Detector(PiiKind.SECRET, _ASSIGNED_SECRET, _assigned_secret_span, needs_any=_SECRET_NAME_PARTS),
    Detector(PiiKind.SECRET, _SECRET_IN_PROSE, _secret_in_prose_span, needs_any=_SECRET_NAME_PARTS),
    Detector(PiiKind.SECRET, _URL_PASSWORD, _url_password_span, needs="://"),
    Detector(PiiKind.SECRET, _PRIVATE_KEY, _private_key_span, needs="PRIVATE KEY"),
)
