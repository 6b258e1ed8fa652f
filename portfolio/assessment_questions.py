"""The risk assessment's questions: the CoE's YAML file, validated through the portal's one YAML loader, and the
check of an owner's answers against them."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal.core.yaml_models import load_model

QUESTIONS_FILE = Path(__file__).with_name("risk_assessment.yaml")
KEY = r"^[a-z0-9][a-z0-9-]*$"
MAX_ANSWER = 4000
DEFAULT_MIN_LENGTH = 20


class QuestionKind(StrEnum):
    CHOICE = "choice"
    YES_NO = "yes_no"
    TEXT = "text"


class Question(BaseModel):
    """One question as the CoE writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=KEY, max_length=80)
    kind: QuestionKind
    text: str = Field(min_length=1, max_length=500)
    help: str = Field(min_length=1, max_length=1000)
    options: list[str] = Field(default_factory=list)
    min_length: int | None = Field(default=None, ge=1, le=MAX_ANSWER)
    required: bool = True

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> Question:
        if self.kind == QuestionKind.CHOICE and len(set(self.options)) < 2:
            raise ValueError(f"the choice {self.key!r} needs at least two different options")
        if self.kind != QuestionKind.CHOICE and self.options:
            raise ValueError(f"only a choice has options; {self.key!r} is {self.kind.value}")
        if self.kind != QuestionKind.TEXT and self.min_length is not None:
            raise ValueError(f"only a text question has a min_length; {self.key!r} is {self.kind.value}")
        return self

    @property
    def shown(self) -> str:
        """The question as a message names it."""
        return f"“{self.text if len(self.text) <= 70 else self.text[:69] + '…'}”"

    def problem(self, value: Any, *, complete: bool) -> str | None:
        """Why the answer does not fit the question (None when it does; an empty answer only fails when complete)."""
        if value is None or value == "":
            return f"{self.shown} is not answered" if complete and self.required else None
        if self.kind == QuestionKind.YES_NO:
            return None if isinstance(value, bool) else f"{self.shown} is answered with yes or no"
        if not isinstance(value, str):
            return f"{self.shown} is answered with text"
        if self.kind == QuestionKind.CHOICE:
            return None if value in self.options else f"{self.shown} has no option {value[:60]!r}"
        if len(value) > MAX_ANSWER:
            return f"{self.shown} has more than {MAX_ANSWER} characters"
        least = self.min_length or DEFAULT_MIN_LENGTH
        if complete and len(value.strip()) < least:
            return f"{self.shown} needs at least {least} characters (it has {len(value.strip())})"
        return None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=KEY, max_length=80)
    title: str = Field(min_length=1, max_length=200)
    questions: list[Question] = Field(min_length=1)


class QuestionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    sections: list[Section] = Field(min_length=1)

    @field_validator("sections")
    @classmethod
    def _unique_keys(cls, sections: list[Section]) -> list[Section]:
        seen: dict[str, int] = {}
        for number, section in enumerate(sections, start=1):
            for key in [section.key, *(q.key for q in section.questions)]:
                if key in seen:
                    raise ValueError(f"section {number}: the key {key!r} is already used in section {seen[key]}; "
                                     "keys must be unique in the file")
                seen[key] = number
        return sections

    @property
    def questions(self) -> list[Question]:
        return [q for section in self.sections for q in section.questions]

    def problems(self, answers: dict[str, Any], *, complete: bool) -> list[str]:
        """Every answer that does not fit, and (when complete) every required question left unanswered."""
        known = {q.key for q in self.questions}
        problems = [f"there is no question {key!r}" for key in answers if key not in known]
        return problems + [p for q in self.questions if (p := q.problem(answers.get(q.key), complete=complete))]


def load_questions(text: str, *, source: str) -> QuestionsFile:
    """The questions file validated, or YamlFileError listing each problem with its file and line."""
    return load_model(text, QuestionsFile, source=source)


@lru_cache(maxsize=1)
def default_questions() -> QuestionsFile:
    """The questions in the repository's portfolio/risk_assessment.yaml (read once per process)."""
    return load_questions(QUESTIONS_FILE.read_text(encoding="utf-8"), source="portfolio/risk_assessment.yaml")
