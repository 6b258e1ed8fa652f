"""Roles and permissions: the matrix every service check relies on."""

from types import SimpleNamespace

import pytest

from portal.core.auth import (
    Permission,
    Role,
    SystemPrincipal,
    has_permission,
    permission_table_markdown,
    require,
    role_from_groups,
)
from portal.core.errors import PermissionDenied
from portal.core.principals import (
    SYSTEM_CLI,
    SYSTEM_PRINCIPALS,
    SYSTEM_SCHEDULER,
    SYSTEM_SEED,
    principal_table_markdown,
)

ALLOWED = {
    Role.VIEWER: {Permission.BROWSE, Permission.USE_SANDBOX},
    Role.CONTRIBUTOR: {Permission.BROWSE, Permission.USE_SANDBOX, Permission.CONTRIBUTE},
    Role.REVIEWER: {Permission.BROWSE, Permission.USE_SANDBOX, Permission.CONTRIBUTE, Permission.REVIEW,
                    Permission.VIEW_TEAM_USAGE, Permission.MANAGE_TRAINING},
    Role.RISK_REVIEWER: {Permission.BROWSE, Permission.USE_SANDBOX, Permission.CONTRIBUTE, Permission.REVIEW,
                         Permission.VIEW_TEAM_USAGE, Permission.MANAGE_TRAINING, Permission.REVIEW_RISK},
    Role.ADMIN: set(Permission),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_permission_matrix(role: Role, permission: Permission) -> None:
    actor = SimpleNamespace(email="someone@example.com", role=role.value)
    expected = permission in ALLOWED[role]
    assert has_permission(actor, permission) is expected
    if expected:
        require(actor, permission)
    else:
        with pytest.raises(PermissionDenied, match=f"Your role \\({role.value}\\) may not"):
            require(actor, permission)


def test_signed_out_actor_is_told_to_sign_in() -> None:
    with pytest.raises(PermissionDenied, match="Sign in first"):
        require(None, Permission.BROWSE)


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([], Role.VIEWER),
        (["staff"], Role.VIEWER),
        (["coe-contributors"], Role.CONTRIBUTOR),
        (["coe-contributors", "coe-admins", "coe-reviewers"], Role.ADMIN),
        (["coe-reviewers", "staff"], Role.REVIEWER),
    ],
)
def test_highest_mapped_group_wins(groups: list[str], expected: Role) -> None:
    mapping = {"coe-admins": "admin", "coe-reviewers": "reviewer", "coe-contributors": "contributor"}
    assert role_from_groups(groups, mapping) is expected


def test_readme_documents_the_permission_table() -> None:
    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert permission_table_markdown() in readme, "README's role table is out of date: paste permission_table_markdown()"


# System principals: named, with declared permissions, checked by the same require().

PRINCIPAL_GRANTS = [(principal, permission, permission in principal.permissions)
                    for principal in SYSTEM_PRINCIPALS for permission in Permission]


@pytest.mark.parametrize(("principal", "permission", "held"), PRINCIPAL_GRANTS,
                         ids=[f"{p.name}-{perm.value}" for p, perm, _ in PRINCIPAL_GRANTS])
def test_a_system_principal_holds_exactly_its_declared_permissions(principal: SystemPrincipal,
                                                                   permission: Permission, held: bool) -> None:
    assert has_permission(principal, permission) is held
    if held:
        require(principal, permission)
    else:
        with pytest.raises(PermissionDenied, match=f"{principal.name} may not .*\\({permission.value}\\)"):
            require(principal, permission)


def test_the_declared_grants() -> None:
    # The command line imports and syncs but never reviews; only the seed moves cards through review.
    assert Permission.REVIEW not in SYSTEM_CLI.permissions
    assert Permission.REVIEW not in SYSTEM_SCHEDULER.permissions
    assert {Permission.MANAGE_CATALOG, Permission.MANAGE_PROMPTS, Permission.MANAGE_TRAINING,
            Permission.MANAGE_TEMPLATES} <= SYSTEM_CLI.permissions
    assert Permission.REVIEW in SYSTEM_SEED.permissions
    assert len({p.name for p in SYSTEM_PRINCIPALS}) == len(SYSTEM_PRINCIPALS)


def test_a_principal_with_no_permissions_is_refused_everything_and_says_so() -> None:
    idle = SystemPrincipal(name="system:idle", permissions=frozenset(), acts_for="nothing")
    with pytest.raises(PermissionDenied, match="system:idle may not browse.*hold only: nothing"):
        require(idle, Permission.BROWSE)


def test_a_system_principal_is_named_as_one_and_is_no_user() -> None:
    assert (SYSTEM_CLI.email, SYSTEM_CLI.id) == ("system:cli", None)
    with pytest.raises(ValueError, match="starts with 'system:'"):
        SystemPrincipal(name="admin@example.com", permissions=frozenset(Permission), acts_for="a disguise")


def test_readme_documents_the_system_principals() -> None:
    from tests.conftest import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert principal_table_markdown() in readme, "README's principal table is out of date: paste principal_table_markdown()"
