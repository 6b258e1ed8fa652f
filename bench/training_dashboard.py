"""Training dashboard: the CoE's dashboard (and a learner's course list) on 10,000 learners, 20 courses, 100,000
enrolments and 1,000,000 learning statements, against an empty page and against the same pages on a tiny
database. Every figure comes from SQL GROUP BY; the generated database is cached between runs.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.pages import PageBench, compare_pages, scratch_folder  # noqa: E402

LEARNERS, COURSES, ENROLMENTS, STATEMENTS = 10_000, 20, 100_000, 1_000_000
SMALL = {"learners": 10, "courses": 4, "enrolments": 20, "statements": 100}
CHUNK = 50_000
ROUNDS = 5
GOAL = 3.0
# Bump when the schema or the generator changes, so a stale cached database is not reused.
CACHE = Path(tempfile.gettempdir()) / "coe-bench-training-v1"
DEPARTMENTS = ["Finance", "Marketing", "Engineering", "People", "Operations", "Legal", "Sales", "CoE"]
VERBS = ["registered", "experienced", "experienced", "experienced", "passed", "failed", "completed"]


def _users(count: int, now: datetime) -> list[dict]:
    users = [{"email": f"learner{i:05}@example.com", "name": f"Learner {i}", "department": DEPARTMENTS[i % 8],
              "team": f"Team {i % 60}", "role": "viewer", "role_set_by_admin": False, "active": True,
              "created_at": now} for i in range(count)]
    users[0]["role"] = "admin"
    return users


def _courses(conn, count: int, now: datetime) -> None:
    from sqlalchemy import insert, update

    from training.models import Course, CourseVersion

    conn.execute(insert(Course), [{"slug": f"course-{i:02}", "created_at": now} for i in range(count)])
    conn.execute(insert(CourseVersion), [
        {"course_id": i + 1, "version": 1, "content_hash": f"{i:064}", "title": f"Course {i:02}", "summary": "s",
         "audience": "everyone", "level": "beginner", "duration_minutes": 30, "prerequisites": [],
         "require_all_lessons": True, "require_quiz": True, "require_labs": False, "pass_mark": 80,
         "max_quiz_attempts": 3, "recertification_days": 365, "published_at": now} for i in range(count)])
    conn.execute(update(Course).values(current_version_id=Course.id))


def _enrolments(conn, rng: random.Random, learners: int, courses: int, count: int, now: datetime) -> list[tuple]:
    """Distinct (user, course) pairs, 60 % completed, with a certificate and a quiz attempt each."""
    from sqlalchemy import insert

    from training.models import Certificate, Enrolment, QuizAttempt

    pairs = rng.sample(range(learners * courses), count)
    rows, certificates, attempts = [], [], []
    for n, pair in enumerate(pairs, start=1):
        user_id, course_id = pair // courses + 1, pair % courses + 1
        enrolled = now - timedelta(days=rng.randint(1, 365))
        done = enrolled + timedelta(days=rng.randint(0, 30)) if rng.random() < 0.6 else None
        rows.append({"user_id": user_id, "course_id": course_id, "version_id": course_id, "current": True,
                     "enrolled_at": enrolled, "completed_at": done})
        score = rng.choice(range(0, 101, 5))
        attempts.append({"enrolment_id": n, "number": 1, "submitted_at": enrolled, "score": 100 if done else score,
                         "passed": bool(done) or score >= 80, "answers": {}})
        if done:
            certificates.append({"code": f"CERT-{n:014}", "user_id": user_id, "course_id": course_id,
                                 "version_id": course_id, "enrolment_id": n, "issued_at": done,
                                 "expires_at": done + timedelta(days=365)})
    for table, batch in ((Enrolment, rows), (QuizAttempt, attempts), (Certificate, certificates)):
        for start in range(0, len(batch), CHUNK):
            conn.execute(insert(table), batch[start:start + CHUNK])
    return [(r["user_id"], r["course_id"]) for r in rows]


def _statements(conn, rng: random.Random, pairs: list[tuple], count: int, now: datetime) -> None:
    from sqlalchemy import insert

    from training.models import LearningStatement

    for start in range(0, count, CHUNK):
        chunk = []
        for _ in range(min(CHUNK, count - start)):
            user_id, course_id = rng.choice(pairs)
            verb = rng.choice(VERBS)
            chunk.append({"statement_id": str(uuid.UUID(int=rng.getrandbits(128))), "user_id": user_id,
                          "verb": verb, "course_id": course_id, "object_id": f"urn:coe-portal:training:course-{course_id}",
                          "object_name": f"Course {course_id}", "at": now - timedelta(seconds=rng.randint(0, 3e7)),
                          "score": rng.random() if verb in ("passed", "failed") else None,
                          "success": verb == "passed" if verb in ("passed", "failed") else None,
                          "completion": True if verb == "completed" else None})
        conn.execute(insert(LearningStatement), chunk)


def _assignments(conn, courses: int, now: datetime) -> None:
    from sqlalchemy import insert

    from training.models import Assignment

    today = now.date()
    rows = [{"course_id": c % courses + 1, "target_kind": "department", "target": d,
             "due_on": today + timedelta(days=30 if c % 2 else -30), "assigned_by": 1, "assigned_at": now}
            for c, d in enumerate(DEPARTMENTS)]
    rows += [{"course_id": 1, "target_kind": "team", "target": f"Team {t}", "due_on": date(2026, 1, 31),
              "assigned_by": 1, "assigned_at": now} for t in range(10)]
    conn.execute(insert(Assignment), rows)


def _load(database_url: str, *, learners: int, courses: int, enrolments: int, statements: int) -> None:
    from sqlalchemy import insert

    from portal.core.db import make_engine
    from portal.core.migrations import upgrade_to_head
    from portal.core.users import User

    engine = make_engine(database_url)
    upgrade_to_head(engine)
    rng, now = random.Random(7), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(User), _users(learners, now))
        _courses(conn, courses, now)
        pairs = _enrolments(conn, rng, learners, courses, enrolments, now)
        _statements(conn, rng, pairs, statements, now)
        _assignments(conn, courses, now)
    engine.dispose()


def _databases(workdir: Path) -> dict[str, str]:
    """The large database from the cache (built once), and a fresh small one."""
    large = CACHE / "large.db"
    if not large.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        building = CACHE / "building.db"
        building.unlink(missing_ok=True)
        _load(f"sqlite:///{building}", learners=LEARNERS, courses=COURSES, enrolments=ENROLMENTS,
              statements=STATEMENTS)
        building.rename(large)
        print(f"training dashboard: built {LEARNERS:,} learners, {COURSES} courses, {ENROLMENTS:,} enrolments and "
              f"{STATEMENTS:,} statements in {time.perf_counter() - started:.1f}s (cached in {CACHE})")
    shutil.copyfile(large, workdir / "large.db")  # the pages write sign-ins; the cached file stays pristine
    _load(f"sqlite:///{workdir / 'small.db'}", **SMALL)
    return {"large": f"sqlite:///{workdir / 'large.db'}", "small": f"sqlite:///{workdir / 'small.db'}"}


def _cold_dashboard_s(database_url: str) -> float:
    """One uncached run of the dashboard's queries (what the first view after a refresh pays)."""
    from sqlmodel import Session, select

    from portal.core.db import make_engine
    from portal.core.users import User
    from training.dashboard import training_dashboard

    engine = make_engine(database_url)
    with Session(engine) as session:
        admin = session.exec(select(User).where(User.role == "admin")).first()
        started = time.perf_counter()
        training_dashboard(session=session, actor=admin)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run() -> dict[str, float]:
    """Median rerun times of the dashboard and a learner's course list over an empty page's."""
    workdir = scratch_folder("bench-training-")
    databases = _databases(workdir)
    print(f"training dashboard: uncached dashboard queries {_cold_dashboard_s(databases['large']) * 1000:.0f} ms on "
          f"the large database")
    app = str(REPO_ROOT / "portal" / "app.py")
    bench = PageBench(label="training dashboard", small_label=f"{SMALL['enrolments']} enrolments", goal=GOAL,
                      rounds=ROUNDS, scripts={
                          "CoE dashboard": (app, 1, None, "views/training_dashboard.py"),
                          "learner's courses": (app, 2, None, "views/training.py"),
                      })
    return compare_pages(bench, workdir, databases)


if __name__ == "__main__":
    run()
