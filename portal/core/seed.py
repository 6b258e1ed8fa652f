"""Demo data for the embedded set-up: users in several departments holding every role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from portal.core.audit import record
from portal.core.auth import Permission, Role, require
from portal.core.principals import SYSTEM_SEED, Principal
from portal.core.user_events import UserCreated
from portal.core.settings import Settings
from portal.core.users import User


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    department: str
    team: str
    role: Role


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("ada.admin@example.com", "Ada Admin", "AI Center of Excellence", "Platform", Role.ADMIN),
    DemoUser("ravi.reviewer@example.com", "Ravi Reviewer", "Risk & Compliance", "Model Risk", Role.REVIEWER),
    DemoUser("rosa.risk@example.com", "Rosa Risk", "Risk & Compliance", "Model Risk", Role.RISK_REVIEWER),
    DemoUser("chen.contributor@example.com", "Chen Contributor", "Engineering", "Data Platform", Role.CONTRIBUTOR),
    DemoUser("dana.developer@example.com", "Dana Developer", "Engineering", "Customer Apps", Role.CONTRIBUTOR),
    DemoUser("vera.viewer@example.com", "Vera Viewer", "Marketing", "Campaigns", Role.VIEWER),
    DemoUser("finn.finance@example.com", "Finn Finance", "Finance", "FP&A", Role.VIEWER),
    DemoUser("hana.hr@example.com", "Hana HR", "People", "Talent", Role.VIEWER),
    DemoUser("omar.ops@example.com", "Omar Ops", "Operations", "Service Desk", Role.REVIEWER),
)


def seed_demo_users(session: Session, *, actor: Principal = SYSTEM_SEED) -> list[User]:
    """Create the demo users that do not exist yet, as the seed's principal; existing users are left as they are."""
    require(actor, Permission.MANAGE_USERS)
    created = []
    existing = set(session.exec(select(User.email)).all())
    for demo in DEMO_USERS:
        if demo.email in existing:
            continue
        user = User(email=demo.email, name=demo.name, department=demo.department, team=demo.team,
                    role=demo.role.value)
        session.add(user)
        session.flush()
        record(session, actor, UserCreated(user_id=user.id, email=demo.email, profile=user.snapshot(), demo=True))
        created.append(user)
    return created


def seed_step(*, session: Session, actor: Principal, settings: Settings) -> str:
    """The portal's seed step (portal/manifest.py): the demo users."""
    return f"{len(seed_demo_users(session, actor=actor))} user(s) created"
