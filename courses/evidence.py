"""Training evidence: the records a completion or a certificate rests on, as
an auditor asks for them (selectors only; nothing here writes).

For a course: the enrolment, each lesson with when it was first opened and
completed, the seconds of each video played against the length the server
measured (courses.models.MediaFacts), every quiz attempt with its score,
the extra attempts granted; for an event: the registration and its check-in
(who scanned it, when, and any reversal with its reason). For both: the
hours-ledger entries of the source and the certificates with their history
from Wagtail's log.

The same ``Evidence`` feeds the admin page and its CSV/XLSX download
(courses.admin_evidence), so the file says exactly what the page says. A
constant number of queries whatever the number of lessons or attempts
(tests/courses/test_evidence.py): lesson bodies are read from their raw
JSON, not through the blocks, which would fetch each lesson's documents.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wagtail.documents import get_document_model
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from courses.models import (
    Certificate,
    CertificateRequest,
    Enrolment,
    HoursLedgerEntry,
    LessonPage,
    LessonProgress,
    QuizAttempt,
    QuizAttemptGrant,
)

#: Times are Asia/Shanghai (docs/decisions.md, decision 9), whatever time
#: zone an admin user chose for their own account.
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The lifecycle steps of a certificate in Wagtail's log.
CERTIFICATE_ACTIONS = "courses.certificate."


@dataclass
class Table:
    """One table of the evidence: a heading, what it shows, and rows of
    plain values (text, numbers, dates, aware datetimes, None)."""

    key: str
    title: str
    caption: str
    headings: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = ""
    #: Facts (one heading cell and one value per row) rather than a listing.
    facts: bool = False


@dataclass
class Evidence:
    learner: Any
    title: str
    tables: list[Table]
    enrolment: Enrolment | None = None
    certificate: Certificate | None = None
    #: What the log of a download names (the enrolment or the certificate).
    subject: Any = None

    @property
    def row_count(self) -> int:
        return sum(len(table.rows) for table in self.tables)


def person(user: Any) -> str:
    """How a person is named in evidence: name and e-mail, so that the
    record identifies them even when two share a name."""
    if user is None:
        return ""
    if user.real_name:
        return f"{user.real_name} <{user.email}>"
    return user.email


def shanghai(moment: datetime.datetime | None) -> datetime.datetime | None:
    return moment.astimezone(SHANGHAI) if moment else None


def _seconds(value: float | None) -> int | None:
    # Whole seconds: the player reports fractions, an auditor reads seconds.
    return None if value is None else int(round(value))


def _played(intervals: Any) -> float:
    try:
        return sum(max(0.0, float(b) - float(a)) for a, b in intervals or [])
    except (TypeError, ValueError):
        return 0.0


def _stretches(intervals: Any) -> str:
    try:
        return ", ".join(f"{int(a)}–{int(round(b))}" for a, b in intervals or [])
    except (TypeError, ValueError):
        return ""


# --- the parts ------------------------------------------------------------------


def learner_table(user: Any) -> Table:
    return Table(
        key="learner",
        title=_("Learner"),
        caption=_("Who the records are about."),
        headings=[_("Field"), _("Value")],
        rows=[
            [_("Name"), user.real_name or ""],
            [_("Account (e-mail)"), user.email],
            [_("Organisation"), user.organisation],
            [_("Account created"), shanghai(user.date_joined)],
        ],
        facts=True,
    )


def _lesson_blocks(lesson: LessonPage | None) -> list[dict]:
    """The lesson's blocks as stored (type, id, value), without resolving
    documents: the same list LessonPage.kind and tracked_videos look at."""
    if lesson is None:
        return []
    raw = lesson.body.raw_data
    return [dict(block) for block in raw] if raw else []


def _kind(blocks: list[dict], progress: Any, attempts: list) -> str:
    """quiz, video or reading, as LessonPage.kind decides from the blocks;
    for a lesson page that no longer exists, from what the records show."""
    if blocks:
        if any(block.get("type") == "quiz" for block in blocks):
            return "quiz"
        if any(
            block.get("type") == "video" and (block.get("value") or {}).get("video")
            for block in blocks
        ):
            return "video"
        return "reading"
    if attempts:
        return "quiz"
    if progress is not None and progress.watched:
        return "video"
    return ""


KIND_LABELS = {
    "quiz": lambda: pgettext("lesson kind", "Quiz"),
    "video": lambda: pgettext("lesson kind", "Video"),
    "reading": lambda: pgettext("lesson kind", "Reading"),
    "": lambda: _("Unknown (the lesson page no longer exists)"),
}


def course_tables(enrolment: Enrolment) -> list[Table]:
    """Lessons, videos, quiz attempts and extra attempts of one enrolment,
    in the course's order; lessons that have left the course come last."""
    progress_rows = list(
        LessonProgress.objects.filter(enrolment=enrolment).order_by("started_at", "pk")
    )
    progress_by_lesson = {row.lesson_key: row for row in progress_rows}
    attempts = list(
        QuizAttempt.objects.filter(enrolment=enrolment).order_by(
            "lesson_key", "quiz_key", "number"
        )
    )
    attempts_by_lesson: dict[int, list[QuizAttempt]] = {}
    for attempt in attempts:
        attempts_by_lesson.setdefault(attempt.lesson_key, []).append(attempt)
    grants = list(
        QuizAttemptGrant.objects.filter(enrolment=enrolment)
        .select_related("granted_by")
        .order_by("granted_at", "pk")
    )

    # The course's lessons now, and any lesson with a record that has moved.
    wanted = Q(pk__in=set(progress_by_lesson) | set(attempts_by_lesson))
    course = enrolment.course
    if course is not None:
        wanted |= Q(path__startswith=course.path, depth=course.depth + 1)
    pages = {
        page.pk: page for page in LessonPage.objects.filter(wanted).order_by("path")
    }
    in_course = [
        key
        for key, page in pages.items()
        if course is not None and page.path.startswith(course.path)
    ]
    elsewhere = sorted(
        (set(progress_by_lesson) | set(attempts_by_lesson)) - set(in_course),
        key=lambda key: (
            progress_by_lesson[key].started_at
            if key in progress_by_lesson
            else attempts_by_lesson[key][0].started_at
        ),
    )
    order = in_course + elsewhere
    blocks = {key: _lesson_blocks(pages.get(key)) for key in order}

    # Lengths measured by the server for the videos' files, in one query.
    document_ids = {
        (block.get("value") or {}).get("video")
        for lesson_blocks in blocks.values()
        for block in lesson_blocks
        if block.get("type") == "video"
    } - {None}
    documents = {
        document.pk: document
        for document in get_document_model()
        .objects.filter(pk__in=document_ids)
        .select_related("media_facts")
    }

    def measured(document_id: Any) -> float | None:
        document = documents.get(document_id)
        facts = getattr(document, "media_facts", None) if document else None
        return facts.duration_seconds if facts else None

    def title_of(key: int) -> str:
        page = pages.get(key)
        if page is not None:
            return page.title
        record = progress_by_lesson.get(key) or attempts_by_lesson[key][0]
        return record.lesson_title

    lessons = Table(
        key="lessons",
        title=_("Lessons"),
        caption=_(
            "Each lesson of the course: when the learner first opened it and "
            "completed it (Asia/Shanghai time, the server's clock), and the "
            "seconds of video played of the videos' measured length."
        ),
        headings=[
            _("Lesson"),
            _("Kind"),
            _("Required"),
            _("First opened"),
            _("Completed"),
            _("Seconds of video played"),
            _("Video length (s)"),
        ],
        empty=_("The course has no lessons and the learner opened none."),
    )
    videos = Table(
        key="videos",
        title=_("Videos"),
        caption=_(
            "Each video a lesson tracks: the distinct seconds played, the "
            "length the server measured in the file, the length the player "
            "reported, and the stretches played (seconds from the start)."
        ),
        headings=[
            _("Lesson"),
            _("Video"),
            _("Seconds played"),
            _("Length measured (s)"),
            _("Length reported by the player (s)"),
            _("Share played (%)"),
            _("Stretches played"),
        ],
        empty=_("No lesson of this course tracks a video."),
    )
    quiz_titles: dict[tuple[int, str], str] = {}
    for key in order:
        progress = progress_by_lesson.get(key)
        page = pages.get(key)
        kind = _kind(blocks[key], progress, attempts_by_lesson.get(key, []))
        watched = (
            progress.watched if progress and isinstance(progress.watched, dict) else {}
        )
        video_blocks = [
            block
            for block in blocks[key]
            if block.get("type") == "video" and (block.get("value") or {}).get("video")
        ]
        for block in blocks[key]:
            if block.get("type") == "quiz":
                quiz_titles[(key, block.get("id"))] = (block.get("value") or {}).get(
                    "title"
                ) or ""
        # The videos the lesson has now, then any played that it no longer has.
        video_keys = [block.get("id") for block in video_blocks]
        video_keys += [k for k in watched if k not in video_keys]
        lengths = []
        for number, video_key in enumerate(video_keys, start=1):
            block = next((b for b in video_blocks if b.get("id") == video_key), None)
            value = (block or {}).get("value") or {}
            record = watched.get(video_key) or {}
            played = _played(record.get("intervals"))
            length = measured(value.get("video")) if block else None
            lengths.append(length)
            reported = record.get("duration")
            document = documents.get(value.get("video"))
            name = value.get("title") or (document.title if document else "")
            if not name:
                name = _("Video %(number)s") % {"number": number}
            base = length or reported
            videos.rows.append(
                [
                    title_of(key),
                    name,
                    _seconds(played),
                    _seconds(length),
                    _seconds(reported),
                    round(100 * played / base) if base else None,
                    _stretches(record.get("intervals")),
                ]
            )
        total_length = (
            _seconds(sum(lengths)) if lengths and None not in lengths else None
        )
        lessons.rows.append(
            [
                title_of(key),
                str(KIND_LABELS.get(kind, KIND_LABELS[""])()),
                (_("Yes") if page.is_required else _("No")) if page else None,
                shanghai(progress.started_at) if progress else None,
                shanghai(progress.completed_at) if progress else None,
                _seconds(progress.watched_seconds) if progress and video_keys else None,
                total_length,
            ]
        )

    attempt_table = Table(
        key="attempts",
        title=_("Quiz attempts"),
        caption=_(
            "Every attempt at each quiz, kept whether passed or not: when it "
            "was started and submitted, how many questions were drawn, the "
            "score and the result."
        ),
        headings=[
            _("Lesson"),
            _("Quiz"),
            _("Attempt"),
            _("Started"),
            _("Submitted"),
            _("Questions drawn"),
            _("Score (%)"),
            _("Result"),
        ],
        empty=_("No quiz attempts."),
    )
    position = {key: index for index, key in enumerate(order)}
    for attempt in sorted(
        attempts,
        key=lambda a: (position.get(a.lesson_key, len(order)), a.quiz_key, a.number),
    ):
        layout = attempt.layout if isinstance(attempt.layout, dict) else {}
        if attempt.status == QuizAttempt.Status.OPEN:
            result = _("Not submitted")
        else:
            result = _("Passed") if attempt.passed else _("Not passed")
        attempt_table.rows.append(
            [
                title_of(attempt.lesson_key),
                layout.get("title")
                or quiz_titles.get((attempt.lesson_key, attempt.quiz_key), ""),
                attempt.number,
                shanghai(attempt.started_at),
                shanghai(attempt.submitted_at),
                len(layout.get("questions") or []),
                attempt.score,
                result,
            ]
        )

    grant_table = Table(
        key="grants",
        title=_("Extra quiz attempts"),
        caption=_("Attempts granted beyond the course's limit, by whom and why."),
        headings=[
            _("Lesson"),
            _("Quiz"),
            _("Extra attempts"),
            _("Reason"),
            _("Granted by"),
            _("Granted"),
        ],
        empty=_("No extra attempts were granted."),
    )
    for grant in grants:
        lesson_title = (
            title_of(grant.lesson_key)
            if grant.lesson_key in pages
            or grant.lesson_key in progress_by_lesson
            or grant.lesson_key in attempts_by_lesson
            else str(grant.lesson_key)
        )
        grant_table.rows.append(
            [
                lesson_title,
                quiz_titles.get((grant.lesson_key, grant.quiz_key), ""),
                grant.extra,
                grant.reason,
                person(grant.granted_by),
                shanghai(grant.granted_at),
            ]
        )
    return [lessons, videos, attempt_table, grant_table]


