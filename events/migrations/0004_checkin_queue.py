"""Check-in at the door (issue 17): short check-in codes, the registrant's
phone, walk-ins.

Every existing registration gets a new short code (8 characters of
Crockford's base32, events.checkin.codes); its old 20-character code moves to
``legacy_code`` and is still accepted exactly as written, so the QR codes and
e-mails already sent keep working, while the registrant's page, My
registrations and the next e-mails show the short code.
"""

import secrets

from django.db import migrations, models

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def short_codes(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    taken = set()
    rows = Registration.objects.only("pk", "code").order_by("pk")
    for registration in rows.iterator(chunk_size=1000):
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
            if code not in taken:
                break
        taken.add(code)
        Registration.objects.filter(pk=registration.pk).update(
            legacy_code=registration.code, code=code
        )


def long_codes(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    rows = Registration.objects.filter(legacy_code__isnull=False)
    for registration in rows.only("pk", "legacy_code").iterator(chunk_size=1000):
        Registration.objects.filter(pk=registration.pk).update(
            code=registration.legacy_code, legacy_code=None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_evidence"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="legacy_code",
            field=models.CharField(
                blank=True,
                max_length=32,
                null=True,
                unique=True,
                verbose_name="earlier check-in code",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="phone",
            field=models.CharField(
                blank=True,
                help_text="Optional: lets staff find you at the entrance.",
                max_length=30,
                verbose_name="mobile phone",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="walk_in",
            field=models.BooleanField(
                default=False, verbose_name="registered at the entrance"
            ),
        ),
        migrations.RunPython(short_codes, long_codes),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.CheckConstraint(
                condition=models.Q(("code__regex", "^[0-9A-HJKMNP-TV-Z]{8}$")),
                name="events_checkin_code_crockford",
            ),
        ),
    ]
