"""The gateway's typed errors: each says what went wrong and what a person can do about it."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import datetime, timezone

from portal.core.errors import PortalError

__all__ = [
    "GatewayAuthError", "GatewayBadResponse", "GatewayError", "GatewayModelNotFound", "GatewayRateLimited",
    "GatewayServerError", "GatewayStreamInterrupted", "GatewayTimeout", "GatewayUnreachable",
    "retry_after_seconds",
]


class GatewayError(PortalError):
    """The AI gateway could not serve a request; the message says what to do about it."""


class GatewayUnreachable(GatewayError):
    """No connection to the gateway could be made."""


class GatewayAuthError(GatewayError):
    """The gateway rejected the portal's API key or the caller's access (401/403)."""


class GatewayModelNotFound(GatewayError):
    """The gateway does not serve the requested model."""


class GatewayRateLimited(GatewayError):
    """The gateway asked us to slow down (429); `retry_after_s` is its hint, if it gave one."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class GatewayTimeout(GatewayError):
    """The gateway did not answer within the client's timeout."""


class GatewayServerError(GatewayError):
    """The gateway or the model behind it failed (5xx)."""


class GatewayStreamInterrupted(GatewayError):
    """A streamed answer stopped (cut, silent, or an error event) before it finished; `partial_text` arrived."""

    def __init__(self, message: str, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


class GatewayBadResponse(GatewayError):
    """The gateway answered with something that is not valid OpenAI-compatible JSON."""


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None
