"""Training statistics for training managers: reads only (selectors).

Every figure is computed by the database with GROUP BY, so a report costs the
same fixed number of queries for ten learners or a hundred thousand. The
admin screen, its CSV and XLSX exports and the dashboard panel all read from
here (courses/admin_reports.py draws them).

What the figures mean:

- A group's *enrolments* are the enrolments that match the filters; the date
  range applies to when the learner enrolled. *Completions* are those of these
  enrolments that are completed, whenever they were completed (a cohort view:
  the month dimension answers "of those who enrolled in March, how many
  finished?").
- *Average quiz score*: for each enrolment and each quiz, the learner's best
  submitted attempt counts once; the group's figure is the mean of those best
  scores. Open attempts and retries that did not beat the best are left out.
- *Hours credited* (one definition, hours_credited(), for the report, its
  totals and the dashboard) are read from the hours ledger (the record
  learners and certificates see): the course hours credited for the
  enrolments counted, net of reversals. The completion service writes the
  course's credit hours there on completion, so for normal data this equals
  the credit hours of the completed enrolments; the ledger wins if an entry
  was corrected or imported. Hours from events and manual adjustments belong
  to no enrolment and are not in these figures (the ledger's own screen has
  them).
- The dashboard's "this year" figures are the report's totals for the
  enrolments of this year (report_totals()), so both screens agree.
- Months are calendar months in the portal's time zone (settings.TIME_ZONE,
  Asia/Shanghai), whatever the database's time zone.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Trim, TruncMonth
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.models import Enrolment, HoursLedgerEntry, QuizAttempt
from portal.models import Audience, District

# Sums of one-decimal columns, wider than the columns (max_digits=5). SQLite
# returns sums unrounded (8, not 8.0): _one_decimal() makes both databases agree.
_SUM_FIELD = models.DecimalField(max_digits=15, decimal_places=1)
_ONE_DECIMAL = Decimal("0.1")


class Dimension(models.TextChoices):
    """What a report groups by, named as the models name the fields."""

    COURSE = "course", capfirst(_("course"))
    TRAINING_CLASS = "training_class", capfirst(_("training class"))
    AUDIENCE = "audience", capfirst(_("audience group"))
    DISTRICT = "district", capfirst(_("district"))
    ORGANISATION = "organisation", capfirst(_("organisation"))
    MONTH = "month", _("Month enrolled")


# Column headings shared by the admin table and both exports. The group
# column is headed by the dimension's label.
COLUMN_HEADINGS: dict[str, Any] = {
    "learners": _("Learners"),
    "enrolments": _("Enrolments"),
    "completions": _("Completions"),
    "completion_rate": _("Completion rate (%)"),
    "average_score": _("Average quiz score (best attempt per quiz, %)"),
    "hours": _("Hours credited"),
}


@dataclass(frozen=True, kw_only=True)
class ReportFilters:
    """Which enrolments a report counts. None means no restriction; the dates
    are calendar days in the portal's time zone, both included."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    course_key: int | None = None
    training_class_id: int | None = None
    audience_id: int | None = None
    district_id: int | None = None


@dataclass(kw_only=True)
class ReportRow:
    """One group of a report, or the report's totals."""

    key: Any
    label: str
    learners: int = 0
    enrolments: int = 0
    completions: int = 0
    hours: Decimal = Decimal("0.0")
    score_total: Decimal = Decimal("0.0")
    scored_quizzes: int = 0

    @property
    def completion_rate(self) -> Decimal | None:
        """Completions per hundred enrolments, one decimal; None with none."""
        if not self.enrolments:
            return None
        return _percent(self.completions, self.enrolments)

    @property
    def average_score(self) -> Decimal | None:
        """Mean of the best scores, one decimal; None when nothing was scored."""
        if not self.scored_quizzes:
            return None
        return (self.score_total / self.scored_quizzes).quantize(
            _ONE_DECIMAL, rounding=ROUND_HALF_UP
        )


