"""Course completion criteria, aggregated with ALL.

Each criterion is a class with a code, a label and `is_met(progress)`; a
course lists the ones it uses (CourseCompletionCriterion) and a new kind is one
more class registered here. `progress` is the CourseProgress that
courses.selectors computes once per evaluation, so criteria add no queries.
"""

from dataclasses import dataclass
from typing import Protocol

from django_stubs_ext import StrOrPromise

from django.utils.translation import gettext_lazy as _


class Criterion(Protocol):
    # Read-only members, so the frozen dataclasses below satisfy the protocol.
    @property
    def code(self) -> str: ...

    @property
    def label(self) -> StrOrPromise: ...

    def is_met(self, progress: "CourseProgressLike") -> bool: ...


class CourseProgressLike(Protocol):
    required_lessons: int
    required_lessons_done: int
    quizzes: int
    quizzes_passed: int


_REGISTRY: dict[str, Criterion] = {}


def register(criterion: Criterion) -> Criterion:
    _REGISTRY[criterion.code] = criterion
    return criterion


@dataclass(frozen=True)
class RequiredLessonsCompleted:
    code: str = "required_lessons"
    label: StrOrPromise = _("Every required lesson completed")

    def is_met(self, progress: CourseProgressLike) -> bool:
        return progress.required_lessons_done >= progress.required_lessons


@dataclass(frozen=True)
class QuizzesPassed:
    code: str = "quizzes_passed"
    label: StrOrPromise = _("Every quiz passed")

    def is_met(self, progress: CourseProgressLike) -> bool:
        return progress.quizzes_passed >= progress.quizzes


register(RequiredLessonsCompleted())
register(QuizzesPassed())

DEFAULT_CRITERIA = ("required_lessons", "quizzes_passed")


def get(code: str) -> Criterion:
    return _REGISTRY[code]


def all_met(codes: list[str] | tuple[str, ...], progress: CourseProgressLike) -> bool:
    """True when every criterion holds (ALL); no codes means the defaults."""
    return all(get(code).is_met(progress) for code in (codes or DEFAULT_CRITERIA))


def _choices() -> list[tuple[str, str]]:
    return [(code, str(criterion.label)) for code, criterion in _REGISTRY.items()]


def criterion_choices() -> list[tuple[str, str]]:
    return _choices()
