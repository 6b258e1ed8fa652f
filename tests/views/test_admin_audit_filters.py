"""The admin's audit-log filters offer the actions and entity types the installed manifests declare."""

from __future__ import annotations

from portal.core.features import audit_event_types
from portal.installed import INSTALLED_FEATURES
from tests.conftest import REPO_ROOT

ADMIN_PAGE = str(REPO_ROOT / "portal" / "views" / "admin.py")


def test_the_action_filter_lists_every_declared_action_before_any_was_recorded(open_portal, user_with_role) -> None:
    at = open_portal(user_with_role("admin"), script=ADMIN_PAGE)
    at.session_state["admin_tab"] = "Audit log"
    at.run()
    actions = at.selectbox(key="audit_action").options
    declared = {event.action for event in audit_event_types(INSTALLED_FEATURES)}
    assert declared <= set(actions) and "template.forked" in actions  # no template was forked in this portal
    assert "template_fork" in at.selectbox(key="audit_entity").options
    at.selectbox(key="audit_action").set_value("template.forked").run()
    assert not at.exception and at.dataframe[-1].value.empty
