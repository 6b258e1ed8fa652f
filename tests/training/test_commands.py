"""`coe-portal training sync` and seeding: idempotent, and a malformed file stops with one clear message."""

from __future__ import annotations

from sqlmodel import Session, func, select

from portal.cli import main
from portal.core.db import make_engine
from training.models import Course, CourseVersion


def versions(isolated_portal) -> int:
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(CourseVersion)).one()


def test_seed_loads_the_courses_and_sync_is_idempotent(seeded_template, seeded, capsys) -> None:
    assert "training: 4 new course(s), 0 new version(s), 0 unchanged" in seeded_template.output
    assert main(["training", "sync"]) == 0
    assert "0 new course(s), 0 new version(s), 4 unchanged" in capsys.readouterr().out
    assert versions(seeded) == 4


def test_a_malformed_course_folder_stops_the_command(isolated_portal, courses_dir, capsys) -> None:
    assert main(["migrate"]) == 0
    (courses_dir / "responsible-ai" / "quiz.yml").write_text("questions:\n  - question: Which?\n    options: [a]\n")
    assert main(["training", "sync", str(courses_dir)]) == 2
    err = capsys.readouterr().err
    assert "responsible-ai/quiz.yml, line 3: questions.0.options: List should have at least 2 items" in err
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Course)).one() == 0
