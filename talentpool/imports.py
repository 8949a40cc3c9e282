"""Reading an expert list (CSV or XLSX) and saying what is wrong with it.

`expert_file_check` only reads: the file, streamed row by row, and the
database (vocabularies, which experts and licence numbers exist), in batches.
It is both the dry run and the first pass of `talentpool.services.experts_import`,
which reads the file a second time, through the same `expert_file_batches`,
to write it. Nothing here keeps the rows of a file in memory: what grows with
the file is the set of external IDs and licence numbers seen so far (to find
duplicates) and the list of problems.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from portal.models import District, IPType
from portal.models.vocabularies import Term
from portal.tabular import (
    FileProblem,
    FileReport,
    RowProblems,
    column_lookup,
    column_names,
    data_lines,
    file_rows,
    find_header,
    header_key,
    term_key,
    term_lookup,
)
from portal.validators import normalise_email
from talentpool.contact_details import contact_details_in
from talentpool.models import (
    Expert,
    ExpertCategory,
    ExpertConsent,
    Industry,
    Language,
    Qualification,
    Service,
    TalentTier,
)
from talentpool.validators import (
    normalise_licence_number,
    normalise_phone,
)

#: Rows checked (and written) together: one query per batch, not per row.
BATCH_SIZE = 1000
#: Rows kept for the admin's preview table; the rest are only counted.
SAMPLE_ROWS = 200
MAX_ROWS = 200_000
# A workbook of 100,000 experts with biographies unpacks to a few hundred MB;
# openpyxl streams it, so this guards only against absurd files.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024

# Column names as people write them (compared by portal.tabular.header_key).
COLUMN_ALIASES: dict[str, set[str]] = {
    "external_id": {"external_id", "外部编号", "编号", "专家编号", "人员编号"},
    "name": {"name", "full name", "姓名", "专家姓名", "名字"},
    "category": {
        "category",
        "categories",
        "类别",
        "专家类别",
        "人才类别",
        "人员类别",
    },
    "ip_types": {
        "ip_types",
        "ip type",
        "知识产权类型",
        "知识产权类别",
        "知识产权领域",
        "专业领域",
    },
    "services": {"services", "service", "服务", "服务类型", "服务项目", "业务范围"},
    "industries": {
        "industries",
        "industry",
        "行业",
        "行业领域",
        "擅长行业",
        "所属行业",
    },
    "district": {"district", "区县", "所在区县", "区域", "地区"},
    "organization": {
        "organization",
        "organisation",
        "机构/单位",
        "机构",
        "单位",
        "工作单位",
        "所在单位",
        "执业机构",
        "所在机构",
    },
    "languages": {"languages", "language", "语言", "工作语言", "外语"},
    "years_of_practice": {
        "years_of_practice",
        "years",
        "执业年限",
        "从业年限",
        "工作年限",
    },
    "talent_tier": {"talent_tier", "tier", "人才层级", "人才层次", "层级", "人才等级"},
    "license_no": {
        "license_no",
        "licence_no",
        "license number",
        "licence number",
        "执业证号",
        "执业证书编号",
        "执业证编号",
        "证书编号",
        "资格证号",
    },
    "bio": {"bio", "biography", "简介", "个人简介", "专家简介"},
    "email": {"email", "e-mail", "邮箱", "电子邮箱", "电子邮件", "邮箱地址"},
    "phone": {
        "phone",
        "telephone",
        "mobile",
        "电话",
        "联系电话",
        "手机",
        "手机号",
        "手机号码",
    },
    # Evidence given on paper (docs/talentpool.md, "Imports are strict"):
    # the date a reviewer verified the expert, and the date and reference of
    # the signed consent form. They need the importing staff user.
    "verified_on": {
        "verified_on",
        "verification date",
        "核验日期",
        "审核日期",
        "核验时间",
    },
    "consent_on": {
        "consent_on",
        "consent date",
        "同意日期",
        "同意时间",
        "同意书签署日期",
    },
    "consent_ref": {
        "consent_ref",
        "consent reference",
        "consent form",
        "同意书编号",
        "同意书号",
        "授权书编号",
    },
}
#: Columns that record evidence given on paper; an import with any of them
#: needs the staff user who records it (experts_import's `user`).
EVIDENCE_COLUMNS = frozenset({"verified_on", "consent_on", "consent_ref"})
_COLUMN_BY_KEY = column_lookup(COLUMN_ALIASES)
#: Columns every roster has that say nothing about the expert: accepted
#: (and ignored) even by a strict check.
IGNORABLE_COLUMNS = frozenset(
    header_key(name)
    for name in (
        "序号",
        "编号序号",
        "no",
        "no.",
        "#",
        "备注",
        "说明",
        "remarks",
        "note",
        "notes",
    )
)
COLUMN_LABELS = {
    "external_id": pgettext_lazy("expert file column", "external ID"),
    "name": pgettext_lazy("expert file column", "name"),
    "category": pgettext_lazy("expert file column", "category"),
    "ip_types": pgettext_lazy("expert file column", "IP types"),
    "services": pgettext_lazy("expert file column", "services"),
    "industries": pgettext_lazy("expert file column", "industries"),
    "district": pgettext_lazy("expert file column", "district"),
    "organization": pgettext_lazy("expert file column", "organisation"),
    "languages": pgettext_lazy("expert file column", "languages"),
    "years_of_practice": pgettext_lazy("expert file column", "years of practice"),
    "talent_tier": pgettext_lazy("expert file column", "talent tier"),
    "license_no": pgettext_lazy("expert file column", "licence number"),
    "bio": pgettext_lazy("expert file column", "biography"),
    "email": pgettext_lazy("expert file column", "e-mail"),
    "phone": pgettext_lazy("expert file column", "phone"),
    "verified_on": pgettext_lazy("expert file column", "verified on"),
    "consent_on": pgettext_lazy("expert file column", "consent on"),
    "consent_ref": pgettext_lazy("expert file column", "consent form reference"),
}
# Vocabulary columns: (column, model, several values allowed).
VOCABULARY_COLUMNS: tuple[tuple[str, type[Term], bool], ...] = (
    ("category", ExpertCategory, True),
    ("ip_types", IPType, True),
    ("services", Service, True),
    ("industries", Industry, True),
    ("languages", Language, True),
    ("district", District, False),
    ("talent_tier", TalentTier, False),
)
# What separates several values in one cell (after NFKC, "；" is ";" and "｜" "|").
# Not the comma: English labels contain commas.
_SEPARATORS = re.compile(r"[;|、]")
MAX_EXTERNAL_ID, MAX_NAME, MAX_ORGANISATION, MAX_EMAIL = 64, 100, 200, 254
MAX_BIOGRAPHY, MAX_YEARS = 10_000, 80
MAX_CONSENT_REF = 100
# A date as rosters write it (after NFKC: full-width digits and "／" are
# ASCII): 2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, with or without a
# time after it (an Excel date cell arrives as 2025-03-01T00:00:00).
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
# An Excel date left as its serial number (a cell formatted as a number):
# days since 1899-12-30; 20000 to 99999 are the years 1954 to 2173.
_EXCEL_SERIAL = re.compile(r"[2-9]\d{4}(?:\.0+)?")
_EXCEL_EPOCH = date(1899, 12, 30)
#: The time of day a date given on paper stands for (in settings.TIME_ZONE):
#: noon, so that the date reads the same in every time zone of China's users.
EVIDENCE_TIME = time(12)


def evidence_datetime(day: date) -> datetime:
    """A date recorded on paper as the aware datetime stored for it: noon
    of that day in the portal's time zone (Asia/Shanghai)."""
    return timezone.make_aware(
        datetime.combine(day, EVIDENCE_TIME), timezone.get_default_timezone()
    )


