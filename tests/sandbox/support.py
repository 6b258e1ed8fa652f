"""Shared by the sandbox tests: the policy they run under."""

from sandbox.chat import SandboxPolicy
from metering.budgets import BudgetPolicy

POLICY = SandboxPolicy(budgets=BudgetPolicy(daily_tokens_per_user=100_000, monthly_usd_per_team=100.0),
                       max_message_chars=2000,
                       guardrail_actions={"public": "block", "internal": "redact", "confidential": "warn",
                                          "restricted": "warn"})
