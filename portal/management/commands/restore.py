"""manage.py restore ARCHIVE [--yes]: put a backup made by `manage.py backup`
back (docs/backups.md). The whole archive is checked before anything is
written; a database or media folder that is not empty is replaced only with
--yes. Then migrate brings a backup from an older version up to date."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from portal.backups import BackupError, backup_restore, cache_clear


class Command(BaseCommand):
    help = (
        "Restore a backup archive (manage.py backup) over the configured "
        "database and media folder, then migrate. Refuses a damaged or altered "
        "archive, one for another database vendor, and a database that is not "
        "empty unless --yes is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="a portal-backup-*.tar file")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace the database and the media files if they hold anything",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["archive"]

        def checked() -> None:
            self.stdout.write(_("Archive checked: every file matches its checksum."))

        try:
            result = backup_restore(
                path=path, replace=options["yes"], before_write=checked
            )
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from None
        except OSError as error:
            raise CommandError(
                _("The restore failed: %(error)s") % {"error": error}, returncode=1
            ) from None
        self.stdout.write(
            _("Database and %(media)s media files restored; migrating.")
            % {"media": result.media_files}
        )
        call_command("migrate", interactive=False, verbosity=0)
        try:
            # Cached sessions and search state belonged to the replaced data.
            cache_clear()
        except Exception as error:
            self.stdout.write(
                self.style.WARNING(
                    _("The cache could not be cleared (%(error)s): clear it.")
                    % {"error": error}
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Restored the backup of %(created)s (%(path)s).")
                % {"created": result.manifest.get("created_at", "?"), "path": path}
            )
        )