@dataclass(kw_only=True)
class TrainingReport:
    dimension: str
    rows: list[ReportRow]
    totals: ReportRow

    @property
    def dimension_label(self) -> str:
        return str(Dimension(self.dimension).label)


@dataclass(frozen=True, kw_only=True)
class MonthActivity:
    month: datetime.date  # the first day of the month
    enrolments: int
    completions: int

    @property
    def label(self) -> str:
        return formats.date_format(self.month, "YEAR_MONTH_FORMAT")


@dataclass(frozen=True, kw_only=True)
class YearTotals:
    year: int
    learners: int
    enrolments: int
    completions: int
    hours: Decimal


# --- the report ---------------------------------------------------------------


def training_report(*, dimension: str, filters: ReportFilters) -> TrainingReport:
    """Enrolments, completions, completion rate, average best quiz score and
    hours credited per group of `dimension`, for the enrolments matching
    `filters`. Three queries whatever the data: the groups, their scores,
    and the distinct learners of the whole report.

    Groups are ordered by enrolments (most first), then label, with "not
    stated" last; months are in calendar order. Raises ValueError for an
    unknown dimension.
    """
    dimension = Dimension(dimension).value
    enrolments = Enrolment.objects.filter(_enrolment_q(filters))

    # Its rows also hold the keys of _group_values, which the stubs cannot see.
    groups: models.QuerySet = (
        enrolments.values(**_group_values(dimension, prefix=""))
        .annotate(
            **_label_aggregates(dimension),
            learners=Count("user", distinct=True),
            enrolment_count=Count("pk"),
            completions=Count("pk", filter=Q(completed_at__isnull=False)),
            hours=hours_credited(),
        )
        .order_by()
    )
    rows: dict[Any, ReportRow] = {}
    for values in groups:
        key = _key(dimension, values["group_key"])
        rows[key] = ReportRow(
            key=key,
            label=_label(dimension, key, values),
            learners=values["learners"],
            enrolments=values["enrolment_count"],
            completions=values["completions"],
            hours=_one_decimal(values["hours"]),
        )

    for values in _best_scores(dimension, filters):
        row = rows.get(_key(dimension, values["group_key"]))
        if row is not None:  # always found: both queries filter the same way
            row.score_total = _one_decimal(values["score_total"])
            row.scored_quizzes = values["scored_quizzes"]

    ordered = sorted(rows.values(), key=_sort_key(dimension))
    totals = report_totals(filters=filters)
    totals.score_total = sum((r.score_total for r in ordered), Decimal("0.0"))
    totals.scored_quizzes = sum(r.scored_quizzes for r in ordered)
    return TrainingReport(dimension=dimension, rows=ordered, totals=totals)


def hours_credited() -> Sum:
    """Training hours, as the report and the dashboard count them: for each
    enrolment counted, the hours its course has credited the learner in the
    ledger (earned, less reversals), summed. An aggregate over enrolments."""
    return Sum(Subquery(_ledger_hours()), output_field=_SUM_FIELD)


def report_totals(*, filters: ReportFilters) -> ReportRow:
    """The learners, enrolments, completions and hours credited of the
    enrolments matching `filters`: the report's totals row and the
    dashboard's year figures (without scores). One query."""
    figures = Enrolment.objects.filter(_enrolment_q(filters)).aggregate(
        learners=Count("user", distinct=True),
        enrolments=Count("pk"),
        completions=Count("pk", filter=Q(completed_at__isnull=False)),
        hours=hours_credited(),
    )
    return ReportRow(
        key=None,
        label=gettext("Total"),
        learners=figures["learners"],
        enrolments=figures["enrolments"],
        completions=figures["completions"],
        hours=_one_decimal(figures["hours"]),
    )


