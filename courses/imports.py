"""Trainee lists for training classes: a CSV or XLSX file a training manager
uploads, checked row by row, then imported all at once or not at all.

`trainee_file_read` only reads (the file, the vocabularies, which accounts
exist) and says what is wrong with which line; `training_class_import` writes
what a clean file asks for, in one transaction.
"""

import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wagtail.log_actions import log

from courses.models import Enrolment, TrainingClass, TrainingClassMember
from courses.services import CourseError, training_class_add_member
from portal.models import Audience, District, User
from portal.models.vocabularies import Term
from portal.site_url import absolute_url
from portal.tabular import (
    FileProblem,
    FileReport,
    RowProblems,
    column_lookup,
    column_names,
    data_lines,
    file_rows,
    find_header,
    term_key,
    term_lookup,
    too_large_message,
)
from portal.validators import normalise_email, validate_printable

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# What a workbook of 5,000 trainees unpacks to is a few MB; zipped XML
# compresses about tenfold, so a real 5 MB workbook stays well under this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# A guard against a small workbook that unpacks to millions of empty rows.
MAX_LINES = 100_000
# How far down a title row or a note may push the column names.
HEADER_SEARCH_LINES = 10

#: The log action recorded on the class (its History tab) for each import.
LOG_ACTION = "courses.import_trainees"

# Column names as a training manager may write them (see header_key()).
COLUMN_ALIASES = {
    "email": {
        "email",
        "emailaddress",
        "mail",
        "邮箱",
        "邮箱地址",
        "电子邮箱",
        "电子邮箱地址",
        "电子邮件",
        "电子邮件地址",
    },
    "name": {"name", "realname", "fullname", "姓名", "真实姓名", "学员姓名"},
    "organisation": {
        "organisation",
        "organization",
        "employer",
        "company",
        "单位",
        "工作单位",
        "所在单位",
        "单位名称",
    },
    "audience": {"audience", "audiencegroup", "人员类别", "学员类别", "类别"},
    "district": {"district", "区县", "所在区县"},
}
REQUIRED_COLUMNS = ("email", "name")
COLUMN_LABELS = {
    "email": pgettext_lazy("trainee file column", "e-mail"),
    "name": pgettext_lazy("trainee file column", "name"),
    "organisation": pgettext_lazy("trainee file column", "organisation"),
    "audience": pgettext_lazy("trainee file column", "audience group"),
    "district": pgettext_lazy("trainee file column", "district"),
}
_COLUMN_BY_ALIAS = column_lookup(COLUMN_ALIASES)
# User model limits, so that a long cell is a reported error, not a crash.
MAX_EMAIL, MAX_NAME, MAX_ORGANISATION = 254, 100, 200


@dataclass(frozen=True)
class ImportRow:
    """One trainee as the file gives it, checked and normalised."""

    line: int
    email: str
    name: str
    organisation: str = ""
    audience: Audience | None = None
    district: District | None = None
    #: The account that already has this e-mail address, if any.
    user_id: int | None = None

    @property
    def is_new(self) -> bool:
        return self.user_id is None


@dataclass
class ImportPreview(FileReport):
    """What a file would import (errors and warnings: portal.tabular's
    FileReport). A preview with errors cannot be imported."""

    rows: list[ImportRow] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def new_accounts(self) -> int:
        return sum(row.is_new for row in self.rows)


@dataclass(frozen=True)
class ImportResult:
    users_created: int
    members_added: int
    already_members: int


# --- reading -------------------------------------------------------------------


def trainee_file_read(*, content: bytes, filename: str) -> ImportPreview:
    """Read and check a trainee list (.csv in UTF-8, GBK/GB18030 or UTF-16, or
    .xlsx, first sheet). Writes nothing; messages are in the active language.
    Every bad row is reported with its line as Excel shows it (the column
    names are line 1); unknown columns are ignored with a warning."""
    preview = ImportPreview()
    try:
        if len(content) > MAX_FILE_BYTES:
            raise FileProblem(too_large_message(MAX_FILE_BYTES))
        lines = file_rows(
            io.BytesIO(content), filename, max_unpacked_bytes=MAX_UNPACKED_BYTES
        )
        _check_lines(lines, preview)
    except FileProblem as problem:
        return ImportPreview(errors=[(None, str(problem))])
    _mark_existing_accounts(preview.rows)
    return preview


