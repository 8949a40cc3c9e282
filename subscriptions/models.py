"""Subscriptions to notices and announcements sent to subscribers (issue 6).

A user opts in to topics (and, optionally, audience groups); editors write an
announcement in the admin and send it. Sending writes one AnnouncementDelivery
row per recipient in one transaction (docs/decisions.md, decision 1); Celery tasks
then turn pending rows into outbox e-mails in batches, each row exactly once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models.vocabularies import Term


class Topic(Term):
    """What a notice is about: notices, policy documents, events, courses…"""

    class Meta(Term.Meta):
        verbose_name = _("subscription topic")
        verbose_name_plural = _("subscription topics")


class Subscription(models.Model):
    """A user's consent to receive announcements, and what about.

    Active while withdrawn_at is empty and at least one topic is chosen. An
    audience group narrows what is received: with none chosen, announcements
    for every audience group arrive. Withdrawing keeps the row (when consent
    was given and withdrawn) and clears the choices.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="subscription",
    )
    topics = models.ManyToManyField(
        Topic, verbose_name=_("topics"), blank=True, related_name="+"
    )
    audiences = models.ManyToManyField(
        "portal.Audience",
        verbose_name=_("audience groups"),
        blank=True,
        related_name="+",
    )
    consented_at = models.DateTimeField(_("consent given"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [models.Index(fields=["withdrawn_at"])]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class EmailSubscriber(models.Model):
    """A visitor without an account, subscribed by e-mail address alone.

    Double opt-in: the row is written when the address is given (with the
    time the confirmation e-mail went, for the per-address limit), but it
    holds no choices and receives nothing until the link in that e-mail is
    followed: the choices travel in the signed link and are set when it is
    confirmed (services.email_subscriber_confirm). Active while confirmed and
    not withdrawn. Unconfirmed rows, and withdrawn ones, are deleted after
    services.EMAIL_SUBSCRIBER_PURGE_AFTER (docs/privacy.md).
    """

    email = models.EmailField(_("e-mail address"), max_length=254)
    language = models.CharField(_("language"), max_length=10, blank=True)
    topics = models.ManyToManyField(
        Topic, verbose_name=_("topics"), blank=True, related_name="+"
    )
    audiences = models.ManyToManyField(
        "portal.Audience",
        verbose_name=_("audience groups"),
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("signed up"), auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(
        _("confirmation e-mail sent"), null=True, blank=True
    )
    confirmed_at = models.DateTimeField(_("consent confirmed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscriber without an account")
        verbose_name_plural = _("subscribers without an account")
        constraints = [
            # Stored in lower case (services.normalise_email): one row per
            # address, so the per-address limit cannot be split.
            models.UniqueConstraint(
                fields=["email"], name="subscriptions_emailsubscriber_one_per_address"
            ),
        ]
        indexes = [
            models.Index(
                fields=["confirmed_at", "withdrawn_at"],
                name="subscriptions_esub_state_idx",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.withdrawn_at is None


class Announcement(models.Model):
    """An e-mail to the subscribers of its topics, written and sent by editors.

    Draft → (scheduled →) sending (one delivery row per recipient written) →
    sent (every row handed to the outbox). Only a draft may be edited, sent
    or scheduled; a scheduled one goes out at its minute (the beat), or is
    cancelled back to a draft or rescheduled before then. A second send is
    refused (announcement_send, under a row lock).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(
        _("subject"),
        max_length=200,
        help_text=_("In Chinese, or the only language of the announcement."),
    )
    body = models.TextField(
        _("text"),
        help_text=_("Plain text. A blank line starts a new paragraph."),
    )
    subject_en = models.CharField(
        _("subject in English"),
        max_length=200,
        blank=True,
        help_text=_("Optional: subscribers who chose English receive this version."),
    )
    body_en = models.TextField(_("text in English"), blank=True)
    link_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("link to a page"),
        null=True,
        blank=True,
        # The address is copied into link_url when sent: the record stays.
        on_delete=models.SET_NULL,
        related_name="+",
    )
    link_url = models.URLField(_("link sent"), max_length=500, blank=True)
    topics = models.ManyToManyField(
        Topic,
        verbose_name=_("topics"),
        related_name="+",
        help_text=_("Subscribers of any of these topics receive it."),
    )
    audiences = models.ManyToManyField(
        "portal.Audience",
        verbose_name=_("audience groups"),
        blank=True,
        related_name="+",
        help_text=_(
            "Leave empty for every subscriber of the topics; otherwise only "
            "subscribers of these groups (and those who chose no group)."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scheduled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    send_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "scheduled"])
                | Q(send_started_at__isnull=False),
                name="subscriptions_announcement_sending_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_at__isnull=False),
                name="subscriptions_announcement_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="subscriptions_announcement_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def text_for(self, language: str) -> tuple[str, str]:
        """(subject, body) in `language` when the announcement has it, else
        the main text."""
        if language.startswith("en") and self.subject_en and self.body_en:
            return self.subject_en, self.body_en
        return self.subject, self.body

    def language_for(self, language: str) -> str:
        """The language a recipient preferring `language` receives it in."""
        if language.startswith("en") and self.subject_en and self.body_en:
            return "en"
        return settings.LANGUAGE_CODE


class AnnouncementDelivery(models.Model):
    """One recipient of one announcement: at most one (a DB constraint).

    The recipient is a user or a subscriber without an account, never both
    (a DB constraint); a subscriber's row stays, without it, once the
    subscriber is purged.

    Pending until a batch task writes its outbox e-mail (queued, with the
    e-mail linked), or skips it (the user unsubscribed or was deactivated in
    between). Whether the e-mail went out is the outbox row's status.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        QUEUED = "queued", _("Handed to the outbox")
        SKIPPED = "skipped", _("Skipped")

    announcement = models.ForeignKey(
        Announcement,
        verbose_name=_("announcement"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    subscriber = models.ForeignKey(
        EmailSubscriber,
        verbose_name=_("subscriber without an account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    email = models.ForeignKey(
        "portal.OutgoingEmail",
        verbose_name=_("e-mail"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    queued_at = models.DateTimeField(_("handed to the outbox"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(
        _("unsubscribed through this e-mail"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("announcement delivery")
        verbose_name_plural = _("announcement deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"],
                name="subscriptions_delivery_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["announcement", "subscriber"],
                name="subscriptions_delivery_once_per_subscriber",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(subscriber__isnull=True),
                name="subscriptions_delivery_one_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(queued_at__isnull=False),
                name="subscriptions_delivery_queued_has_time",
            ),
        ]
        indexes = [models.Index(fields=["announcement", "status"])]

    def __str__(self) -> str:
        return f"{self.announcement} → {self.user_id or self.subscriber_id}"

    @property
    def address(self) -> str:
        """The recipient's e-mail address ("" once a subscriber is purged)."""
        if self.user is not None:
            return self.user.email
        if self.subscriber is not None:
            return self.subscriber.email
        return ""
