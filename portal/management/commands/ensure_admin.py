import os
import secrets
from pathlib import Path

from allauth.account.models import EmailAddress

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import User

PASSWORD_FILE_NAME = "admin-password.txt"


def write_private_file(path: Path, text: str) -> None:
    """Create `path` holding `text`, readable and writable by its owner only.

    The file is created with mode 0600 in the same call that creates it
    (O_CREAT|O_EXCL), so it is never readable by others, not even for a
    moment, and an existing file or symlink at `path` is never followed or
    overwritten: FileExistsError instead."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


class Command(BaseCommand):
    help = (
        "Create the first administrator if there is none, and write its password "
        f"to a file only you can read (<PORTAL_VAR_DIR>/{PASSWORD_FILE_NAME}); "
        "the password is never printed. It must set up two-factor authentication "
        "at its first visit to the admin."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", default=settings.PORTAL_DEMO_ADMIN_EMAIL)
        parser.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help=f"where to write the password (default: <PORTAL_VAR_DIR>/"
            f"{PASSWORD_FILE_NAME}); it must not exist yet",
        )

    def handle(self, *args, email: str, password_file: Path | None, **options) -> None:
        path = password_file or Path(settings.VAR_DIR) / PASSWORD_FILE_NAME
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                _(
                    "Administrator exists. Its first password was written to %(path)s "
                    "when it was created; `python manage.py changepassword EMAIL` "
                    "sets a new one."
                )
                % {"path": path}
            )
            return
        password = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The password goes to a private file, never to stdout: `make run`'s
        # terminal, a systemd journal or a CI log is read by more people than
        # the administrator. Written inside the transaction, so that a file
        # that cannot be written leaves no administrator nobody can sign in as.
        with transaction.atomic():
            user = User.objects.create_superuser(
                email=email, password=password, real_name="管理员"
            )
            EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=True
            )
            try:
                write_private_file(
                    path,
                    _(
                        "The portal's first administrator. Sign in, change this "
                        "password, then delete this file.\n"
                        "E-mail: %(email)s\nPassword: %(password)s\n"
                    )
                    % {"email": email, "password": password},
                )
            except FileExistsError:
                raise CommandError(
                    _(
                        "%(path)s already exists (left by an earlier administrator?). "
                        "Delete it, then run this command again."
                    )
                    % {"path": path}
                ) from None
        self.stdout.write(
            _(
                "Administrator %(email)s created. Its password is in %(path)s "
                "(readable by you only; it is not shown here). Sign in at "
                "/accounts/login/; the admin asks you to set up two-factor "
                "authentication (TOTP) before it opens."
            )
            % {"email": email, "path": path}
        )
