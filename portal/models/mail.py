"""The outbox: every e-mail is a row before it is a message
(docs/decisions.md, decision 1)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One e-mail waiting for, or past, delivery.

    Written by portal.mail.OutboxEmailBackend in the transaction of the change
    that asked for it; delivered by portal.tasks.deliver_email, which the
    commit triggers and the beat sweep re-triggers while it is still pending.

    A message may carry a secret (a password-reset link, a confirmation key, a
    check-in code, an unsubscribe token), so its content lives only as long as
    delivery needs it: the transaction that marks a row sent also empties its
    body, HTML, headers and inline attachments (body_removed_at), and sent
    rows are deleted after PORTAL_EMAIL_RETENTION_DAYS (docs/configuration.md).
    A sensitive row (every e-mail of allauth: reset links, confirmation keys,
    login codes) never shows its body in the admin, even while pending.
    In development (PORTAL_EMAIL_KEEP_CONTENT, settings.dev) nothing is
    removed or hidden: the outbox is where a developer reads the mail.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("plain-text body"), blank=True)
    html_body = models.TextField(_("HTML body"), blank=True)
    from_email = models.CharField(_("from"), max_length=320)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    bcc = models.JSONField(_("bcc"), default=list, blank=True)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    attachments = models.JSONField(
        _("attachments"),
        default=list,
        blank=True,
        help_text=_("Filename, MIME type and base64 content of each attachment."),
    )
    sensitive = models.BooleanField(
        _("carries a secret"),
        default=False,
        help_text=_("A sign-in link, key or code: body not shown in the admin."),
    )
    body_removed_at = models.DateTimeField(_("body removed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="portal_outgoingemail_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"

    def get_body_display(self) -> str:
        """The plain-text body as the outbox admin shows it (Wagtail's inspect
        view calls get_<field>_display): a note instead of the body once it is
        removed, or while it carries a secret."""
        if self.body_removed_at is not None:
            return str(_("(delivered; body removed)"))
        if self.sensitive and not settings.PORTAL_EMAIL_KEEP_CONTENT:
            return str(_("(account e-mail: body not shown, it carries a secret)"))
        return self.body