#: The records another app keeps of an achievement, by ledger source:
#: ``provider(user=..., source_key=..., title=...) -> list[Table]``. The
#: events app registers its registrations and check-ins here
#: (EventsConfig.ready), so that courses never reads its tables.
_source_records: dict[str, Any] = {}


def register_source_records(source_type: str, provider: Any) -> None:
    """Let the app that owns a ledger source show its records as evidence."""
    _source_records[source_type] = provider


def ledger_table(*, user: Any, source_type: str, source_key: int) -> Table:
    table = Table(
        key="ledger",
        title=_("Hours ledger"),
        caption=_(
            "The learner's hours-ledger entries for this achievement, oldest "
            "first: hours earned, reversals and adjustments, with the reason "
            "and who entered them."
        ),
        headings=[
            _("Entry"),
            _("Kind"),
            _("Hours"),
            _("Date"),
            _("Reason"),
            _("Entered by"),
            _("Recorded"),
            _("Reverses entry"),
        ],
        empty=_("No hours were recorded for this achievement."),
    )
    entries = list(
        HoursLedgerEntry.objects.filter(
            user=user, source_type=source_type, source_key=source_key
        )
        .select_related("created_by")
        .order_by("created_at", "pk")
    )
    numbers = {entry.pk: number for number, entry in enumerate(entries, start=1)}
    for number, entry in enumerate(entries, start=1):
        table.rows.append(
            [
                number,
                entry.get_kind_display(),
                entry.hours,
                entry.earned_on,
                entry.reason,
                person(entry.created_by) or _("the portal"),
                shanghai(entry.created_at),
                numbers.get(entry.reverses_id, entry.reverses_id),
            ]
        )
    return table


