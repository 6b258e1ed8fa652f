"""Roles, permissions and the checks services make before they change anything.

Roles are ordered: each role can do everything the roles below it can.

| permission          | viewer | contributor | reviewer | risk_reviewer | admin |
|---------------------|:------:|:-----------:|:--------:|:-------------:|:-----:|
| browse              |   x    |      x      |    x     |       x       |   x   |
| use_sandbox         |   x    |      x      |    x     |       x       |   x   |
| contribute          |        |      x      |    x     |       x       |   x   |
| review              |        |             |    x     |       x       |   x   |
| view_team_usage     |        |             |    x     |       x       |   x   |
| manage_training     |        |             |    x     |       x       |   x   |
| review_risk         |        |             |          |       x       |   x   |
| manage_catalog      |        |             |          |               |   x   |
| manage_prompts      |        |             |          |               |   x   |
| manage_users        |        |             |          |               |   x   |
| view_audit_log      |        |             |          |               |   x   |
| manage_templates    |        |             |          |               |   x   |

`PERMISSION_DESCRIPTIONS` says what each permission covers; the README's table is generated from
`permission_table_markdown()` and a test keeps the two in step.

When no person acts (a command on the server, the seed, a start-up job) the actor is a `SystemPrincipal`: a
name and the permissions it is declared to hold, checked by the same `require()`. The named principals are
declared in portal.core.principals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol

from portal.core.errors import PermissionDenied


class Role(StrEnum):
    """A portal role; later members include earlier ones."""

    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    RISK_REVIEWER = "risk_reviewer"  # a reviewer from risk & compliance: the second approver of tier-3 use cases
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


class Permission(StrEnum):
    """Something a service may refuse to do for a role."""

    BROWSE = "browse"
    USE_SANDBOX = "use_sandbox"
    CONTRIBUTE = "contribute"
    REVIEW = "review"
    VIEW_TEAM_USAGE = "view_team_usage"
    MANAGE_TRAINING = "manage_training"
    REVIEW_RISK = "review_risk"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_PROMPTS = "manage_prompts"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_TEMPLATES = "manage_templates"


# The lowest role holding each permission.
MINIMUM_ROLE: dict[Permission, Role] = {
    Permission.BROWSE: Role.VIEWER,
    Permission.USE_SANDBOX: Role.VIEWER,
    Permission.CONTRIBUTE: Role.CONTRIBUTOR,
    Permission.REVIEW: Role.REVIEWER,
    Permission.VIEW_TEAM_USAGE: Role.REVIEWER,
    Permission.MANAGE_TRAINING: Role.REVIEWER,
    Permission.REVIEW_RISK: Role.RISK_REVIEWER,
    Permission.MANAGE_CATALOG: Role.ADMIN,
    Permission.MANAGE_PROMPTS: Role.ADMIN,
    Permission.MANAGE_USERS: Role.ADMIN,
    Permission.VIEW_AUDIT_LOG: Role.ADMIN,
    Permission.MANAGE_TEMPLATES: Role.ADMIN,
}

PERMISSION_DESCRIPTIONS: dict[Permission, str] = {
    Permission.BROWSE: "browse the catalog, prompts, templates and courses",
    Permission.USE_SANDBOX: "chat with approved models in the sandbox",
    Permission.CONTRIBUTE: "create prompts, request models, fork templates",
    Permission.REVIEW: "approve others' prompts and model requests (never one's own)",
    Permission.VIEW_TEAM_USAGE: "see usage and cost per team and department",
    Permission.MANAGE_TRAINING: "assign courses and see the training dashboard (the CoE team)",
    Permission.REVIEW_RISK: "be the risk reviewer of a tier-3 use case: one of its two approvers, and who accepts its risk assessment",
    Permission.MANAGE_CATALOG: "edit model cards, sync the catalog with the gateway",
    Permission.MANAGE_PROMPTS: "mark prompts trusted (jinja2), edit, unpublish or delete anyone's prompt",
    Permission.MANAGE_USERS: "change users' roles, departments and teams",
    Permission.VIEW_AUDIT_LOG: "browse the audit log",
    Permission.MANAGE_TEMPLATES: "register solution templates and mark them trusted",
}


class HasRole(Protocol):
    """Anything with a role and an identity: the signed-in user."""

    email: str
    role: str


SYSTEM_PREFIX = "system:"


@dataclass(frozen=True)
class SystemPrincipal:
    """A named actor that is not a person, holding exactly the permissions declared for it (no role)."""

    name: str  # "system:cli"; the audit log records it as the actor's e-mail
    permissions: frozenset[Permission]
    acts_for: str  # who or what acts under this name, for the documentation

    # Never a portal_user row: what it creates or approves has no user id, its audit events no actor_id.
    id: ClassVar[None] = None

    def __post_init__(self) -> None:
        if not self.name.startswith(SYSTEM_PREFIX) or len(self.name) > 80:
            raise ValueError(f"a system principal's name starts with '{SYSTEM_PREFIX}' and has at most 80 "
                             f"characters (got {self.name!r})")

    @property
    def email(self) -> str:
        return self.name


def has_permission(actor: HasRole | SystemPrincipal, permission: Permission) -> bool:
    """True when the actor's role (or a system principal's declared permissions) holds the permission."""
    if isinstance(actor, SystemPrincipal):
        return permission in actor.permissions
    return Role(actor.role).includes(MINIMUM_ROLE[permission])


def require(actor: HasRole | SystemPrincipal | None, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor may do what the permission covers."""
    if actor is None:
        raise PermissionDenied("Sign in first.")
    if isinstance(actor, SystemPrincipal):
        if permission not in actor.permissions:
            held = ", ".join(sorted(p.value for p in actor.permissions)) or "nothing"
            raise PermissionDenied(f"{actor.name} may not {PERMISSION_DESCRIPTIONS[permission]} "
                                   f"({permission.value}); it is declared to hold only: {held}.")
        return
    if not has_permission(actor, permission):
        needed = MINIMUM_ROLE[permission]
        raise PermissionDenied(
            f"Your role ({actor.role}) may not {PERMISSION_DESCRIPTIONS[permission]}; "
            f"that needs the {needed} role. Ask a portal admin if you need it."
        )


def role_from_groups(groups: Iterable[str], mapping: Mapping[str, str]) -> Role:
    """The highest role any of the identity provider's groups maps to; viewer when none does."""
    roles = [Role(mapping[group]) for group in groups if group in mapping]
    return max(roles, key=lambda role: role.rank, default=Role.VIEWER)


def permission_table_markdown() -> str:
    """The role/permission table as Markdown, as the README shows it."""
    header = "| permission | what it covers | " + " | ".join(r.value for r in Role) + " |"
    rule = "|---|---|" + "|".join(":-:" for _ in Role) + "|"
    rows = [
        f"| `{p.value}` | {PERMISSION_DESCRIPTIONS[p]} | "
        + " | ".join("x" if r.includes(MINIMUM_ROLE[p]) else "" for r in Role)
        + " |"
        for p in Permission
    ]
    return "\n".join([header, rule, *rows])
