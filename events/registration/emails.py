"""The registration e-mails: confirmed, on the waiting list, promoted from
it, the reminder, the event's time or place changed, the event cancelled,
and staff's messages to registrants. Each is written in the recipient's
language and goes through the outbox: it is sent only if the transaction
that asked for it commits.

Calendar entries: only a held place gets one. Confirmed, promoted, reminder
and changed carry the event's .ics as an iTIP REQUEST (the same UID each
time, the event's current SEQUENCE, so a calendar updates the entry it
has); cancelled carries a CANCEL (STATUS:CANCELLED). The waiting list gets
no calendar entry, nor does a change sent to it: the person has no place
yet (promotion sends the .ics then). A held place also gets the QR code."""

from django.core.mail import EmailMessage
from django.urls import reverse

from events.ical import event_full_url, event_location, ics_for_event
from events.models import EventMessage, EventPage, Registration
from events.registration.qr import registration_qr_png
from portal.mail import templated_email
from portal.site_url import base_url

#: The e-mails, by template name. Only a held place has a QR code to show.
KINDS = ("confirmed", "waiting", "promoted", "reminder", "changed", "cancelled")
WITH_QR = ("confirmed", "promoted", "reminder")
#: The kinds that give a confirmed registrant the calendar entry (REQUEST).
WITH_REQUEST = ("confirmed", "promoted", "reminder", "changed")
ICS_FILENAME = "event.ics"
QR_FILENAME = "check-in-qr-code.png"


def ics_method(*, registration: Registration, kind: str) -> str | None:
    """The iTIP method of the .ics this e-mail carries, or None (no file)."""
    if kind == "cancelled":
        return "CANCEL"
    if kind in WITH_REQUEST and registration.status == Registration.Status.CONFIRMED:
        return "REQUEST"
    return None


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
            "with_ics": ics_method(registration=registration, kind=kind) is not None,
        }

    message = templated_email(
        template=f"events/registration/email/{kind}",
        context=context,
        to=[user.email],
        language=user.language,
    )
    method = ics_method(registration=registration, kind=kind)
    if method:
        message.attach(
            ICS_FILENAME,
            ics_for_event(event, base_url=base, method=method, attendee=user.email),
            # RFC 6047: the method in the part's type too, so that mail
            # clients offer it as an invitation (or its withdrawal).
            f"text/calendar; method={method}",
        )
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


def event_message_email(
    *, message: EventMessage, registration: Registration, event: EventPage
) -> EmailMessage:
    """Staff's message to one registrant (not yet queued): their subject and
    text, then the event and the registrant's own link, in the recipient's
    language."""
    user = registration.user
    base = _base_url()

    def context() -> dict:
        return {
            "message": message,
            "registration": registration,
            "event": event,
            "user": user,
            "place": event_location(event),
            "event_url": event_full_url(event, base_url=base),
            "registration_url": base
            + reverse("events:registration_detail", kwargs={"code": registration.code}),
        }

    return templated_email(
        template="events/registration/email/message",
        context=context,
        to=[user.email],
        language=user.language,
    )