def evidence_day(moment: datetime) -> date:
    """The day of a stored moment in the portal's time zone."""
    return timezone.localdate(moment, timezone.get_default_timezone())


def evidence_date(value: str) -> date | None:
    """The date a cell holds, or None if it is not one. Reads 2025-03-01,
    2025/3/1, 2025.3.1, 2025年3月1日 (full-width digits too), an ISO date
    with a time, and an Excel serial number."""
    text = unicodedata.normalize("NFKC", value).strip()
    match = _DATE.fullmatch(text)
    try:
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
        if _EXCEL_SERIAL.fullmatch(text):
            return _EXCEL_EPOCH + timedelta(days=int(float(text)))
    except (ValueError, OverflowError):
        return None
    return None


@dataclass(frozen=True, slots=True)
class ExpertRow:
    """One expert as the file gives it, checked and normalised. Columns the
    file does not have are left alone on an update; `terms` holds only the
    vocabulary columns the file has."""

    line: int
    external_id: str | None
    name: str
    organisation: str = ""
    years_of_practice: int | None = None
    licence_number: str = ""
    biography: str = ""
    email: str = ""
    phone: str = ""
    terms: dict[str, tuple[Term, ...]] = field(default_factory=dict)
    #: The expert this row updates, found by external ID or licence number.
    expert_id: int | None = None
    #: Verified on paper on this date (column verified_on).
    verified_on: date | None = None
    #: Consent to publication signed on paper on this date, on the form
    #: with this reference (columns consent_on and consent_ref, both or none).
    consent_on: date | None = None
    consent_ref: str = ""

    def term(self, column: str) -> Term | None:
        values = self.terms.get(column, ())
        return values[0] if values else None

    def labels(self, column: str) -> str:
        return "、".join(term.label for term in self.terms.get(column, ()))

    @property
    def category_labels(self) -> str:
        return self.labels("category")

    @property
    def district_label(self) -> str:
        return self.labels("district")