def certificate_tables(
    *, user: Any, source_type: str, source_key: int
) -> tuple[list[Table], list[Certificate]]:
    """The certificates of one achievement (a reissue is a new one) and
    their history from Wagtail's log."""
    certificates = list(
        Certificate.objects.filter(
            request__user=user,
            request__source_type=source_type,
            request__source_key=source_key,
        )
        .select_related("replaces")
        .order_by("issued_at", "pk")
    )
    listing = Table(
        key="certificates",
        title=_("Certificates"),
        caption=_(
            "The certificates issued for this achievement; a reissue is a new "
            "certificate that supersedes the old one."
        ),
        headings=[
            _("Serial number"),
            _("Status"),
            _("Issued"),
            _("Status changed"),
            _("Reason for revocation"),
            _("Replaces"),
        ],
        empty=_("No certificate has been issued for this achievement."),
    )
    for certificate in certificates:
        listing.rows.append(
            [
                certificate.serial,
                certificate.state_label,
                shanghai(certificate.issued_at),
                shanghai(certificate.status_changed_at),
                certificate.revoked_reason,
                certificate.replaces.serial if certificate.replaces else "",
            ]
        )
    history = Table(
        key="history",
        title=_("Certificate history"),
        caption=_(
            "Every step of the certificates' lives from the portal's audit "
            "log: issued, revoked with the reason, superseded by a reissue."
        ),
        headings=[_("Time"), _("Certificate"), _("Action"), _("Details"), _("By")],
        empty=_("Nothing recorded yet."),
    )
    serials = {str(certificate.pk): certificate.serial for certificate in certificates}
    if serials:
        entries = (
            ModelLogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Certificate),
                object_id__in=list(serials),
                action__startswith=CERTIFICATE_ACTIONS,
            )
            .select_related("user")
            .order_by("timestamp", "pk")
        )
        for entry in entries:
            history.rows.append(
                [
                    shanghai(entry.timestamp),
                    serials.get(entry.object_id, ""),
                    str(log_registry.get_action_label(entry.action)),
                    entry.message,
                    person(entry.user) or _("the portal"),
                ]
            )
    return [listing, history], certificates


