"""The e-mail backend that writes the outbox instead of sending.

Django, allauth and Wagtail send mail through EMAIL_BACKEND; with this backend
every message becomes an OutgoingEmail row in the current transaction, and its
delivery is enqueued only when that transaction commits, together with the
transaction's other e-mails (portal.services.email_deliver_on_commit: one task
per batch, each batch over one SMTP connection). A rolled-back sign-up
therefore sends nothing, and a lost task is caught by the sweep.

An attachment is stored in the row in one of two forms:

- inline: {"filename", "mimetype", "content"} with the bytes in base64, for
  any attachment of a Django message;
- by reference: {"filename", "mimetype", "storage_name"}, a file already in
  the default storage (attach_stored), read only when the e-mail is
  delivered. A certificate's PDF is stored anyway; copying it into the row in
  base64 made each row ~450 KiB to write, and to load for the delivery.
"""

import base64
from collections.abc import Callable, Sequence
from typing import Any, cast

from django_stubs_ext import StrOrPromise

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template
from django.utils import translation

#: The attribute of an EmailMessage that lists its attachments by reference.
STORED_ATTACHMENTS = "portal_stored_attachments"

#: The attribute of an EmailMessage that marks it as carrying a secret.
SENSITIVE = "portal_sensitive"


def templated_email(
    *,
    template: str,
    context: dict[str, Any] | Callable[[], dict[str, Any]],
    to: list[str],
    language: str | None,
) -> EmailMessage:
    """The message rendered from `<template>_subject.txt` and
    `<template>_body.txt` in `language` (the site's default when empty); not
    queued: the caller adds attachments or headers, then email_enqueue.

    The subject is one line (its whitespace collapsed: a header cannot hold a
    line break). `context` may be a function, called inside the language's
    override, for values that depend on it (a reversed link opens in the
    recipient's language only if reversed there).
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        values = context() if callable(context) else context
        subject = _plain_text(f"{template}_subject.txt", values)
        body = _plain_text(f"{template}_body.txt", values)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=to)


def _plain_text(name: str, values: dict[str, Any]) -> str:
    """A text template rendered without HTML escaping: an e-mail is not HTML,
    and a course called "专利 & 商标" must not arrive as "专利 &amp; 商标"."""
    # The e-mail templates are Django templates (settings.TEMPLATES).
    template = cast(DjangoTemplate, get_template(name))
    return template.template.render(Context(values, autoescape=False))


def mark_sensitive(message: EmailMessage) -> None:
    """Mark a message as carrying a secret (a sign-in link, key or code): the
    outbox admin never shows its body, even before it is delivered. The
    account adapter marks every e-mail of allauth so."""
    setattr(message, SENSITIVE, True)


def attach_stored(
    message: EmailMessage, *, filename: str, storage_name: str, mimetype: str
) -> None:
    """Attach a file of the default storage by reference: the outbox row keeps
    its name, and delivery reads the file. The file must stay in storage
    until the e-mail is sent (delivery fails, and is retried, without it).
    Only the outbox (email_enqueue, OutboxEmailBackend) understands this.
    """
    stored = getattr(message, STORED_ATTACHMENTS, None)
    if stored is None:
        stored = []
        setattr(message, STORED_ATTACHMENTS, stored)
    stored.append(
        {"filename": filename, "mimetype": mimetype, "storage_name": storage_name}
    )


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from portal import services

        for message in email_messages:
            services.email_enqueue(message=message)
        return len(email_messages)


def message_to_fields(message: EmailMessage) -> dict:
    """The columns of an OutgoingEmail for a Django message."""
    html: StrOrPromise = ""
    body: StrOrPromise
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            html = content
    if message.content_subtype == "html":
        html, body = message.body, ""
    else:
        body = message.body
    attachments = []
    for attachment in message.attachments:
        if isinstance(attachment, tuple):
            filename, content, mimetype = attachment
        else:  # a MIMEBase part
            filename = attachment.get_filename()
            content = attachment.get_payload(decode=True)
            mimetype = attachment.get_content_type()
        if isinstance(content, str):
            content = content.encode()
        attachments.append(
            {
                "filename": filename,
                "mimetype": mimetype,
                "content": base64.b64encode(content).decode("ascii"),
            }
        )
    attachments += [dict(item) for item in getattr(message, STORED_ATTACHMENTS, [])]
    return {
        "subject": str(message.subject)[:998],
        "body": body,
        "html_body": html,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": {k: str(v) for k, v in (message.extra_headers or {}).items()},
        "attachments": attachments,
        "sensitive": bool(getattr(message, SENSITIVE, False)),
    }


def remove_content(email) -> list[str]:
    """Empty what an OutgoingEmail row says (the caller saves it); returns the
    columns changed. Gone: the body, the HTML, the headers (List-Unsubscribe
    carries a token) and the bytes of inline attachments. Kept: subject,
    addresses, status, times, and each attachment's name and type (and the
    storage name of one attached by reference: that file belongs to its
    owner, e.g. a certificate's PDF, not to the outbox)."""
    email.body = ""
    email.html_body = ""
    email.headers = {}
    email.attachments = [
        {key: value for key, value in item.items() if key != "content"}
        for item in email.attachments
    ]
    return ["body", "html_body", "headers", "attachments"]


def fields_to_message(email, connection=None) -> EmailMultiAlternatives:
    """The Django message for an OutgoingEmail row, ready for a real backend."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        headers=email.headers,
        connection=connection,
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    for attachment in email.attachments:
        if "storage_name" in attachment:
            from django.core.files.storage import default_storage

            with default_storage.open(attachment["storage_name"], "rb") as handle:
                content = handle.read()
        else:
            content = base64.b64decode(attachment["content"])
        message.attach(attachment["filename"], content, attachment["mimetype"])
    return message
