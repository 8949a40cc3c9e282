"""The registration e-mails: confirmed, on the waiting list, promoted from
it, and the reminder. Each is written in the recipient's language, carries
the event's .ics and (once a place is held) the QR code as a PNG, and goes
through the outbox: it is sent only if the transaction that asked for it
commits."""

from django.core.mail import EmailMessage
from django.urls import reverse

from events.ical import event_full_url, event_location, ics_for_event
from events.models import EventPage, Registration
from events.registration.qr import registration_qr_png
from portal.mail import templated_email
from portal.site_url import base_url

#: The e-mails, by template name. Only a held place has a QR code to show.
KINDS = ("confirmed", "waiting", "promoted", "reminder")
WITH_QR = ("confirmed", "promoted", "reminder")
ICS_FILENAME = "event.ics"
QR_FILENAME = "check-in-qr-code.png"


def _base_url() -> str:
    return base_url()


def registration_email_message(
    *, registration: Registration, event: EventPage, kind: str
) -> EmailMessage:
    """The message for one registration (not yet queued). `event` is the
    registration's event page, passed in so a caller that holds it locked
    does not load it again."""
    if kind not in KINDS:
        raise ValueError(f"Unknown registration e-mail: {kind}")
    user = registration.user
    base = _base_url()

    def context() -> dict:
        # Built inside the language's override: the links open in it.
        return {
            "registration": registration,
            "event": event,
            "user": user,
            "place": event_location(event),
            "event_url": event_full_url(event, base_url=base),
            "registration_url": base
            + reverse("events:registration_detail", kwargs={"code": registration.code}),
            "my_registrations_url": base + reverse("events:my_registrations"),
            "with_qr": kind in WITH_QR,
        }

    message = templated_email(
        template=f"events/registration/email/{kind}",
        context=context,
        to=[user.email],
        language=user.language,
    )
    message.attach(ICS_FILENAME, ics_for_event(event, base_url=base), "text/calendar")
    if kind in WITH_QR:
        message.attach(QR_FILENAME, registration_qr_png(registration), "image/png")
    return message


def registration_email(
    *, registration: Registration, event: EventPage, kind: str
) -> None:
    """Queue one registration e-mail in the outbox (delivered on commit)."""
    from portal.services import email_enqueue

    email_enqueue(
        message=registration_email_message(
            registration=registration, event=event, kind=kind
        )
    )
