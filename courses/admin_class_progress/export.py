"""The download of a class's progress: the screen's rows as an XLSX
workbook of three sheets (progress by course, lessons, quizzes)."""

from openpyxl import Workbook

from django.utils import timezone
from django.utils.translation import gettext as _

from courses.admin_class_progress.figures import MemberRow, minutes
from portal.exports import sheet_title, spreadsheet_safe, xlsx_row


def progress_workbook(rows: list[MemberRow]) -> tuple[Workbook, int]:
    """The workbook of `rows`, and how many course rows its first sheet has
    (what the export's log counts)."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    summary = workbook.create_sheet(title=sheet_title(_("Progress"), taken))
    lessons = workbook.create_sheet(title=sheet_title(_("Lessons"), taken))
    quizzes = workbook.create_sheet(title=sheet_title(_("Quizzes"), taken))
    for sheet in (summary, lessons, quizzes):
        sheet.freeze_panes = "A2"
    person = [_("Name"), _("E-mail"), _("Organisation")]
    summary.append(
        [
            *person,
            _("Course"),
            _("Enrolled"),
            _("Lessons done"),
            _("Lessons"),
            _("Time spent (minutes)"),
            _("Quizzes passed"),
            _("Quizzes"),
            _("Hours"),
            _("Completed"),
            _("Certificate"),
            _("Certificate status"),
            _("Last activity"),
            _("Needs attention"),
        ]
    )
    lessons.append(
        [
            *person,
            _("Course"),
            _("Lesson"),
            _("Status"),
            _("First opened"),
            _("Completed"),
            _("Time spent (minutes)"),
        ]
    )
    quizzes.append(
        [
            *person,
            _("Course"),
            _("Lesson"),
            _("Quiz"),
            _("Attempts used"),
            _("Attempts allowed"),
            _("Extra attempts granted"),
            _("Best score (%)"),
            _("Last score (%)"),
            _("Passed"),
        ]
    )
    local = timezone.localtime
    count = 0
    for row in rows:
        who = [
            spreadsheet_safe(row.user.real_name or ""),
            spreadsheet_safe(row.user.email),
            spreadsheet_safe(row.user.organisation or ""),
        ]
        flags = "、".join(row.flag_labels)
        for course in row.courses:
            enrolment = course.enrolment
            certificate = course.certificate
            summary.append(
                xlsx_row(
                    summary,
                    [
                        *who,
                        course.course.title,
                        local(enrolment.enrolled_at) if enrolment else None,
                        course.lessons_done,
                        len(course.lessons),
                        minutes(course.seconds),
                        sum(q.passed for q in course.quizzes),
                        len(course.quizzes),
                        course.hours,
                        local(enrolment.completed_at)
                        if enrolment and enrolment.completed_at
                        else None,
                        certificate.serial if certificate else "",
                        course.certificate_status,
                        local(course.last_activity) if course.last_activity else None,
                        flags,
                    ],
                )
            )
            count += 1
            for lesson in course.lessons:
                progress = lesson.progress
                lessons.append(
                    xlsx_row(
                        lessons,
                        [
                            *who,
                            course.course.title,
                            lesson.lesson.title,
                            progress.get_status_display()
                            if progress
                            else _("Not opened"),
                            local(progress.started_at) if progress else None,
                            local(progress.completed_at)
                            if progress and progress.completed_at
                            else None,
                            minutes(lesson.seconds),
                        ],
                    )
                )
            for quiz in course.quizzes:
                quizzes.append(
                    xlsx_row(
                        quizzes,
                        [
                            *who,
                            course.course.title,
                            quiz.lesson.title,
                            quiz.title,
                            quiz.used,
                            quiz.allowed
                            if quiz.allowed is not None
                            else _("Unlimited"),
                            quiz.granted,
                            quiz.best,
                            quiz.last,
                            _("Yes") if quiz.passed else _("No"),
                        ],
                    )
                )
    return workbook, count
