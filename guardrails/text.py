"""Guardrails on a text: scan what is about to reach the AI gateway for personal and secret data, then warn, redact
or block.

What gets audited is `GuardrailOutcome.summary()` — kinds and counts, never the values.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from portal.core.errors import PortalError
from guardrails.pii.detector import Detector, PiiKind
from guardrails.pii.registry import DETECTORS

__all__ = ["Finding", "GuardrailAction", "GuardrailError", "GuardrailOutcome", "PiiKind", "RedactionResult",
           "apply_guardrails", "describe", "guard_alongside", "placeholder_for", "redact", "require_sendable", "scan"]


@dataclass(frozen=True)
class Finding:
    """One value found in a text, with its position."""

    kind: PiiKind
    start: int
    end: int
    text: str = field(repr=False)  # a finding that ends up in a log or traceback must not carry the value


# When two candidates of the same length overlap, the stricter detector wins (a secret or card beats a phone).
_PRECEDENCE = {kind: rank for rank, kind in enumerate([
    PiiKind.SECRET, PiiKind.PAYMENT_CARD, PiiKind.IBAN, PiiKind.US_SSN, PiiKind.UK_NINO, PiiKind.EMAIL,
    PiiKind.IP_ADDRESS, PiiKind.PHONE])}


def scan(text: str, detectors: tuple[Detector, ...] = DETECTORS) -> list[Finding]:
    """Every confirmed value in `text`, ordered by position, none overlapping."""
    candidates = []
    lowered = text.lower()
    for detector in detectors:
        if detector.needs and detector.needs not in text:
            continue
        if detector.needs_any and not any(word in lowered for word in detector.needs_any):
            continue
        for match in detector.pattern.finditer(text):
            span = detector.confirm(match)
            if span is not None and span[0] < span[1]:
                candidates.append(Finding(detector.kind, span[0], span[1], text[span[0]:span[1]]))
    return _without_overlaps(candidates)


def _without_overlaps(candidates: list[Finding]) -> list[Finding]:
    """Keep the longest (then strictest) candidate wherever candidates overlap."""
    starts: list[int] = []
    kept: list[Finding] = []
    for finding in sorted(candidates, key=lambda f: (f.start - f.end, _PRECEDENCE[f.kind], f.start)):
        at = bisect.bisect_right(starts, finding.start)
        if (at and kept[at - 1].end > finding.start) or (at < len(kept) and kept[at].start < finding.end):
            continue
        starts.insert(at, finding.start)
        kept.insert(at, finding)
    return kept


class GuardrailAction(StrEnum):
    """What happens to a text in which something was found; a data classification chooses one."""

    WARN = "warn"
    REDACT = "redact"
    BLOCK = "block"


@dataclass(frozen=True)
class RedactionResult:
    """The text with placeholders, and which original each placeholder stands for."""

    text: str
    replacements: list[tuple[str, str]] = field(repr=False)  # (placeholder, original)


@dataclass(frozen=True)
class GuardrailOutcome:
    """What the guardrails found and what, if anything, may be sent."""

    action: GuardrailAction
    findings: list[Finding]
    text_to_send: str | None = field(repr=False)  # an outcome may be logged; the text may hold the values
    blocked: bool
    replacements: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, int]:
        """How many values of each kind were found: the audited part, never the values themselves."""
        counts = Counter(f.kind for f in self.findings)
        return {kind.value: counts[kind] for kind in PiiKind if counts[kind]}


class GuardrailError(PortalError):
    """The guardrails blocked a text; the message says what kinds were found, never the values."""

    def __init__(self, outcome: GuardrailOutcome) -> None:
        super().__init__(describe(outcome))
        self.outcome = outcome  # its repr leaves out the text, so the error may be logged
        self.summary = outcome.summary()


def placeholder_for(kind: PiiKind, number: int) -> str:
    """The stand-in sent instead of the `number`-th distinct value of `kind`, e.g. <EMAIL_1>."""
    return f"<{kind.value.upper()}_{number}>"


_PLACEHOLDER = re.compile(r"<(?:" + "|".join(k.value.upper() for k in PiiKind) + r")_\d+>")


def _same_value_key(finding: Finding) -> str:
    """Spellings of one value that should share a placeholder: 4111-1111-… and 4111 1111 …, any-case e-mail."""
    text = finding.text
    if finding.kind in (PiiKind.PHONE, PiiKind.PAYMENT_CARD, PiiKind.US_SSN):
        return "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if finding.kind in (PiiKind.IBAN, PiiKind.UK_NINO):
        return text.replace(" ", "").upper()
    if finding.kind is PiiKind.EMAIL:
        return text.casefold()
    if finding.kind is PiiKind.IP_ADDRESS:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:  # a finding a caller built by hand
            return text
    return text


def redact(text: str, findings: Sequence[Finding]) -> RedactionResult:
    """Replace each finding with a numbered placeholder per kind; the same value always gets the same one."""
    # A placeholder the user typed themselves is never reused, so each one in the sent text means one value.
    taken = set(_PLACEHOLDER.findall(text))
    assigned: dict[tuple[PiiKind, str], str] = {}
    numbers: Counter[PiiKind] = Counter()
    replacements: list[tuple[str, str]] = []
    listed: set[tuple[str, str]] = set()
    pieces, cursor = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < cursor:  # scan() never overlaps, but a caller's own list might
            continue
        key = (finding.kind, _same_value_key(finding))
        if key not in assigned:
            placeholder = ""
            while not placeholder or placeholder in taken:
                numbers[finding.kind] += 1
                placeholder = placeholder_for(finding.kind, numbers[finding.kind])
            assigned[key] = placeholder
        if (assigned[key], finding.text) not in listed:
            listed.add((assigned[key], finding.text))
            replacements.append((assigned[key], finding.text))
        pieces += [text[cursor:finding.start], assigned[key]]
        cursor = finding.end
    pieces.append(text[cursor:])
    return RedactionResult(text="".join(pieces), replacements=replacements)


def apply_guardrails(text: str, action: GuardrailAction | str) -> GuardrailOutcome:
    """Scan `text` and apply `action`: WARN sends it as written, REDACT with placeholders, BLOCK not at all."""
    action = GuardrailAction(action)
    findings = scan(text)
    if not findings:
        return GuardrailOutcome(action=action, findings=[], text_to_send=text, blocked=False)
    if action is GuardrailAction.BLOCK:
        return GuardrailOutcome(action=action, findings=findings, text_to_send=None, blocked=True)
    if action is GuardrailAction.REDACT:
        redacted = redact(text, findings)
        return GuardrailOutcome(action=action, findings=findings, text_to_send=redacted.text, blocked=False,
                                replacements=redacted.replacements)
    return GuardrailOutcome(action=action, findings=findings, text_to_send=text, blocked=False)


def guard_alongside(sent: str, others: Sequence[str], action: GuardrailAction | str,
                    ) -> tuple[GuardrailOutcome | None, list[str]]:
    """Guard texts that go with an already guarded one (a system prompt, passages, document names): what was found
    in `others` alone (None when nothing) and `others` as they may be sent (none when blocked). The placeholders
    `sent` holds go first, so none of them is reused for another value (and `sent` is not scanned again)."""
    separator = "\f"  # never in a guarded text (reading.py removes it), and no placeholder contains it
    taken = " ".join(sorted(set(_PLACEHOLDER.findall(sent))))
    outcome = apply_guardrails(separator.join([taken, *others]), action)
    findings = [f for f in outcome.findings if f.start > len(taken)]
    if not findings:
        return None, list(others)
    originals = {f.text for f in findings}
    outcome = GuardrailOutcome(action=outcome.action, findings=findings, text_to_send=outcome.text_to_send,
                               blocked=outcome.blocked,
                               replacements=[r for r in outcome.replacements if r[1] in originals])
    if outcome.blocked:
        return outcome, []
    guarded = (outcome.text_to_send or "").split(separator)
    if len(guarded) != len(others) + 1:  # a value ran across two texts: guard each on its own
        return outcome, [apply_guardrails(t, outcome.action).text_to_send or "" for t in others]
    return outcome, guarded[1:]


def require_sendable(outcome: GuardrailOutcome) -> str:
    """The text that may go to the gateway; raises GuardrailError when the guardrails blocked it."""
    if outcome.blocked or outcome.text_to_send is None:
        raise GuardrailError(outcome)
    return outcome.text_to_send


_NAMES = {
    PiiKind.EMAIL: ("e-mail address", "e-mail addresses"),
    PiiKind.PHONE: ("phone number", "phone numbers"),
    PiiKind.PAYMENT_CARD: ("payment card number", "payment card numbers"),
    PiiKind.IBAN: ("IBAN", "IBANs"),
    PiiKind.US_SSN: ("US Social Security number", "US Social Security numbers"),
    PiiKind.UK_NINO: ("UK National Insurance number", "UK National Insurance numbers"),
    PiiKind.IP_ADDRESS: ("IP address", "IP addresses"),
    PiiKind.SECRET: ("API key, token or password", "API keys, tokens or passwords"),
}


def describe(outcome: GuardrailOutcome, *, what: str = "this message") -> str:
    """One sentence for the person: what kinds were found, how many, and what happened — never the values."""
    counts = outcome.summary()
    if not counts:
        return "No personal or secret data found."
    parts = [f"{n} {_NAMES[PiiKind(kind)][n != 1]}" for kind, n in counts.items()]
    found = "Found " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])
    them = "it" if sum(counts.values()) == 1 else "them"
    if outcome.blocked:
        return (f"{found}: blocked — {what} was not sent. Remove {them} or choose a data classification "
                f"that allows {them}.")
    if outcome.action is GuardrailAction.REDACT:
        return f"{found}: redacted before sending."
    return f"{found}: sent as written — make sure this data may be shared with the model."
