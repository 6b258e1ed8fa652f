"""Metering: every gateway call made for a person is priced, reserved against their budgets and recorded."""
