from .certificates import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateSerial,
    CertificateSettings,
    CertificateTemplate,
    CertificateTemplateVersion,
)
from .content import (
    CourseCompletionCriterion,
    CourseIndexPage,
    CoursePage,
    Instructor,
    LessonPage,
    SharedContent,
)
from .records import (
    CertificateRequest,
    Enrolment,
    HoursLedgerEntry,
    LessonProgress,
    QuizAttempt,
    TrainingClass,
    TrainingClassMember,
)

__all__ = [
    "Certificate",
    "CertificateBatch",
    "CertificateBatchItem",
    "CertificateSerial",
    "CertificateSettings",
    "CertificateTemplate",
    "CertificateTemplateVersion",
    "CertificateRequest",
    "CourseCompletionCriterion",
    "CourseIndexPage",
    "CoursePage",
    "Enrolment",
    "HoursLedgerEntry",
    "Instructor",
    "LessonPage",
    "LessonProgress",
    "QuizAttempt",
    "SharedContent",
    "TrainingClass",
    "TrainingClassMember",
]
