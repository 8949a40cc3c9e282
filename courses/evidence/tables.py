"""What evidence is made of: tables of plain values, the evidence that
holds them, how people and times are written in it, and the learner's
table that every kind of evidence starts with. Other apps build their
tables of evidence with these (events.evidence)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from courses.models import Certificate, Enrolment

#: Times are Asia/Shanghai (docs/decisions.md, decision 9), whatever time
#: zone an admin user chose for their own account.
SHANGHAI = ZoneInfo("Asia/Shanghai")


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
