# Issue 17, part 7: subscribers without an account (double opt-in), and
# announcements scheduled for a date and time.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0006_seed_ip_types"),
        ("subscriptions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EmailSubscriber",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.EmailField(max_length=254, verbose_name="e-mail address")),
                ("language", models.CharField(blank=True, max_length=10, verbose_name="language")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="signed up")),
                ("confirmation_sent_at", models.DateTimeField(blank=True, null=True, verbose_name="confirmation e-mail sent")),
                ("confirmed_at", models.DateTimeField(blank=True, null=True, verbose_name="consent confirmed")),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True, verbose_name="withdrawn")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("audiences", models.ManyToManyField(blank=True, related_name="+", to="portal.audience", verbose_name="audience groups")),
                ("topics", models.ManyToManyField(blank=True, related_name="+", to="subscriptions.topic", verbose_name="topics")),
            ],
            options={
                "verbose_name": "subscriber without an account",
                "verbose_name_plural": "subscribers without an account",
                "indexes": [models.Index(fields=["confirmed_at", "withdrawn_at"], name="subscriptions_esub_state_idx")],
                "constraints": [models.UniqueConstraint(fields=("email",), name="subscriptions_emailsubscriber_one_per_address")],
            },
        ),
        migrations.AddField(
            model_name="announcement",
            name="scheduled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="scheduled for"),
        ),
        migrations.AddField(
            model_name="announcement",
            name="scheduled_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="scheduled by"),
        ),
        migrations.AlterField(
            model_name="announcement",
            name="status",
            field=models.CharField(choices=[("draft", "Draft"), ("scheduled", "Scheduled"), ("sending", "Sending"), ("sent", "Sent")], default="draft", max_length=10, verbose_name="status"),
        ),
        migrations.RemoveConstraint(
            model_name="announcement",
            name="subscriptions_announcement_sending_has_time",
        ),
        migrations.AddConstraint(
            model_name="announcement",
            constraint=models.CheckConstraint(condition=models.Q(("status__in", ["draft", "scheduled"]), ("send_started_at__isnull", False), _connector="OR"), name="subscriptions_announcement_sending_has_time"),
        ),
        migrations.AddConstraint(
            model_name="announcement",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("status", "scheduled"), _negated=True), ("scheduled_at__isnull", False), _connector="OR"), name="subscriptions_announcement_scheduled_has_time"),
        ),
        migrations.AlterField(
            model_name="announcementdelivery",
            name="user",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="user"),
        ),
        migrations.AddField(
            model_name="announcementdelivery",
            name="subscriber",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="deliveries", to="subscriptions.emailsubscriber", verbose_name="subscriber without an account"),
        ),
        migrations.AddConstraint(
            model_name="announcementdelivery",
            constraint=models.UniqueConstraint(fields=("announcement", "subscriber"), name="subscriptions_delivery_once_per_subscriber"),
        ),
        migrations.AddConstraint(
            model_name="announcementdelivery",
            constraint=models.CheckConstraint(condition=models.Q(("user__isnull", True), ("subscriber__isnull", True), _connector="OR"), name="subscriptions_delivery_one_recipient"),
        ),
    ]
