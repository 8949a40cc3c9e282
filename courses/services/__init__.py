"""Writes of the courses app: enrolment, progress, quizzes and completion.

Every function is keyword-only, takes what it needs, validates before it
writes, and writes in one transaction. Where two requests may race (a
double-clicked button, two tabs) the row is locked or a unique constraint
decides, so the second call finds the work done and changes nothing.

- base.py: the errors a learner sees, and the progress rows lessons and
  quizzes share.
- enrolment.py: self-enrolment and a class's members.
- lessons.py: visits, reading lessons completed, video heartbeats.
- quizzes.py: attempts, their scoring and waits, extra attempts granted.
- completion.py: an enrolment completed once its course's criteria hold.

The names other modules use are imported here (`from courses import
services`); a test that replaces a name a service reads replaces it in the
module that defines the service.
"""

from courses.services.base import (
    CourseError,
    QuizIncomplete,
    ReadingTimeNotReached,
)
from courses.services.completion import course_completion_evaluate
from courses.services.enrolment import (
    enrolment_refusal,
    enrolment_self,
    training_class_add_member,
)
from courses.services.lessons import (
    HEARTBEAT_MAX_ELAPSED_SECONDS,
    MIN_STRETCH_SECONDS,
    VIDEO_COMPLETE_SHARE,
    Heartbeat,
    lesson_mark_complete,
    lesson_visit,
    video_heartbeat,
)
from courses.services.quizzes import (
    QuizWait,
    _layout,
    quiz_attempt_start,
    quiz_attempt_submit,
    quiz_attempts_grant,
    quiz_attempts_left,
    quiz_granted,
    quiz_retry_at,
    quiz_wait_message,
)

__all__ = [
    "HEARTBEAT_MAX_ELAPSED_SECONDS",
    "MIN_STRETCH_SECONDS",
    "VIDEO_COMPLETE_SHARE",
    "CourseError",
    "Heartbeat",
    "QuizIncomplete",
    "QuizWait",
    "ReadingTimeNotReached",
    "_layout",
    "course_completion_evaluate",
    "enrolment_refusal",
    "enrolment_self",
    "lesson_mark_complete",
    "lesson_visit",
    "quiz_attempt_start",
    "quiz_attempt_submit",
    "quiz_attempts_grant",
    "quiz_attempts_left",
    "quiz_granted",
    "quiz_retry_at",
    "quiz_wait_message",
    "training_class_add_member",
    "video_heartbeat",
]
