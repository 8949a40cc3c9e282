"""manage.py import_experts FILE [--dry-run] [--create-only] [--as-user EMAIL]:
the admin's expert import, from a shell (for big files and scheduled loads).
(--as-user takes the account's e-mail: the portal signs in by e-mail.)

A file with the columns verified_on, consent_on or consent_ref records
evidence given on paper with a staff member as who verified or recorded it:
it needs --as-user, naming an active staff account that may add and change
experts, and is refused without it."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import User
from portal.tabular import file_extension
from talentpool.imports import EVIDENCE_COLUMNS, ExpertFileReport, expert_file_check
from talentpool.services import ImportRefused, TalentPoolError, experts_import


class Command(BaseCommand):
    help = (
        "Import experts from a CSV (UTF-8 or GBK) or XLSX file. The whole file "
        "is checked first; a file with any bad row imports nothing. Exits 1 "
        "when the file has errors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what it would do; write nothing",
        )
        parser.add_argument(
            "--create-only",
            action="store_true",
            help=(
                "the file holds new experts only: rows need no external ID or "
                "licence number, and a row matching an expert in the pool is refused"
            ),
        )
        parser.add_argument(
            "--as-user",
            metavar="EMAIL",
            help=(
                "the staff account (its e-mail, the sign-in name) recorded as having "
                "verified the experts and recorded their paper consent; needed "
                "for a file with verified_on, consent_on or consent_ref"
            ),
        )

    def _staff_user(self, name: str) -> User:
        user = User.objects.filter(email__iexact=name.strip()).first()
        if user is None or not user.is_active or not user.is_staff:
            raise CommandError(_("No active staff account %(name)s.") % {"name": name})
        if not (
            user.has_perm("talentpool.add_expert")
            and user.has_perm("talentpool.change_expert")
        ):
            raise CommandError(
                _("%(name)s may not add and change experts.") % {"name": name}
            )
        return user

    @staticmethod
    def _needs_user() -> str:
        return _(
            "The file records verification or consent given on paper "
            "(verified_on, consent_on, consent_ref): name the staff member "
            "recording it with --as-user."
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        if not file_extension(path.name):
            raise CommandError(_("Upload a .csv or .xlsx file."))
        user = self._staff_user(options["as_user"]) if options["as_user"] else None
        started = time.monotonic()
        with path.open("rb") as file:
            if options["dry_run"]:
                report = expert_file_check(
                    file=file, filename=path.name, create_only=options["create_only"]
                )
                self._report(report)
                if not report.is_valid:
                    raise CommandError(self._refusal(report), returncode=1)
                if user is None and report.columns & EVIDENCE_COLUMNS:
                    raise CommandError(self._needs_user(), returncode=1)
                self.stdout.write(
                    _(
                        "Dry run: %(rows)s experts checked: %(new)s would be added "
                        "and %(updated)s are already in the pool (updated where the "
                        "file differs). Nothing was written."
                    )
                    % {
                        "rows": report.rows,
                        "new": report.new,
                        "updated": report.updated,
                    }
                )
                return
            try:
                result = experts_import(
                    file=file,
                    filename=path.name,
                    user=user,
                    create_only=options["create_only"],
                )
            except ImportRefused as refused:
                self._report(refused.report)
                refusal = self._refusal(refused.report)
                raise CommandError(refusal, returncode=1) from None
            except TalentPoolError as error:
                raise CommandError(str(error), returncode=1) from None
        self._report(result.report, errors=False)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(created)s experts added, %(updated)s updated and "
                    "%(unchanged)s unchanged in %(seconds).1f s."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "seconds": time.monotonic() - started,
                }
            )
        )
        if result.verified or result.consented:
            self.stdout.write(
                _(
                    "%(verified)s experts verified and %(consented)s paper "
                    "consents recorded, by %(user)s."
                )
                % {
                    "verified": result.verified,
                    "consented": result.consented,
                    "user": user,
                }
            )

    def _report(self, report: ExpertFileReport, *, errors: bool = True) -> None:
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(warning))
        if errors:
            for line, message in report.errors:
                where = _("line %(line)s") % {"line": line} if line else _("whole file")
                column = report.error_column((line, message))
                if column:
                    where = f"{where} ({column})"
                self.stderr.write(f"{where}: {message}")

    @staticmethod
    def _refusal(report: ExpertFileReport) -> str:
        if not report.errors:
            return _("The file has no experts: nothing was imported.")
        return ngettext(
            "%(count)s problem in %(file)s: nothing was imported. Correct the "
            "file and import it again.",
            "%(count)s problems in %(file)s: nothing was imported. Correct the "
            "file and import it again.",
            len(report.errors),
        ) % {"count": len(report.errors), "file": report.filename}
