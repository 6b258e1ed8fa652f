"""Roles and permissions: the matrix every service check relies on."""

from types import SimpleNamespace

import pytest

from portal.core.auth import Permission, Role, has_permission, permission_table_markdown, require, role_from_groups
from portal.core.errors import PermissionDenied

ALLOWED = {
    Role.VIEWER: {Permission.BROWSE, Permission.USE_SANDBOX},
    Role.CONTRIBUTOR: {Permission.BROWSE, Permission.USE_SANDBOX, Permission.CONTRIBUTE},
    Role.REVIEWER: {Permission.BROWSE, Permission.USE_SANDBOX, Permission.CONTRIBUTE, Permission.REVIEW,
                    Permission.VIEW_TEAM_USAGE, Permission.MANAGE_TRAINING},
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
