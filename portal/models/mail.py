"""The outbox: every e-mail is a row before it is a message (DESIGN.md decision 1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One e-mail waiting for, or past, delivery.

    Written by portal.mail.OutboxEmailBackend in the transaction of the change
    that asked for it; delivered by portal.tasks.deliver_email, which the
    commit triggers and the beat sweep re-triggers while it is still pending.
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