@dataclass
class ExpertFileReport(FileReport):
    """What a file would do (errors and warnings: portal.tabular's
    FileReport). A report with errors, or without rows, cannot be imported."""

    filename: str
    #: Declared as new experts only: rows need no external ID or licence
    #: number, and a row matching an expert already in the pool is refused.
    create_only: bool = False
    columns: frozenset[str] = frozenset()
    rows: int = 0
    new: int = 0
    updated: int = 0
    sample: list[ExpertRow] = field(default_factory=list)
    #: Lines whose biography or organisation carries a phone, an address…
    contact_detail_lines: list[int] = field(default_factory=list)
    #: Rows that record a verification (verified_on) or a paper consent
    #: (consent_on and consent_ref).
    verifications: int = 0
    consents: int = 0
    #: Lines whose paper consent is not recorded: the expert withdrew
    #: consent online on or after the paper's date (the withdrawal stands).
    consent_skipped_lines: list[int] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return self.rows


class _Checker:
    """Checks lines of an expert file, keeping what it needs to find
    duplicates across the whole file."""

    def __init__(self, report: ExpertFileReport) -> None:
        self.report = report
        self.vocabularies = {
            column: term_lookup(model) for column, model, _many in VOCABULARY_COLUMNS
        }
        self.external_ids: dict[str, int] = {}
        self.licences: dict[str, int] = {}

    def row(self, line: int, values: dict[str, str]) -> ExpertRow | None:
        """The row, or None after adding each of its problems to the report."""
        problems = RowProblems()
        problems.column = "external_id"
        external_id = unicodedata.normalize("NFKC", values.get("external_id", ""))
        external_id = external_id.strip()
        if len(external_id) > MAX_EXTERNAL_ID:
            problems.append(
                _("The external ID is longer than %(max)s characters.")
                % {"max": MAX_EXTERNAL_ID}
            )
        elif external_id in self.external_ids:
            problems.append(
                _("The external ID %(id)s is also on line %(line)s.")
                % {"id": external_id, "line": self.external_ids[external_id]}
            )
        elif external_id:
            self.external_ids[external_id] = line

        problems.column = "name"
        name = values["name"]
        if not name:
            problems.append(_("The name is missing."))
        elif len(name) > MAX_NAME:
            problems.append(
                _("The name is longer than %(max)s characters.") % {"max": MAX_NAME}
            )

        problems.column = "organization"
        organisation = " ".join(values.get("organization", "").split())
        if len(organisation) > MAX_ORGANISATION:
            problems.append(
                _("The organisation is longer than %(max)s characters.")
                % {"max": MAX_ORGANISATION}
            )
        problems.column = "bio"
        biography = values.get("bio", "")
        if len(biography) > MAX_BIOGRAPHY:
            problems.append(
                _("The biography is longer than %(max)s characters.")
                % {"max": MAX_BIOGRAPHY}
            )

        problems.column = "years_of_practice"
        years = self._years(values.get("years_of_practice", ""), problems)
        problems.column = "license_no"
        licence = self._licence(values.get("license_no", ""), line, problems)
        problems.column = "email"
        email = self._email(values.get("email", ""), problems)
        problems.column = "phone"
        phone = ""
        if values.get("phone"):
            try:
                phone = normalise_phone(values["phone"])
            except ValidationError as error:
                problems.extend(error.messages)

        terms: dict[str, tuple[Term, ...]] = {}
        for column, model, many in VOCABULARY_COLUMNS:
            if column in values:
                problems.column = column
                terms[column] = self._terms(
                    column, model, many, values[column], problems
                )

        problems.column = "verified_on"
        verified_on = self._date(values.get("verified_on", ""), problems)
        problems.column = "consent_on"
        consent_on = self._date(values.get("consent_on", ""), problems)
        problems.column = "consent_ref"
        consent_ref = " ".join(
            unicodedata.normalize("NFKC", values.get("consent_ref", "")).split()
        )
        if len(consent_ref) > MAX_CONSENT_REF:
            problems.append(
                _("The consent form reference is longer than %(max)s characters.")
                % {"max": MAX_CONSENT_REF}
            )
        if values.get("consent_on") and not consent_ref:
            problems.append(
                _(
                    "The consent date needs the reference of the signed consent "
                    "form (column consent_ref, 同意书编号)."
                )
            )
        elif consent_ref and not values.get("consent_on"):
            problems.append(
                _(
                    "The consent form reference needs the date the form was "
                    "signed (column consent_on, 同意日期)."
                )
            )

        problems.column = "external_id"
        if not (external_id or licence or self.report.create_only):
            problems.append(
                _(
                    "Give the row an external ID or a licence number, so that a "
                    "later import updates this expert instead of adding them "
                    "again (or import the file as new experts only)."
                )
            )
        if problems:
            problems.report_to(self.report, line)
            return None
        if contact_details_in(biography) or contact_details_in(organisation):
            self.report.contact_detail_lines.append(line)
        return ExpertRow(
            line=line,
            external_id=external_id or None,
            name=name,
            organisation=organisation,
            years_of_practice=years,
            licence_number=licence,
            biography=biography,
            email=email,
            phone=phone,
            terms=terms,
            verified_on=verified_on,
            consent_on=consent_on,
            consent_ref=consent_ref if consent_on else "",
        )

    def _error(self, line: int, message: str, column: str = "") -> None:
        """A problem of the line, in `column` when it is one of them."""
        self.report.add_error(line, message, column)

    def _date(self, value: str, problems: list[str]) -> date | None:
        """A verification or consent date: a real date, not in the future."""
        if not value.strip():
            return None
        day = evidence_date(value)
        if day is None:
            problems.append(
                _(
                    "“%(value)s” is not a date: write it as 2025-03-01, "
                    "2025/3/1 or 2025年3月1日."
                )
                % {"value": value}
            )
            return None
        if day > evidence_day(timezone.now()):
            problems.append(
                _("The date %(date)s is in the future.") % {"date": day.isoformat()}
            )
            return None
        return day

    def _years(self, value: str, problems: list[str]) -> int | None:
        text = unicodedata.normalize("NFKC", value).strip().removesuffix("年").strip()
        if not text:
            return None
        if not text.isdigit() or int(text) > MAX_YEARS:
            problems.append(
                _(
                    "“%(value)s” is not a number of years of practice "
                    "(a whole number from 0 to %(max)s)."
                )
                % {"value": value, "max": MAX_YEARS}
            )
            return None
        return int(text)

    def _licence(self, value: str, line: int, problems: list[str]) -> str:
        if not value:
            return ""
        try:
            licence = normalise_licence_number(value)
        except ValidationError as error:
            problems.extend(error.messages)
            return ""
        if licence in self.licences:
            problems.append(
                _("The licence number %(number)s is also on line %(line)s.")
                % {"number": licence, "line": self.licences[licence]}
            )
        else:
            self.licences[licence] = line
        return licence

    def _email(self, value: str, problems: list[str]) -> str:
        email = normalise_email(value)
        if not email:
            return ""
        try:
            validate_email(email)
            valid = len(email) <= MAX_EMAIL
        except ValidationError:
            valid = False
        if not valid:
            problems.append(
                _("“%(value)s” is not a valid e-mail address.") % {"value": value}
            )
        return email

    def _terms(
        self, column: str, model: type[Term], many: bool, cell: str, problems: list[str]
    ) -> tuple[Term, ...]:
        texts = [
            text.strip()
            for text in _SEPARATORS.split(unicodedata.normalize("NFKC", cell))
            if text.strip()
        ]
        if len(texts) > 1 and not many:
            problems.append(
                _("Give one %(vocabulary)s only, not “%(value)s”.")
                % {"vocabulary": model._meta.verbose_name, "value": cell}
            )
            return ()
        found: list[Term] = []
        for text in texts:
            term = self.vocabularies[column].get(term_key(text))
            if term is None:
                problems.append(
                    _("Unknown %(vocabulary)s “%(value)s”.")
                    % {"vocabulary": model._meta.verbose_name, "value": text}
                )
            elif term not in found:
                found.append(term)
        return tuple(found)

    def batch(self, rows: list[ExpertRow]) -> list[ExpertRow]:
        """The batch with each row's existing expert found, less the rows
        whose licence number another expert already holds (reported)."""
        experts = dict(
            Expert.objects.filter(
                external_id__in=[row.external_id for row in rows if row.external_id]
            ).values_list("external_id", "pk")
        )
        holders = {
            licence: (expert_id, external_id, name)
            for licence, expert_id, external_id, name in Qualification.objects.filter(
                licence_number__in=[r.licence_number for r in rows if r.licence_number]
            ).values_list(
                "licence_number", "expert_id", "expert__external_id", "expert__name"
            )
        }
        checked: list[ExpertRow] = []
        for row in rows:
            expert_id = experts.get(row.external_id) if row.external_id else None
            holder = holders.get(row.licence_number)
            if holder is not None:
                holder_id, _holder_external_id, holder_name = holder
                if row.external_id is None and expert_id is None:
                    # No external ID: the licence number says who this is.
                    expert_id = holder_id
                elif holder_id != expert_id:
                    self._error(
                        row.line,
                        _(
                            "The licence number %(number)s belongs to another "
                            "expert already in the pool (%(name)s)."
                        )
                        % {"number": row.licence_number, "name": holder_name},
                        "license_no",
                    )
                    continue
            if expert_id is None and not row.terms.get("category"):
                self._error(
                    row.line,
                    _("A new expert needs a category: the category is missing."),
                    "category",
                )
                continue
            if expert_id is not None and self.report.create_only:
                self.report.errors.append(
                    (
                        row.line,
                        _(
                            "This expert is already in the talent pool: a file "
                            "of new experts only cannot update them."
                        ),
                    )
                )
                continue
            checked.append(_with_expert(row, expert_id))
        return self._paper_consents(checked)

    def _paper_consents(self, rows: list[ExpertRow]) -> list[ExpertRow]:
        """The rows with a paper consent the expert's own record allows:
        a form already recorded for the expert under another date is an
        error; a withdrawal given online on or after the paper's date stands,
        and the row's consent is left out (a warning names the line)."""
        ids = [row.expert_id for row in rows if row.consent_on and row.expert_id]
        if not ids:
            return rows
        withdrawn: dict[int, datetime] = {}
        recorded: dict[tuple[int, str], datetime] = {}
        for expert_id, given, method, reference, at in ExpertConsent.objects.filter(
            expert_id__in=ids, kind=ExpertConsent.Kind.PUBLICATION
        ).values_list("expert_id", "given", "method", "reference", "recorded_at"):
            if not given:
                withdrawn[expert_id] = max(at, withdrawn.get(expert_id, at))
            elif method == ExpertConsent.Method.PAPER:
                recorded[(expert_id, reference)] = at
        kept: list[ExpertRow] = []
        for row in rows:
            if row.consent_on is None or row.expert_id is None:
                kept.append(row)
                continue
            earlier = recorded.get((row.expert_id, row.consent_ref))
            if earlier is not None and evidence_day(earlier) != row.consent_on:
                self._error(
                    row.line,
                    _(
                        "The consent form %(reference)s is already recorded "
                        "for %(name)s, signed on %(date)s."
                    )
                    % {
                        "reference": row.consent_ref,
                        "name": row.name,
                        "date": date_format(evidence_day(earlier)),
                    },
                    "consent_ref",
                )
                continue
            withdrawal = withdrawn.get(row.expert_id)
            if withdrawal is not None and evidence_day(withdrawal) >= (row.consent_on):
                self.report.consent_skipped_lines.append(row.line)
                self.report.warnings.append(
                    _(
                        "Line %(line)s: %(name)s withdrew consent to publication "
                        "online on %(withdrawn)s, on or after the paper consent "
                        "of %(date)s. The withdrawal stands: the paper consent "
                        "is not recorded; the rest of the row is imported."
                    )
                    % {
                        "line": row.line,
                        "name": row.name,
                        "withdrawn": date_format(evidence_day(withdrawal)),
                        "date": date_format(row.consent_on),
                    }
                )
                row = replace(row, consent_on=None, consent_ref="")
            kept.append(row)
        return kept