def _enrolment_q(filters: ReportFilters, prefix: str = "") -> Q:
    """The filters as a condition on enrolments, or on a model reaching them
    through `prefix` (e.g. "enrolment__")."""
    q = Q()
    if filters.date_from:
        q &= Q(**{f"{prefix}enrolled_at__gte": _day_start(filters.date_from)})
    if filters.date_to:
        next_day = filters.date_to + datetime.timedelta(days=1)
        q &= Q(**{f"{prefix}enrolled_at__lt": _day_start(next_day)})
    if filters.course_key is not None:
        q &= Q(**{f"{prefix}course_key": filters.course_key})
    if filters.training_class_id is not None:
        q &= Q(**{f"{prefix}training_class_id": filters.training_class_id})
    if filters.audience_id is not None:
        q &= Q(**{f"{prefix}user__audience_id": filters.audience_id})
    if filters.district_id is not None:
        q &= Q(**{f"{prefix}user__district_id": filters.district_id})
    return q


def _group_values(dimension: str, *, prefix: str, labels: bool = True) -> dict:
    """The GROUP BY columns: `group_key`, and what the label is made of."""
    p = prefix
    match dimension:
        case Dimension.COURSE:
            # A deleted course keeps its key; its live title is then NULL.
            extra = {"live_title": F(f"{p}course__title")}
            key: Any = F(f"{p}course_key")
        case Dimension.TRAINING_CLASS:
            extra = {"class_name": F(f"{p}training_class__name")}
            key = F(f"{p}training_class_id")
        case Dimension.AUDIENCE | Dimension.DISTRICT:
            field = "audience" if dimension == Dimension.AUDIENCE else "district"
            extra = {
                "name_zh": F(f"{p}user__{field}__name_zh"),
                "name_en": F(f"{p}user__{field}__name_en"),
            }
            key = F(f"{p}user__{field}_id")
        case Dimension.ORGANISATION:
            # Free text typed by learners: stray spaces must not split a group.
            extra, key = {}, Trim(f"{p}user__organisation")
        case _:  # Dimension.MONTH
            extra = {}
            key = TruncMonth(f"{p}enrolled_at", tzinfo=timezone.get_default_timezone())
    return {"group_key": key, **(extra if labels else {})}


def _label_aggregates(dimension: str) -> dict:
    if dimension == Dimension.COURSE:
        # The title copied in at enrolment, for courses whose page is gone.
        return {"copied_title": models.Max("course_title")}
    return {}


def _ledger_hours() -> models.QuerySet:
    """The hours that count for the outer query's enrolment: the sum of its
    course's ledger entries for the learner (earned, and any reversal of
    them: the ledger is append-only, courses.ledger), one row."""
    return (
        HoursLedgerEntry.objects.filter(
            user_id=OuterRef("user_id"),
            source_type=HoursLedgerEntry.Source.COURSE,
            source_key=OuterRef("course_key"),
        )
        .order_by()
        .values("user_id")
        .annotate(total=Sum("hours"))
        .values("total")
    )


def _best_scores(dimension: str, filters: ReportFilters) -> models.QuerySet:
    """Per group: the sum and number of best scores, one per enrolment and
    quiz. An attempt is a best one when no submitted attempt at the same quiz
    scored higher, or the same with a lower number (ties count once)."""
    submitted = QuizAttempt.objects.filter(
        status=QuizAttempt.Status.SUBMITTED, score__isnull=False
    )
    better = submitted.filter(
        enrolment_id=OuterRef("enrolment_id"),
        lesson_key=OuterRef("lesson_key"),
        quiz_key=OuterRef("quiz_key"),
    ).filter(
        Q(score__gt=OuterRef("score"))
        | Q(score=OuterRef("score"), number__lt=OuterRef("number"))
    )
    return (
        submitted.filter(_enrolment_q(filters, prefix="enrolment__"))
        .filter(~Exists(better))
        .values(**_group_values(dimension, prefix="enrolment__", labels=False))
        .annotate(
            score_total=Sum("score", output_field=_SUM_FIELD),
            scored_quizzes=Count("pk"),
        )
        .order_by()
    )


