"""Reading a course folder: course.yml, lessons/*.md, quiz.yml and labs.yml, with problems located by file and line.

    training/courses/<slug>/course.yml     title, summary, audience, level, duration, prerequisites,
                                          completion rule, pass mark, attempts, recertification, version
    training/courses/<slug>/lessons/*.md   one lesson per file, in file-name order, starting with "# Title"
    training/courses/<slug>/quiz.yml       questions: single or multiple choice
    training/courses/<slug>/labs.yml       optional sandbox labs, graded by output checks

The files are safe-loaded YAML without anchors, aliases or tags; every problem names the file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from portal.core.yaml_models import YamlFileError, load_model
from prompt_library.assertions import CheckKind, OutputCheck

COURSES_DIR = Path(__file__).resolve().parent / "courses"
MAX_FILE_BYTES = 200 * 1024
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
Text = Annotated[str, Field(min_length=1, max_length=200)]
S = TypeVar("S", bound=BaseModel)


class CourseFileError(YamlFileError):
    """A course file that cannot be loaded: the message names the file, the line and the problem."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class CompletionSpec(_Spec):
    """What completes the course: every lesson read, the quiz passed, every lab passed."""

    lessons: bool = True
    quiz: bool = True
    labs: bool = False


class CourseSpec(_Spec):
    title: Text
    summary: Annotated[str, Field(min_length=1, max_length=2000)]
    audience: Text
    level: Literal["beginner", "intermediate", "advanced"]
    duration_minutes: Annotated[int, Field(ge=1, le=1000)]
    prerequisites: list[Annotated[str, Field(pattern=SLUG.pattern)]] = []
    version: Annotated[int, Field(ge=1)]
    completion: CompletionSpec = CompletionSpec()
    pass_mark: Annotated[int, Field(ge=1, le=100)] = 80
    max_quiz_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    recertification_days: Annotated[int, Field(ge=0, le=3650)] = 0


class QuestionSpec(_Spec):
    question: Annotated[str, Field(min_length=1, max_length=2000)]
    kind: Literal["single", "multiple"] = "single"
    options: Annotated[list[Annotated[str, Field(min_length=1, max_length=500)]], Field(min_length=2, max_length=8)]
    correct: Annotated[list[str], Field(min_length=1)]
    explanation: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _correct_are_options(self) -> QuestionSpec:
        if len(set(self.options)) != len(self.options):
            raise ValueError("two options have the same text")
        unknown = [c for c in self.correct if c not in self.options]
        if unknown:
            raise ValueError(f"correct answer {unknown[0]!r} is not one of the options")
        if self.kind == "single" and len(self.correct) != 1:
            raise ValueError("a single-choice question has exactly one correct option; use kind: multiple")
        return self


class QuizSpec(_Spec):
    questions: Annotated[list[QuestionSpec], Field(min_length=1, max_length=100)]


class LabSpec(_Spec):
    slug: Annotated[str, Field(pattern=SLUG.pattern)]
    title: Text
    task: Annotated[str, Field(min_length=1, max_length=10_000)]
    system_prompt: Annotated[str, Field(max_length=10_000)] = ""
    checks: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=20)]

    @field_validator("checks")
    @classmethod
    def _checks_are_output_checks(cls, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for number, check in enumerate(checks, start=1):
            try:
                parsed = OutputCheck.model_validate(check)
            except ValidationError as exc:
                raise ValueError(f"check {number}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
            if parsed.kind is CheckKind.JUDGE:
                raise ValueError(f"check {number}: labs are graded without a judge model; use contains, regex, "
                                 "valid_json, json_schema or max_length")
        return checks


class LabsSpec(_Spec):
    labs: Annotated[list[LabSpec], Field(min_length=1, max_length=20)]


@dataclass(frozen=True)
class LessonFile:
    slug: str
    title: str
    body: str


@dataclass(frozen=True)
class CourseFolder:
    """A course folder, read and validated."""

    slug: str
    course: CourseSpec
    lessons: list[LessonFile]
    quiz: QuizSpec
    labs: list[LabSpec]

    @property
    def content_hash(self) -> str:
        """A fingerprint of everything a learner sees or is graded on (not of the version number)."""
        content = {"course": self.course.model_dump(exclude={"version"}), "lessons": [vars(x) for x in self.lessons],
                   "quiz": self.quiz.model_dump(), "labs": [lab.model_dump() for lab in self.labs]}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def read_course_folders(root: Path = COURSES_DIR) -> list[CourseFolder]:
    """Every course folder under root, validated; CourseFileError at the first problem."""
    if not root.is_dir():
        raise CourseFileError(f"{root}: the course folder does not exist.")
    folders = [read_course_folder(path) for path in sorted(root.iterdir()) if path.is_dir()]
    known = {f.slug for f in folders}
    for folder in folders:
        for prerequisite in folder.course.prerequisites:
            if prerequisite not in known:
                raise CourseFileError(f"{root / folder.slug / 'course.yml'}: prerequisite '{prerequisite}' is not "
                                      f"a course folder under {root}.")
    return folders


def read_course_folder(path: Path) -> CourseFolder:
    """One course folder, validated."""
    if not SLUG.match(path.name):
        raise CourseFileError(f"{path}: a course folder's name is lower-case letters, digits and dashes.")
    course = _load(path / "course.yml", CourseSpec)
    lessons = _lessons(path / "lessons")
    quiz = _load(path / "quiz.yml", QuizSpec)
    labs = _load(path / "labs.yml", LabsSpec).labs if (path / "labs.yml").exists() else []
    if course.completion.labs and not labs:
        raise CourseFileError(f"{path / 'course.yml'}: completion requires labs, but there is no labs.yml.")
    slugs = [lab.slug for lab in labs]
    if len(set(slugs)) != len(slugs):
        raise CourseFileError(f"{path / 'labs.yml'}: two labs have the same slug.")
    return CourseFolder(slug=path.name, course=course, lessons=lessons, quiz=quiz, labs=labs)


def _lessons(folder: Path) -> list[LessonFile]:
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not files:
        raise CourseFileError(f"{folder}: a course needs at least one lesson (a Markdown file).")
    return [_lesson(file) for file in files]


def _lesson(file: Path) -> LessonFile:
    text = _read_text(file)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].startswith("# "):
        raise CourseFileError(f"{file}, line {(first or 0) + 1}: a lesson starts with its title as '# Title'.")
    body = "\n".join(lines[first + 1:]).strip()
    if not body:
        raise CourseFileError(f"{file}, line {first + 1}: the lesson has a title but no text.")
    return LessonFile(slug=file.stem, title=lines[first][2:].strip()[:200], body=body)


def _read_text(file: Path) -> str:
    if not file.is_file():
        raise CourseFileError(f"{file}: the file is missing.")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise CourseFileError(f"{file}: the file is larger than {MAX_FILE_BYTES // 1024} KB.")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CourseFileError(f"{file}: the file is not UTF-8 text ({exc.reason}).") from None


def _load(file: Path, spec: type[S]) -> S:
    """Parse and validate one YAML file; every problem names the file, the line and the field."""
    return load_model(_read_text(file), spec, source=str(file), max_bytes=MAX_FILE_BYTES, error=CourseFileError)