def _check_lines(lines: Iterable[list[str]], preview: ImportPreview) -> None:
    numbered = enumerate(lines, start=1)
    header_line, columns = _find_header(numbered, preview)
    preview.column_names = column_names(columns, COLUMN_LABELS)
    vocabularies: dict[str, tuple[Mapping[str, Term], str]] = {
        "audience": (term_lookup(Audience), _("Unknown audience group “%(value)s”.")),
        "district": (term_lookup(District), _("Unknown district “%(value)s”.")),
    }
    seen: dict[str, int] = {}
    for line, values in data_lines(
        numbered,
        columns,
        header_line=header_line,
        max_rows=MAX_ROWS,
        max_lines=MAX_LINES,
        too_many=_(
            "The file has more than %(max)s trainees: split it into smaller files."
        ),
        none_found=_(
            "The file has no trainees below the column names (line %(line)s)."
        ),
    ):
        row = _check_row(line, values, vocabularies, seen, preview)
        if row is not None:
            preview.rows.append(row)


def _find_header(
    numbered: Iterator[tuple[int, list[str]]], preview: ImportPreview
) -> tuple[int, dict[int, str]]:
    """The first line that names a known column (see portal.tabular)."""
    return find_header(
        numbered,
        columns_by_key=_COLUMN_BY_ALIAS,
        required=REQUIRED_COLUMNS,
        labels=COLUMN_LABELS,
        warnings=preview.warnings,
        search_lines=HEADER_SEARCH_LINES,
        not_found=_(
            "No line names the columns. The first line should be: e-mail, name, "
            "organisation, audience group, district (in English or Chinese, e.g. "
            "邮箱, 姓名, 单位, 人员类别, 区县)."
        ),
    )


def _check_row(
    line: int,
    values: dict[str, str],
    vocabularies: dict[str, tuple[Mapping[str, Term], str]],
    seen: dict[str, int],
    preview: ImportPreview,
) -> ImportRow | None:
    """The row, or None after adding each of its problems to `preview`."""
    problems = RowProblems()
    problems.column = "email"
    email = normalise_email(values["email"])
    if not email:
        problems.append(_("The e-mail address is missing."))
    else:
        try:
            validate_email(email)
            valid = len(email) <= MAX_EMAIL
        except ValidationError:
            valid = False
        if not valid:
            problems.append(
                _("“%(value)s” is not a valid e-mail address.")
                % {"value": values["email"]}
            )
        elif email in seen:
            problems.append(
                _("The e-mail address %(email)s is also on line %(line)s.")
                % {"email": email, "line": seen[email]}
            )
        else:
            seen[email] = line
    problems.column = "name"
    name = values["name"]
    if not name:
        problems.append(_("The name is missing."))
    elif len(name) > MAX_NAME:
        problems.append(
            _("The name is longer than %(max)s characters.") % {"max": MAX_NAME}
        )
    else:
        try:
            validate_printable(name)  # the name goes on certificates
        except ValidationError as error:
            problems += error.messages
    problems.column = "organisation"
    organisation = values.get("organisation", "")
    if len(organisation) > MAX_ORGANISATION:
        problems.append(
            _("The organisation is longer than %(max)s characters.")
            % {"max": MAX_ORGANISATION}
        )
    terms: dict[str, Term | None] = {}
    for column, (lookup, unknown) in vocabularies.items():
        problems.column = column
        value = values.get(column, "")
        terms[column] = lookup.get(term_key(value)) if value else None
        if value and terms[column] is None:
            problems.append(unknown % {"value": value})
    if problems:
        problems.report_to(preview, line)
        return None
    return ImportRow(
        line=line,
        email=email,
        name=name,
        organisation=organisation,
        # Each looked up in its own vocabulary (_check_lines).
        audience=cast(Audience | None, terms["audience"]),
        district=cast(District | None, terms["district"]),
    )


def _users_by_email(emails: Iterable[str]) -> dict[str, User]:
    """Accounts for lower-case addresses: the account's own address, or one
    it has verified with allauth (the same person, whichever they sign in with)."""
    from allauth.account.models import EmailAddress

    emails = set(emails)
    users: dict[str, User] = {
        user.email_lower: user
        for user in User.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=emails
        )
    }
    for address in (
        EmailAddress.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails - users.keys(), verified=True)
        .select_related("user")
    ):
        users.setdefault(address.email_lower, address.user)
    return users


def _mark_existing_accounts(rows: list[ImportRow]) -> None:
    users = _users_by_email(row.email for row in rows)
    for index, row in enumerate(rows):
        if row.email in users:
            rows[index] = replace(row, user_id=users[row.email].pk)


# --- importing -----------------------------------------------------------------


