"""Errors a person can cause or act on; pages show their message and keep the user's input."""


class PortalError(Exception):
    """Base for every error whose message is meant for the person using the portal."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(PortalError):
    """The signed-in user's role does not allow the action."""


class NotFound(PortalError):
    """The thing asked for does not exist (or is not visible to the user)."""


class InvalidInput(PortalError):
    """A value the user typed is not acceptable; the message says which and why."""


class SettingsError(PortalError):
    """A setting has a value the portal cannot run with."""


class StaleEdit(PortalError):
    """Someone saved the thing after the editor opened it: nothing was saved, and the page keeps the user's input."""

    def __init__(self, *, noun: str, base: int, latest: int | None, message: str = "") -> None:
        super().__init__(message or _stale_message(noun, base, latest))
        self.noun, self.base, self.latest = noun, base, latest


def _stale_message(noun: str, base: int, latest: int | None) -> str:
    """The one "someone saved while you edited" message every editor shows; base 0 means the editor saw none."""
    if latest is None:
        what = (f"Someone removed this {noun} while you edited revision {base}" if base
                else f"Someone saved this {noun} while you were filling in the form")
    else:
        what = (f"Someone saved revision {latest} of this {noun} while you edited revision {base}" if base
                else f"Someone saved revision {latest} of this {noun} while you were filling in the form")
    return (f"{what}. Nothing was saved; your changes are still in the form: take the latest {noun}, "
            "then save again.")
