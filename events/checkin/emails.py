"""The e-mail to someone registered at an event's entrance with an e-mail
address that had no account (events.checkin.services.walkin_register): they
were registered and checked in, an account was opened for them, and how to
claim it. Like the other e-mails it goes through the outbox
(portal.services.email_enqueue).

Claiming the account is the project's usual way for an account opened on
someone's behalf (courses.imports' invitation to a training class): the
password-reset page, where the person enters their address and receives
allauth's reset link. The e-mail therefore carries no secret, and the link
does not expire."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from events.ical import event_full_url, event_location
from events.models import EventPage, Registration
from portal.mail import templated_email
from portal.site_url import absolute_url, base_url

TEMPLATE = "events/checkin/email/walkin_account"


def email_language(language: str | None) -> str:
    """One of the site's languages: `language` (the staff member's at the
    station) when the site has it, else the default (Chinese)."""
    codes = [code for code, _name in settings.LANGUAGES]
    if language:
        language = language.lower()
        if language in codes:
            return language
        prefix = language.split("-")[0]
        for code in codes:
            if code.split("-")[0] == prefix:
                return code
    return settings.LANGUAGE_CODE


def walkin_account_message(
    *, registration: Registration, event: EventPage, language: str
) -> EmailMessage:
    """The message (not queued) to the new account of a walk-in."""
    user = registration.user
    base = base_url()

    def context() -> dict:
        # Inside the language's override: the links open in it.
        return {
            "registration": registration,
            "event": event,
            "user": user,
            "name": user.get_full_name(),
            "email": user.email,
            "place": event_location(event),
            "event_url": event_full_url(event, base_url=base),
            "hours": event.training_hours if (event.training_hours or 0) > 0 else None,
            "certificate": event.issues_certificate,
            "site_name": settings.WAGTAIL_SITE_NAME,
            "reset_url": absolute_url(reverse("account_reset_password")),
        }

    return templated_email(
        template=TEMPLATE, context=context, to=[user.email], language=language
    )


def walkin_account_email(
    *, registration: Registration, event: EventPage, language: str
) -> None:
    """Queue the e-mail in the outbox. Called on commit of the walk-in's
    transaction (a refused or rolled-back walk-in mails nobody); a
    placeholder address (no e-mail given) is never mailed."""
    from portal.privacy import deleted_account_address
    from portal.services import email_enqueue

    if deleted_account_address(registration.user.email):
        return
    email_enqueue(
        message=walkin_account_message(
            registration=registration, event=event, language=language
        )
    )