def training_class_import(
    *, training_class: TrainingClass, preview: ImportPreview, invited_by: User
) -> ImportResult:
    """Put every trainee of a checked file in the class.

    Before: a preview without errors. After, in one transaction: an account
    for each unknown e-mail (no usable password, the file's profile, a
    verified primary address: the manager vouches for it) with an invitation
    e-mail sent on commit; every trainee a member of the class and enrolled in
    its courses. Existing accounts keep their profile. Raises CourseError and
    writes nothing if the preview has errors. May run twice: the second time
    creates nothing and sends nothing.
    """
    if not preview.is_valid:
        raise CourseError(
            _("The file has errors or no trainees: nothing was imported.")
        )
    users_created = members_added = already_members = 0
    with transaction.atomic():
        # One import per class at a time: a double-clicked confirm waits here,
        # then finds every account and membership made by the first. The
        # courses are read once here instead of once per trainee.
        training_class = (
            TrainingClass.objects.select_for_update()
            .prefetch_related("courses")
            .get(pk=training_class.pk)
        )
        users = _users_by_email(row.email for row in preview.rows)
        settled = _settled_members(training_class, [u.pk for u in users.values()])
        invite: list[User] = []
        for row in preview.rows:
            user = users.get(row.email)
            if user is None:
                user, created = _user_for_row(row)
                if created:
                    users_created += 1
                    invite.append(user)
            if user.pk in settled:
                already_members += 1
            elif training_class_add_member(training_class=training_class, user=user):
                members_added += 1
            else:
                already_members += 1
        site_names: dict[str, str] = {}
        for user in invite:
            _invitation_send(
                user=user, training_class=training_class, site_names=site_names
            )
        if users_created or members_added:
            log(
                instance=training_class,
                action=LOG_ACTION,
                user=invited_by,
                data={"users_created": users_created, "members_added": members_added},
            )
    logger.info(
        "Trainees imported into class %s by user %s: %s new accounts, %s new members",
        training_class.pk,
        invited_by.pk,
        users_created,
        members_added,
    )
    return ImportResult(
        users_created=users_created,
        members_added=members_added,
        already_members=already_members,
    )


def _settled_members(training_class: TrainingClass, user_ids: list[int]) -> set[int]:
    """Those of `user_ids` for whom training_class_add_member would change
    nothing: members already enrolled, through a class, in every course of
    this one. Skipping them keeps a repeated import of thousands fast."""
    members = set(
        TrainingClassMember.objects.filter(
            training_class=training_class, user_id__in=user_ids
        ).values_list("user_id", flat=True)
    )
    course_keys = list(training_class.courses.values_list("pk", flat=True))
    if not course_keys:
        return members
    enrolled = (
        Enrolment.objects.filter(
            user_id__in=members,
            course_key__in=course_keys,
            training_class__isnull=False,
        )
        .values("user_id")
        .annotate(courses=Count("course_key", distinct=True))
    )
    return {e["user_id"] for e in enrolled if e["courses"] == len(course_keys)}


def _user_for_row(row: ImportRow) -> tuple[User, bool]:
    from allauth.account.models import EmailAddress

    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=row.email,
                password=None,  # unusable: the trainee chooses one
                real_name=row.name,
                organisation=row.organisation,
                audience=row.audience,
                district=row.district,
            )
            EmailAddress.objects.create(
                user=user, email=user.email, verified=True, primary=True
            )
            return user, True
    except IntegrityError:  # another request created the account meanwhile
        return _users_by_email([row.email])[row.email], False


def _invitation_send(
    *, user: User, training_class: TrainingClass, site_names: dict[str, str]
) -> None:
    """The invitation, in the new trainee's language (Chinese by default).
    `site_names` caches the portal's name per language across one import."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        if language not in site_names:
            site_names[language] = _site_name()
        context = {
            "name": user.get_full_name(),
            "email": user.email,
            "training_class": training_class.name,
            "starts": formats.date_format(training_class.starts_on),
            "ends": formats.date_format(training_class.ends_on),
            "site": site_names[language],
            "url": absolute_url(reverse("account_reset_password")),
        }
        subject = _("You have been added to the training class “%(training_class)s”")
        body = "\n\n".join(
            [
                _("Dear %(name)s,"),
                _(
                    "You have been added to the training class “%(training_class)s” "
                    "(%(starts)s – %(ends)s) on %(site)s, and enrolled in its courses."
                ),
                _(
                    "An account has been opened for you with this e-mail address "
                    "(%(email)s). To sign in, first set your password: open the page "
                    "below, enter your e-mail address, and follow the link we send you."
                ),
                "%(url)s",
                _("If you did not expect this e-mail, you can ignore it."),
                "%(site)s",
            ]
        )
        send_mail(
            subject % context,
            body % context,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )


def _site_name() -> str:
    from wagtail.models import Site

    from portal.models import SiteSettings

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return settings.WAGTAIL_SITE_NAME
    return SiteSettings.for_site(site).display_name
