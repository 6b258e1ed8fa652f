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
