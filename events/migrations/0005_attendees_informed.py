"""Keeping attendees informed (issue 17, part 2): the event's calendar
sequence, the digest of its announced time and place, its cancellation;
which sequence each registrant has received; staff messages to registrants."""

import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _fingerprint(event) -> str:
    # As events.registration.changes.schedule_fingerprint (copied: a migration
    # does not import code that may change later).
    parts = [
        event.starts_at.isoformat() if event.starts_at else "",
        event.ends_at.isoformat() if event.ends_at else "",
        event.venue.strip(),
        event.address.strip(),
        event.online_url.strip(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def fingerprint_published(apps, schema_editor):
    """The published events' time and place as announced so far, so that the
    next publish that changes them notifies their registrants."""
    EventPage = apps.get_model("events", "EventPage")
    for event in EventPage.objects.filter(live=True).only(
        "pk", "starts_at", "ends_at", "venue", "address", "online_url"
    ):
        EventPage.objects.filter(pk=event.pk).update(
            ical_fingerprint=_fingerprint(event)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_checkin_queue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="eventpage",
            name="ical_sequence",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="calendar sequence"
            ),
        ),
        migrations.AddField(
            model_name="eventpage",
            name="ical_fingerprint",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="eventpage",
            name="cancelled_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="cancelled"
            ),
        ),
        migrations.AddField(
            model_name="eventpage",
            name="cancellation_reason",
            field=models.TextField(
                blank=True,
                editable=False,
                verbose_name="why the event was cancelled",
            ),
        ),
        migrations.AddConstraint(
            model_name="eventpage",
            constraint=models.CheckConstraint(
                condition=models.Q(("cancelled_at__isnull", True))
                | models.Q(("cancellation_reason", ""), _negated=True),
                name="events_cancelled_with_reason",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="notified_sequence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.CreateModel(
            name="EventMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("subject", models.CharField(max_length=200, verbose_name="subject")),
                ("body", models.TextField(verbose_name="message")),
                (
                    "audience",
                    models.CharField(
                        choices=[
                            ("confirmed", "Confirmed"),
                            ("waiting", "Waiting list"),
                            ("checked_in", "Checked in"),
                            ("all", "Confirmed and waiting list"),
                        ],
                        max_length=12,
                        verbose_name="recipients",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="sent"),
                ),
                (
                    "recipients",
                    models.PositiveIntegerField(default=0, verbose_name="recipients"),
                ),
                ("sent_up_to", models.BigIntegerField(default=0)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "event",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="messages",
                        to="events.eventpage",
                        verbose_name="event",
                    ),
                ),
                (
                    "sent_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="sent by",
                    ),
                ),
            ],
            options={
                "verbose_name": "message to registrants",
                "verbose_name_plural": "messages to registrants",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("subject", ""), _negated=True),
                            models.Q(("body", ""), _negated=True),
                        ),
                        name="events_message_not_empty",
                    )
                ],
            },
        ),
        migrations.RunPython(fingerprint_published, migrations.RunPython.noop),
    ]