# --- the two kinds of evidence ---------------------------------------------------


def enrolment_evidence(*, enrolment_id: int) -> Evidence | None:
    """What one enrolment's completion rests on; None if there is none."""
    enrolment = (
        Enrolment.objects.select_related("user", "course", "training_class")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None:
        return None
    user = enrolment.user
    extra, certificates = certificate_tables(
        user=user,
        source_type=HoursLedgerEntry.Source.COURSE,
        source_key=enrolment.course_key,
    )
    achievement = Table(
        key="achievement",
        title=_("Achievement"),
        caption=_("The course and when the learner completed it."),
        headings=[_("Field"), _("Value")],
        rows=[
            [_("Course"), enrolment.course_title],
            [_("Credit hours"), enrolment.credit_hours],
            [_("Enrolled"), shanghai(enrolment.enrolled_at)],
            [_("How enrolled"), enrolment.get_source_display()],
            [
                _("Training class"),
                enrolment.training_class.name if enrolment.training_class else "",
            ],
            [
                _("Completed"),
                shanghai(enrolment.completed_at) or _("Not completed yet"),
            ],
        ],
        facts=True,
    )
    return Evidence(
        learner=user,
        title=enrolment.course_title,
        tables=[
            learner_table(user),
            achievement,
            *course_tables(enrolment),
            ledger_table(
                user=user,
                source_type=HoursLedgerEntry.Source.COURSE,
                source_key=enrolment.course_key,
            ),
            *extra,
        ],
        enrolment=enrolment,
        certificate=certificates[-1] if certificates else None,
        subject=enrolment,
    )


def certificate_evidence(*, certificate_id: int) -> Evidence | None:
    """What one certificate rests on: for a course, its enrolment's evidence;
    for an event, the registration and check-in. None if there is none."""
    certificate = (
        Certificate.objects.select_related("user", "request")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None:
        return None
    request: CertificateRequest = certificate.request
    user = certificate.user
    source = request.source_type
    achievement = Table(
        key="achievement",
        title=_("Achievement"),
        caption=_("What the certificate states, as it was issued."),
        headings=[_("Field"), _("Value")],
        rows=[
            [_("Title"), certificate.title],
            [_("Source"), request.get_source_type_display()],
            [_("Hours"), certificate.hours],
            [_("Date achieved"), certificate.achieved_on],
            [_("Serial number"), certificate.serial],
            [_("Status"), certificate.state_label],
            [_("Name on the certificate"), certificate.learner_name],
        ],
        facts=True,
    )
    enrolment = None
    records: list[Table] = []
    if source == HoursLedgerEntry.Source.COURSE:
        enrolment = (
            Enrolment.objects.select_related("course", "training_class")
            .filter(user=user, course_key=request.source_key)
            .first()
        )
        if enrolment is not None:
            enrolment.user = user
            achievement.rows += [
                [_("Enrolled"), shanghai(enrolment.enrolled_at)],
                [
                    _("Completed"),
                    shanghai(enrolment.completed_at) or _("Not completed yet"),
                ],
            ]
            records = course_tables(enrolment)
        else:
            records = [
                Table(
                    key="lessons",
                    title=_("Lessons"),
                    caption="",
                    headings=[],
                    empty=_("No enrolment of this learner in the course was found."),
                )
            ]
    elif source in _source_records:
        records = _source_records[source](
            user=user, source_key=request.source_key, title=request.title
        )
    extra, _certificates = certificate_tables(
        user=user, source_type=source, source_key=request.source_key
    )
    return Evidence(
        learner=user,
        title=certificate.title,
        tables=[
            learner_table(user),
            achievement,
            *records,
            ledger_table(user=user, source_type=source, source_key=request.source_key),
            *extra,
        ],
        enrolment=enrolment,
        certificate=certificate,
        subject=certificate,
    )
