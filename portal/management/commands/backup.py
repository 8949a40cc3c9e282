"""manage.py backup [--output DIR]: the database and the media files in one
archive, portal-backup-YYYYMMDD-HHMMSS.tar (docs/backups.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from portal.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a backup of the database and the media files to one archive "
        "(portal-backup-YYYYMMDD-HHMMSS.tar, readable by its owner only) in "
        "--output (default: <PORTAL_VAR_DIR>/backups)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            metavar="DIR",
            type=Path,
            default=None,
            help="the folder to write the archive to (created if need be)",
        )

    def handle(self, *args, **options) -> None:
        output = options["output"] or Path(settings.VAR_DIR) / "backups"
        try:
            result = backup_create(output=output)
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from None
        except OSError as error:
            raise CommandError(
                _("The backup could not be written: %(error)s") % {"error": error},
                returncode=1,
            ) from None
        if not result.media_included:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Media are in an S3 bucket, not on disk: the archive holds "
                        "the database only. Back the bucket up with its own tools."
                    )
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written: %(path)s (%(size).1f MB, the database and "
                    "%(media)s media files)."
                )
                % {
                    "path": result.path,
                    "size": result.size / 1_000_000,
                    "media": result.media_files,
                }
            )
        )
