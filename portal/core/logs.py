"""Logging set-up: one file log with secrets masked, so stack traces go to the log and never leak keys."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

MASK = "********"
# Bearer tokens, OpenAI-style keys and passwords in URLs, wherever they turn up in a message.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(sk-)[A-Za-z0-9_-]{8,}"),
    re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)"),
)


class SecretMaskingFilter(logging.Filter):
    """Replaces known secret values and secret-looking tokens in every record before it is written."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.lastindex == 2 else ""), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True


STREAMLIT_SIGN_IN_LOGGER = "streamlit.web.server.starlette.starlette_auth_routes"


def configure_logging(*, level: str, log_file: Path, secrets: Iterable[str] = ()) -> None:
    """Send the portal's log to a file (and stderr), masking the given secrets; safe to call twice."""
    root = logging.getLogger()
    if any(getattr(h, "_portal", False) for h in root.handlers):
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    masking = SecretMaskingFilter(secrets)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler()
    # The console shows problems only; the file keeps everything at the configured level.
    console.setLevel(logging.WARNING)
    file = logging.FileHandler(log_file, encoding="utf-8")
    for handler in (file, console):
        handler.setFormatter(formatter)
        handler.addFilter(masking)
        handler._portal = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # Streamlit's loggers do not propagate to the root; the sign-in callback's is the one whose messages
    # (why an identity provider refused a sign-in) the CoE team needs in the portal's log.
    logging.getLogger(STREAMLIT_SIGN_IN_LOGGER).addHandler(file)
