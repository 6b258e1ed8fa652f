"""Who acts: a signed-in user, or one of the named system principals declared here.

A system principal is how the portal acts when no person does. It holds only the permissions listed for it,
every service checks it with the same `require()` as a user, and the audit log records its name as the actor
(with no user id). A new job gets its own principal here rather than borrowing a broader one.

The declarations below are the one place that says what each principal may do; the README's table is
generated from `principal_table_markdown()` and a test keeps the two in step.
"""

from __future__ import annotations

from typing import TypeAlias

from portal.core.auth import Permission, SystemPrincipal
from portal.core.users import User

Principal: TypeAlias = User | SystemPrincipal

P = Permission

SYSTEM_CLI = SystemPrincipal(
    name="system:cli",
    permissions=frozenset({P.MANAGE_CATALOG, P.MANAGE_PROMPTS, P.MANAGE_TRAINING, P.MANAGE_TEMPLATES}),
    acts_for="an operator's `coe-portal` command on the server: catalog import, sync and probe, prompts import, "
             "training sync. It never reviews: an imported card starts as proposed and goes through review",
)
SYSTEM_SEED = SystemPrincipal(
    name="system:seed",
    permissions=frozenset({P.MANAGE_USERS, P.MANAGE_CATALOG, P.MANAGE_PROMPTS, P.MANAGE_TRAINING, P.REVIEW}),
    acts_for="`coe-portal seed`: the demo users, prompts and courses, and the demo catalog, whose cards it moves "
             "through the real lifecycle transitions (reason \"seed data\") to the states the seed file names",
)
SYSTEM_SCHEDULER = SystemPrincipal(
    name="system:scheduler",
    permissions=frozenset({P.MANAGE_CATALOG, P.MANAGE_TEMPLATES}),
    acts_for="start-up and scheduled jobs: the gateway sync when the portal starts, keeping the built-in "
             "templates in step with the repository",
)
SYSTEM_PROBE = SystemPrincipal(
    name="system:probe",
    permissions=frozenset(),
    acts_for="pays for the catalog's health probes: each probe goes through the metered gateway path and is "
             "recorded as its usage (source `probe`), drawing on no person's or team's budget. It may change "
             "nothing",
)
SYSTEM_PORTFOLIO = SystemPrincipal(
    name="system:portfolio",
    permissions=frozenset({P.BROWSE}),
    acts_for="moves a tier-1 use case from assessment to pilot on its own once every graduation criterion of the "
             "move is met (reason \"criteria met\"): after a change to the use case, and in `coe-portal portfolio "
             "advance`. It signs, approves and waives nothing, and never moves a tier-2 or tier-3 use case",
)
SYSTEM_PRINCIPALS: tuple[SystemPrincipal, ...] = (SYSTEM_CLI, SYSTEM_SEED, SYSTEM_SCHEDULER, SYSTEM_PROBE,
                                                  SYSTEM_PORTFOLIO)


def principal_table_markdown() -> str:
    """The system principals and what each may do, as the README shows them."""
    rows = [f"| `{p.name}` | {p.acts_for} | " + ", ".join(f"`{perm.value}`" for perm in Permission
                                                           if perm in p.permissions) + " |"
            for p in SYSTEM_PRINCIPALS]
    return "\n".join(["| principal | acts for | permissions |", "|---|---|---|", *rows])