def _with_expert(row: ExpertRow, expert_id: int | None) -> ExpertRow:
    return row if expert_id is None else replace(row, expert_id=expert_id)


def expert_file_batches(
    *, file: IO[bytes], report: ExpertFileReport
) -> Iterator[list[ExpertRow]]:
    """Checked rows of the file, BATCH_SIZE at a time, streamed; problems go
    to `report` as they are found. Raises FileProblem for a file that cannot
    be read at all. Reads the database, writes nothing."""
    lines = file_rows(file, report.filename, max_unpacked_bytes=MAX_UNPACKED_BYTES)
    numbered = enumerate(lines, start=1)
    header_line, columns = find_header(
        numbered,
        columns_by_key=_COLUMN_BY_KEY,
        required=("name",),
        labels=COLUMN_LABELS,
        warnings=report.warnings,
        strict=True,
        ignorable=IGNORABLE_COLUMNS,
        not_found=_(
            "No line names the columns. The first line should be: external_id, "
            "name, category, ip_types, services, industries, district, "
            "organization, languages, years_of_practice, talent_tier, license_no, "
            "bio, email, phone (or in Chinese: 外部编号, 姓名, 类别, …)."
        ),
    )
    report.columns = frozenset(columns.values())
    report.column_names = column_names(columns, COLUMN_LABELS)
    if not report.create_only and not {"external_id", "license_no"} & report.columns:
        raise FileProblem(
            _(
                "The file has neither an external ID column nor a licence number "
                "column, so a later import could not tell its experts apart from "
                "new ones. Add one of them, or import the file as new experts "
                "only."
            )
        )
    if len({"consent_on", "consent_ref"} & report.columns) == 1:
        raise FileProblem(
            _(
                "A paper consent needs both its date and the reference of the "
                "signed form: the file has one of the columns consent_on "
                "(同意日期) and consent_ref (同意书编号) without the other."
            )
        )
    checker = _Checker(report)
    batch: list[ExpertRow] = []
    # data_lines raises for a file without a row: there is no batch left then.
    for line, values in data_lines(
        numbered,
        columns,
        header_line=header_line,
        max_rows=MAX_ROWS,
        too_many=_("The file has more than %(max)s experts: split it."),
        none_found=_("The file has no experts below the column names (line %(line)s)."),
    ):
        row = checker.row(line, values)
        if row is not None:
            batch.append(row)
        if len(batch) >= BATCH_SIZE:
            yield checker.batch(batch)
            batch = []
    if batch:
        yield checker.batch(batch)


