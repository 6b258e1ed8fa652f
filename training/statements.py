"""Learning statements shaped like xAPI (actor, verb, object, result, timestamp), and their JSON Lines export."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from portal.core.auth import HasRole, Permission, require
from portal.core.users import User
from training.models import Course, LearningStatement, Verb

ACTIVITY_BASE = "urn:coe-portal:training"
EXPORT_BATCH = 5000


def activity_id(slug: str, *parts: str) -> str:
    """The IRI of a course, or of a lesson, quiz or lab in it: urn:coe-portal:training:<slug>[:lesson:<slug>]."""
    return ":".join([ACTIVITY_BASE, slug, *parts])


def record_statement(session: Session, *, user: User, verb: Verb, course: Course, object_id: str, object_name: str,
                     score: float | None = None, success: bool | None = None,
                     completion: bool | None = None) -> LearningStatement:
    """Add one statement to the session; it commits with the learning event it describes."""
    statement = LearningStatement(statement_id=str(uuid.uuid4()), user_id=user.id, verb=verb.value,
                                  course_id=course.id, object_id=object_id, object_name=object_name[:200],
                                  score=score, success=success, completion=completion)
    session.add(statement)
    return statement


def as_xapi(statement: LearningStatement, *, email: str, name: str) -> dict[str, Any]:
    """The statement in xAPI 1.0.3 form, as a learning record store accepts it."""
    result = {key: value for key, value in (("success", statement.success), ("completion", statement.completion))
              if value is not None}
    if statement.score is not None:
        result["score"] = {"scaled": round(statement.score, 4)}
    xapi: dict[str, Any] = {
        "id": statement.statement_id,
        "actor": {"objectType": "Agent", "name": name or email, "mbox": f"mailto:{email}"},
        "verb": {"id": Verb(statement.verb).iri, "display": {"en-US": statement.verb}},
        "object": {"objectType": "Activity", "id": statement.object_id,
                   "definition": {"name": {"en-US": statement.object_name}}},
        "timestamp": statement.at.isoformat(),
    }
    if result:
        xapi["result"] = result
    return xapi


def export_statements(*, session: Session, actor: HasRole, since: datetime | None = None,
                      until: datetime | None = None) -> Iterator[str]:
    """Statements as JSON Lines, oldest first, read in batches so a million rows never sit in memory at once."""
    require(actor, Permission.MANAGE_TRAINING)
    query = (select(LearningStatement, User.email, User.name).join(User, col(User.id) == LearningStatement.user_id)
             .order_by(col(LearningStatement.id)))
    if since is not None:
        query = query.where(col(LearningStatement.at) >= since)
    if until is not None:
        query = query.where(col(LearningStatement.at) < until)
    for statement, email, name in session.exec(query.execution_options(yield_per=EXPORT_BATCH)):
        yield json.dumps(as_xapi(statement, email=email, name=name), ensure_ascii=False) + "\n"