def _key(dimension: str, value: Any) -> Any:
    """The group key as Python compares it: a month is its first day (the
    databases return a datetime, aware or naive), an empty organisation is
    None like the other "not stated" groups."""
    if dimension == Dimension.MONTH and isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.date()
    return value or None


def _label(dimension: str, key: Any, values: dict) -> str:
    if dimension == Dimension.MONTH:
        return formats.date_format(key, "YEAR_MONTH_FORMAT")
    if dimension == Dimension.COURSE:
        if values["live_title"]:
            return values["live_title"]
        return gettext("%(title)s (course deleted)") % {"title": values["copied_title"]}
    if key is None:
        if dimension == Dimension.TRAINING_CLASS:
            return gettext("No training class")
        return gettext("Not stated")
    if dimension == Dimension.TRAINING_CLASS:
        return values["class_name"]
    if dimension in (Dimension.AUDIENCE, Dimension.DISTRICT):
        # An unsaved term, so the label follows Term.label's language rule.
        term = Audience if dimension == Dimension.AUDIENCE else District
        return term(name_zh=values["name_zh"], name_en=values["name_en"]).label
    return str(key)  # an organisation


def _sort_key(dimension: str):
    if dimension == Dimension.MONTH:
        return lambda row: row.key
    return lambda row: (row.key is None, -row.enrolments, row.label)


# --- the dashboard --------------------------------------------------------------


def monthly_activity(
    *, months: int = 12, today: datetime.date | None = None
) -> list[MonthActivity]:
    """Enrolments (by date enrolled) and completions (by date completed) in
    each of the last `months` calendar months, this one included, oldest
    first, months without any as zeros. Two queries."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month - 1 - (months - 1)
    first = datetime.date(index // 12, index % 12 + 1, 1)
    since = _day_start(first)
    tz = timezone.get_default_timezone()

    def per_month(field: str) -> dict[datetime.date, int]:
        counts = (
            Enrolment.objects.filter(**{f"{field}__gte": since})
            .values(month=TruncMonth(field, tzinfo=tz))
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {_key(Dimension.MONTH, c["month"]): c["n"] for c in counts}

    enrolled, completed = per_month("enrolled_at"), per_month("completed_at")
    result = []
    for i in range(months):
        month = datetime.date((index + i) // 12, (index + i) % 12 + 1, 1)
        result.append(
            MonthActivity(
                month=month,
                enrolments=enrolled.get(month, 0),
                completions=completed.get(month, 0),
            )
        )
    return result


def year_filters(*, today: datetime.date | None = None) -> ReportFilters:
    """The report's filters for this calendar year so far (enrolled from
    1 January to today): the dashboard's figures, and its link to the report."""
    today = today or timezone.localdate()
    return ReportFilters(date_from=datetime.date(today.year, 1, 1), date_to=today)


def year_totals(*, today: datetime.date | None = None) -> YearTotals:
    """This calendar year so far: the learners, enrolments, completions and
    hours credited of the enrolments made this year, exactly the totals of
    the training report filtered to this year (report_totals). One query."""
    today = today or timezone.localdate()
    totals = report_totals(filters=year_filters(today=today))
    return YearTotals(
        year=today.year,
        learners=totals.learners,
        enrolments=totals.enrolments,
        completions=totals.completions,
        hours=totals.hours,
    )


# --- helpers ------------------------------------------------------------------


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the portal's time zone."""
    return datetime.datetime.combine(
        day, datetime.time.min, tzinfo=timezone.get_default_timezone()
    )


def _one_decimal(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part * 100) / whole).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def heading_for(field: str, *, dimension: str) -> str:
    """The heading of a table or export column, in the active language."""
    if field == "label":
        return str(Dimension(dimension).label)
    return str(COLUMN_HEADINGS[field])