def expert_file_check(
    *,
    file: IO[bytes],
    filename: str,
    create_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ExpertFileReport:
    """Read and check a whole expert file without writing anything: the dry
    run, and the admin's preview. Every bad row is reported with its line as
    Excel shows it (the column names are line 1); messages are in the active
    language. The file must be seekable (it is read more than once).
    `progress`, if given, is called after each batch with the rows read so
    far, good and bad (the admin's import job shows it)."""
    report = ExpertFileReport(filename=filename, create_only=create_only)
    try:
        for batch in expert_file_batches(file=file, report=report):
            report.rows += len(batch)
            updates = sum(row.expert_id is not None for row in batch)
            report.updated += updates
            report.new += len(batch) - updates
            report.verifications += sum(row.verified_on is not None for row in batch)
            report.consents += sum(row.consent_on is not None for row in batch)
            room = SAMPLE_ROWS - len(report.sample)
            if room > 0:
                report.sample.extend(batch[:room])
            if progress is not None:
                progress(report.rows + len({error[0] for error in report.errors}))
    except FileProblem as problem:
        report.errors.insert(0, (None, str(problem)))
    if report.rows and "external_id" not in report.columns and not create_only:
        report.warnings.append(
            _(
                "The file has no external ID column: experts already in the pool "
                "are found by their licence number."
            )
        )
    if report.contact_detail_lines:
        lines = report.contact_detail_lines
        shown = ", ".join(str(line) for line in lines[:10])
        report.warnings.append(
            ngettext(
                "%(count)s row has contact details in its biography or "
                "organisation (line %(lines)s): public pages and the API will "
                "not show them.",
                "%(count)s rows have contact details in their biography or "
                "organisation (lines %(lines)s): public pages and the API will "
                "not show them.",
                len(lines),
            )
            % {"count": len(lines), "lines": shown + ("…" if len(lines) > 10 else "")}
        )
    report.errors.sort(key=lambda error: error[0] or 0)
    return report
