import secrets

from allauth.account.models import EmailAddress

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.models import User


class Command(BaseCommand):
    help = (
        "Create the first administrator if there is none, and print its login once. "
        "It must set up two-factor authentication at its first visit to the admin."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--email", default=settings.PORTAL_DEMO_ADMIN_EMAIL)

    def handle(self, *args, email: str, **options) -> None:  # type: ignore[no-untyped-def]
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "Administrator exists (its password was printed when it was created; "
                "`python manage.py changepassword EMAIL` sets a new one)."
            )
            return
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_superuser(
                email=email, password=password, real_name="管理员"
            )
            EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=True
            )
        line = "=" * 64
        self.stdout.write(
            f"{line}\nAdministrator created (shown only this once):\n"
            f"  e-mail:   {email}\n  password: {password}\n"
            f"Sign in at /accounts/login/; the admin asks you to set up\n"
            f"two-factor authentication (TOTP) before it opens.\n{line}"
        )
