"""Talent pool statistics for staff: reads only (selectors).

The figures behind the admin's statistics screen, its CSV and XLSX exports,
the dashboard summary, and the rows of the expert export
(talentpool/admin_statistics.py draws them). Every figure is computed by the
database with GROUP BY, so the statistics cost the same fixed number of
queries for ten experts or a hundred thousand; the expert export reads its
rows in chunks.

What the figures mean:

- The expert figures count the experts matching the filters; *listed* ones
  are those a visitor can find (ExpertQuerySet.listed: public, verified,
  consented, not lapsed). An expert with two categories (or industries)
  counts once under each; the totals count each expert once.
- Applications are counted in the month they were submitted, with the
  outcome they have now (a cohort view); contact requests likewise by the
  month they were sent. The *acceptance rate* is the share of accepted
  requests among those the expert answered or let expire: requests still
  waiting, and those the enterprise withdrew, are left out.
- Applications, contact requests and enterprises cover the whole pool: the
  expert filters do not apply to them.
- Months are calendar months in the portal's time zone (Asia/Shanghai).
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from portal.models import District
from portal.models.vocabularies import Term
from talentpool.models import (
    ApplicationStatus,
    ContactRequest,
    ContactRequestStatus,
    Enterprise,
    EnterpriseStatus,
    Expert,
    ExpertApplication,
    ExpertCategory,
    ExpertStatus,
    Industry,
    Qualification,
    TalentTier,
    Verification,
)

_ONE_DECIMAL = Decimal("0.1")

#: The expert breakdowns by vocabulary: {name: (vocabulary, expert field)}.
BREAKDOWNS: dict[str, tuple[type[Term], str]] = {
    "category": (ExpertCategory, "categories"),
    "district": (District, "district"),
    "industry": (Industry, "industries"),
    "tier": (TalentTier, "talent_tier"),
}

#: Months offered by the filter form; 12 by default.
MONTH_CHOICES = (6, 12, 24, 36)


@dataclass(frozen=True, kw_only=True)
class StatisticsFilters:
    """Which experts the expert figures (and the expert export) count. None
    means no restriction."""

    listed_only: bool = False
    category_id: int | None = None
    district_id: int | None = None
    industry_id: int | None = None
    months: int = 12


@dataclass(kw_only=True)
class Table:
    """One table of figures, as the screen, the chart and the exports show
    it: `rows` are lists of cells whose first cell is the row's label; None
    is a figure that does not apply (a rate of nothing). `chart_value` and
    `chart_part` are the indexes of the cells a bar chart draws: the bar's
    length, and the filled share of it."""

    key: str
    title: str
    headings: list[str]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    chart_value: int = 1
    chart_part: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, list[Any]]:
        """{row label: the row's figures}, for whoever reads one row."""
        return {row[0]: row[1:] for row in self.rows}


@dataclass(frozen=True, kw_only=True)
class ExpertTotals:
    experts: int
    listed: int

    @property
    def not_listed(self) -> int:
        return self.experts - self.listed


@dataclass(kw_only=True)
class PoolStatistics:
    filters: StatisticsFilters
    totals: ExpertTotals
    tables: dict[str, Table]


@dataclass(frozen=True, kw_only=True)
class PoolSummary:
    """What waits for staff, for the dashboard."""

    listed_experts: int
    applications_waiting: int
    enterprises_waiting: int
    contact_requests_waiting: int


# --- the statistics -------------------------------------------------------------


def pool_statistics(
    *, filters: StatisticsFilters, today: datetime.date | None = None
) -> PoolStatistics:
    """Every table of the statistics screen, for `filters`. Thirteen queries
    whatever the data: the totals; the terms and the counts of each of the
    four vocabularies; statuses; applications, contact requests and
    enterprises."""
    experts = filtered_experts(filters)
    listed = _listed_q()
    totals = experts.aggregate(experts=Count("pk"), listed=Count("pk", filter=listed))
    expert_totals = ExpertTotals(**totals)
    tables = {name: _breakdown(name, experts, expert_totals) for name in BREAKDOWNS}
    tables["status"] = _status_table(experts)
    tables["applications"] = _applications_table(filters.months, today)
    tables["contact_requests"] = _contact_requests_table(filters.months, today)
    tables["enterprises"] = _enterprises_table()
    return PoolStatistics(filters=filters, totals=expert_totals, tables=tables)


def filtered_experts(filters: StatisticsFilters) -> QuerySet[Expert]:
    """The experts the filters select, unordered. Vocabulary filters are
    subqueries, so that grouping by the same vocabulary still sees an
    expert's other terms."""
    experts = Expert.objects.listed() if filters.listed_only else Expert.objects.all()
    if filters.category_id is not None:
        through = Expert.categories.through.objects
        experts = experts.filter(
            pk__in=through.filter(expertcategory_id=filters.category_id).values(
                "expert_id"
            )
        )
    if filters.industry_id is not None:
        through = Expert.industries.through.objects
        experts = experts.filter(
            pk__in=through.filter(industry_id=filters.industry_id).values("expert_id")
        )
    if filters.district_id is not None:
        experts = experts.filter(district_id=filters.district_id)
    return experts.order_by()


def _listed_q() -> Q:
    # Built from ExpertQuerySet.listed itself, so the two cannot disagree.
    return Q(pk__in=Expert.objects.listed().values("pk"))


def _breakdown(name: str, experts: QuerySet[Expert], totals: ExpertTotals) -> Table:
    """Experts and listed experts per term of a vocabulary: every active
    term, with zeros, then "not stated". Two queries."""
    vocabulary, field = BREAKDOWNS[name]
    counts = {
        values[field]: values
        for values in experts.values(field).annotate(
            experts=Count("pk", distinct=True),
            listed=Count("pk", distinct=True, filter=_listed_q()),
        )
    }
    rows: list[tuple[tuple, list[Any]]] = []
    for term in vocabulary._default_manager.all():
        found = counts.pop(term.pk, None)
        if found is None and not term.is_active:
            continue  # a retired term nobody holds
        n, listed = (found["experts"], found["listed"]) if found else (0, 0)
        rows.append(((False, -n, term.sort_order, term.code), [term.label, n, listed]))
    ordered = [row for _key, row in sorted(rows, key=lambda pair: pair[0])]
    none = counts.get(None)
    ordered.append(
        [
            gettext("Not stated"),
            none["experts"] if none else 0,
            none["listed"] if none else 0,
        ]
    )
    heading = capfirst(str(vocabulary._meta.verbose_name))
    multi = name in ("category", "industry")
    return Table(
        key=name,
        title=gettext("Experts by %(vocabulary)s")
        % {"vocabulary": vocabulary._meta.verbose_name},
        headings=[heading, gettext("Experts"), gettext("Listed")],
        rows=ordered,
        totals=[gettext("Total"), totals.experts, totals.listed],
        chart_value=1,
        chart_part=2,
        note=(
            gettext("An expert with several terms counts once under each.")
            if multi
            else ""
        ),
    )


def _status_table(experts: QuerySet[Expert]) -> Table:
    """Experts by status (rows) and verification (columns). One query."""
    grid = {
        (values["status"], values["verification_status"]): values
        for values in experts.values("status", "verification_status").annotate(
            n=Count("pk"), listed=Count("pk", filter=_listed_q())
        )
    }
    rows, column_totals = [], [0] * (len(Verification) + 2)
    for status in ExpertStatus:
        cells = [
            grid.get((status.value, v.value), {}).get("n", 0) for v in Verification
        ]
        listed = sum(
            grid.get((status.value, v.value), {}).get("listed", 0) for v in Verification
        )
        cells += [sum(cells), listed]
        column_totals = [a + b for a, b in zip(column_totals, cells, strict=True)]
        rows.append([str(status.label), *cells])
    return Table(
        key="status",
        title=gettext("Experts by status and verification"),
        headings=[
            gettext("Status"),
            *(str(v.label) for v in Verification),
            gettext("Total"),
            gettext("Listed"),
        ],
        rows=rows,
        totals=[gettext("Total"), *column_totals],
        chart_value=len(Verification) + 1,
        chart_part=len(Verification) + 2,
    )


def _applications_table(months: int, today: datetime.date | None) -> Table:
    """Applications submitted per month and what became of them. One query."""
    outcomes = [
        ApplicationStatus.APPROVED,
        ApplicationStatus.CHANGES_REQUESTED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.SUBMITTED,
    ]
    per_month = _per_month(
        ExpertApplication.objects.all(), "submitted_at", outcomes, months, today
    )
    return Table(
        key="applications",
        title=gettext("Applications per month"),
        headings=[
            gettext("Month submitted"),
            gettext("Submitted"),
            *(str(s.label) for s in outcomes),
        ],
        rows=per_month,
        totals=_sum_rows(per_month),
        chart_value=1,
        chart_part=2,
        note=gettext(
            "Applications to join and changes to verified fields, counted in "
            "the month they were submitted, with the outcome they have now."
        ),
    )


def _contact_requests_table(months: int, today: datetime.date | None) -> Table:
    """Contact requests sent per month, their outcomes and acceptance rate.
    One query."""
    outcomes = [
        ContactRequestStatus.ACCEPTED,
        ContactRequestStatus.DECLINED,
        ContactRequestStatus.EXPIRED,
        ContactRequestStatus.WITHDRAWN,
        ContactRequestStatus.PENDING,
    ]
    rows = _per_month(
        ContactRequest.objects.all(), "created_at", outcomes, months, today
    )
    totals = _sum_rows(rows)
    for row in [*rows, totals]:
        accepted, declined, expired = row[2], row[3], row[4]
        row.append(_percent(accepted, accepted + declined + expired))
    return Table(
        key="contact_requests",
        title=gettext("Contact requests per month"),
        headings=[
            gettext("Month sent"),
            gettext("Sent"),
            *(str(s.label) for s in outcomes),
            gettext("Acceptance rate (%)"),
        ],
        rows=rows,
        totals=totals,
        chart_value=1,
        chart_part=2,
        note=gettext(
            "The acceptance rate counts accepted requests among those the "
            "expert accepted, declined or let expire."
        ),
    )


def _enterprises_table() -> Table:
    """Enterprises by verification status. One query."""
    counts = dict(
        Enterprise.objects.order_by().values_list("status").annotate(n=Count("pk"))
    )
    rows = [[str(s.label), counts.get(s.value, 0)] for s in EnterpriseStatus]
    return Table(
        key="enterprises",
        title=gettext("Enterprises by verification"),
        headings=[gettext("Verification"), gettext("Enterprises")],
        rows=rows,
        totals=[gettext("Total"), sum(row[1] for row in rows)],
    )


def _per_month(
    queryset: QuerySet,
    date_field: str,
    statuses: list,
    months: int,
    today: datetime.date | None,
) -> list[list[Any]]:
    """[month label, count, count of each of `statuses`] for each of the
    last `months` calendar months, oldest first, zeros included."""
    first_days = _months(months, today)
    tz = timezone.get_default_timezone()
    counts = (
        queryset.filter(**{f"{date_field}__gte": _day_start(first_days[0])})
        .values(month=TruncMonth(date_field, tzinfo=tz))
        .annotate(
            total=Count("pk"),
            **{s.value: Count("pk", filter=Q(status=s.value)) for s in statuses},
        )
        .order_by()
    )
    by_month = {_month_key(c["month"]): c for c in counts}
    rows = []
    for month in first_days:
        found = by_month.get(month, {})
        rows.append(
            [
                formats.date_format(month, "YEAR_MONTH_FORMAT"),
                found.get("total", 0),
                *(found.get(s.value, 0) for s in statuses),
            ]
        )
    return rows


def _sum_rows(rows: list[list[Any]]) -> list[Any]:
    width = len(rows[0]) if rows else 1
    return [
        gettext("Total"),
        *(sum(row[i] for row in rows) for i in range(1, width)),
    ]


# --- the dashboard --------------------------------------------------------------


def pool_summary() -> PoolSummary:
    """Listed experts, and the applications, enterprises and contact
    requests waiting for someone. Four queries."""
    return PoolSummary(
        listed_experts=Expert.objects.listed().count(),
        applications_waiting=ExpertApplication.objects.filter(
            status=ApplicationStatus.SUBMITTED
        ).count(),
        enterprises_waiting=Enterprise.objects.filter(
            status=EnterpriseStatus.PENDING
        ).count(),
        contact_requests_waiting=ContactRequest.objects.filter(
            status=ContactRequestStatus.PENDING
        ).count(),
    )


# --- the expert export ----------------------------------------------------------

#: The export's columns: the expert's field names, and a few computed ones.
EXPORT_FIELDS = [
    "id",
    "external_id",
    "name",
    "categories",
    "ip_types",
    "services",
    "industries",
    "languages",
    "district",
    "organisation",
    "years_of_practice",
    "talent_tier",
    "qualifications",
    "email",
    "phone",
    "accepting_requests",
    "listed",
    "status",
    "status_reason",
    "status_changed_at",
    "verification_status",
    "verified_at",
    "verified_by",
    "publication_consent_at",
    "last_confirmed_at",
    "lapsed_at",
    "biography",
    "created_at",
    "updated_at",
]
_MANY = ("categories", "ip_types", "services", "industries", "languages")


def export_headings() -> list[str]:
    """The export's column headings, in the active language."""
    headings = []
    for name in EXPORT_FIELDS:
        if name == "id":
            headings.append("ID")
        elif name == "listed":
            headings.append(gettext("Listed"))
        elif name == "qualifications":
            headings.append(gettext("Qualifications"))
        else:
            headings.append(capfirst(str(Expert._meta.get_field(name).verbose_name)))
    return headings


def expert_export_rows(
    *, filters: StatisticsFilters, chunk_size: int = 2000
) -> Iterator[list[Any]]:
    """One list of cells per expert matching `filters`, in the order of
    EXPORT_FIELDS, by id. E-mail and phone included: for staff only (the
    admin view checks).

    Reads `chunk_size` experts at a time (by id, so each chunk is an index
    range scan, on any database), then their vocabularies and qualifications
    for the whole chunk: 7 queries a chunk, after 7 for the vocabularies'
    labels. A hundred thousand experts never sit in memory together, and no
    related manager is built per expert (prefetch_related costs about a
    millisecond an expert). Labels are in the language active while
    iterating; times are local and naive."""
    experts = (
        filtered_experts(filters)
        .select_related("organisation", "verified_by")
        .annotate(is_listed=Exists(Expert.objects.listed().filter(pk=OuterRef("pk"))))
        .order_by("pk")
    )
    # Vocabularies are small: every label once, in the vocabulary's order.
    labels = {name: _term_labels(name) for name in (*_MANY, "district", "talent_tier")}
    statuses = {value: str(label) for value, label in Expert.Status.choices}
    verifications = {value: str(label) for value, label in Verification.choices}
    yes, no = gettext("Yes"), gettext("No")
    after = 0
    while chunk := list(experts.filter(pk__gt=after)[:chunk_size]):
        after = chunk[-1].pk
        ids = [expert.pk for expert in chunk]
        terms = {name: _terms_by_expert(name, ids, labels[name]) for name in _MANY}
        qualifications: dict[int, list[str]] = {}
        for qualification in Qualification.objects.filter(
            expert_id__in=ids
        ).select_related("category"):
            qualifications.setdefault(qualification.expert_id, []).append(
                _qualification_text(qualification)
            )
        for expert in chunk:
            row: list[Any] = []
            for name in EXPORT_FIELDS:
                if name in _MANY:
                    value: Any = "; ".join(terms[name].get(expert.pk, []))
                elif name in ("district", "talent_tier"):
                    value = labels[name].get(getattr(expert, f"{name}_id"), ("", 0))[0]
                elif name == "qualifications":
                    value = "; ".join(qualifications.get(expert.pk, []))
                elif name == "listed":
                    value = yes if expert.is_listed else no
                elif name == "accepting_requests":
                    value = yes if expert.accepting_requests else no
                elif name == "status":
                    value = statuses.get(expert.status, expert.status)
                elif name == "verification_status":
                    value = verifications.get(
                        expert.verification_status, expert.verification_status
                    )
                else:
                    value = getattr(expert, name)
                    if isinstance(value, datetime.datetime):
                        value = timezone.localtime(value).replace(tzinfo=None)
                    elif value is not None and not isinstance(value, int | str):
                        value = str(value)  # an organisation, a user
                row.append("" if value is None else value)
            yield row


def _term_labels(name: str) -> dict[int, tuple[str, int]]:
    """{term id: (label in the active language, rank in the vocabulary's
    order)} for the vocabulary of the expert field `name`."""
    vocabulary = Expert._meta.get_field(name).related_model
    return {
        term.pk: (term.label, rank)
        for rank, term in enumerate(vocabulary._default_manager.all())
    }


def _terms_by_expert(
    name: str, expert_ids: list[int], labels: dict[int, tuple[str, int]]
) -> dict[int, list[str]]:
    """{expert id: labels of its terms of the many-to-many field `name`, in
    the vocabulary's order}, read from the link table in one query."""
    field = Expert._meta.get_field(name)
    links = field.remote_field.through.objects.filter(
        **{f"{field.m2m_field_name()}_id__in": expert_ids}
    ).values_list(
        f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for expert_id, term_id in links:
        label, rank = labels[term_id]
        found.setdefault(expert_id, []).append((rank, label))
    return {
        key: [label for _rank, label in sorted(pairs)] for key, pairs in found.items()
    }


def _qualification_text(qualification: Any) -> str:
    parts = [qualification.display_title, qualification.licence_number]
    parts.append(qualification.issued_by)
    if qualification.valid_until:
        parts.append(
            gettext("valid until %(date)s")
            % {"date": qualification.valid_until.isoformat()}
        )
    return " · ".join(part for part in parts if part)


# --- helpers ------------------------------------------------------------------


def _months(count: int, today: datetime.date | None) -> list[datetime.date]:
    """The first days of the last `count` calendar months, this one included."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month - 1 - (count - 1)
    return [
        datetime.date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count)
    ]


def _month_key(value: Any) -> datetime.date:
    """A month as the databases return it (a datetime, aware or naive, or a
    date) as its first day."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.date()
    return value


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time.min, tzinfo=timezone.get_default_timezone()
    )


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / whole).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)
