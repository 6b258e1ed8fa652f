"""What training adds to the portal: its pages, the `training` command and its tables."""

from __future__ import annotations

import argparse

from portal.core.auth import Permission
from sqlmodel import Session

from portal.core.features import FeatureManifest, PageSpec, SeedStep, Section
from portal.core.principals import Principal
from portal.core.settings import Settings
from training import models
from training.events import TRAINING_EVENTS
from training.models import TRAINING_USAGE_SOURCES

SECTION = "Training"


def _register_commands(commands: argparse._SubParsersAction) -> None:
    from training import commands as training_commands

    training_commands.register(commands)


def _sync_courses(*, session: Session, actor: Principal, settings: Settings) -> str:
    from training.sync import sync_courses

    return f"training: {sync_courses(session=session, actor=actor).summary()}"


MANIFEST = FeatureManifest(
    name="training",
    sections=(Section(SECTION, order=500),),
    pages=(
        PageSpec("training.py", title="Courses", icon=":material/school:", section=SECTION,
                 help="Courses with your status, what is assigned to you and when it is due."),
        PageSpec("training_certificates.py", title="Certificates", icon=":material/workspace_premium:",
                 section=SECTION, help="Your certificates, and a check of any verification code."),
        # Reached from a course with ?course=<slug>, so they stay out of the menu.
        PageSpec("training_course.py", title="Course", icon=":material/menu_book:", section=SECTION, hidden=True),
        PageSpec("training_quiz.py", title="Quiz", icon=":material/quiz:", section=SECTION, hidden=True),
        PageSpec("training_lab.py", title="Labs", icon=":material/science:", section=SECTION, hidden=True),
        PageSpec("training_assign.py", title="Assignments", icon=":material/assignment:", section=SECTION,
                 permission=Permission.MANAGE_TRAINING),
        PageSpec("training_dashboard.py", title="Training dashboard", icon=":material/monitoring:",
                 section=SECTION, permission=Permission.MANAGE_TRAINING),
    ),
    commands=(_register_commands,),
    table_modules=(models,),
    audit_events=TRAINING_EVENTS,
    usage_sources=TRAINING_USAGE_SOURCES,
    seed_steps=(SeedStep("courses", _sync_courses),),
)
