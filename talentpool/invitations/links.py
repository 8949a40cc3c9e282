"""Signed, expiring links, and the bilingual e-mail that carries them to an
expert without an account (whose language the portal does not know: Chinese
first, English second)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from portal import site_url

#: How long a link to claim a profile stays valid.
CLAIM_MAX_AGE = timedelta(days=30)
#: How long a link to answer a contact request stays valid (the request's
#: own date to answer by, if earlier, still applies).
ANSWER_MAX_AGE = timedelta(days=14)

CLAIM_SALT = "talentpool.invitations.claim"
ANSWER_SALT = "talentpool.contacts.answer"

#: The languages of an e-mail to someone whose language is unknown, in order.
BILINGUAL = ("zh-hans", "en")


class LinkInvalid(Exception):
    """The link was altered, is for something else, or has expired."""


def _normal_email(email: str) -> str:
    """A digest of the address, not the address: the signed value is
    readable by whoever sees the link (a proxy's log), the address must not
    be."""
    return salted_hmac(
        "talentpool.invitations.address", email.strip().lower()
    ).hexdigest()[:24]


def link_sign(*, salt: str, **values: Any) -> str:
    """A URL-safe, timestamped, signed value (signing.dumps, compressed)."""
    return signing.dumps(values, salt=salt, compress=True)


def link_read(token: str, *, salt: str, max_age: timedelta) -> dict[str, Any]:
    """The values of a link made by link_sign with the same salt; LinkInvalid
    if it was altered, made for another kind of link, or is older than
    max_age."""
    try:
        values = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise LinkInvalid(str(error)) from error
    if not isinstance(values, dict):
        raise LinkInvalid("not a link")
    return values


def claim_token(*, expert_id: int, email: str) -> str:
    """The token of a link to claim the expert's profile, bound to the
    address it is sent to."""
    return link_sign(salt=CLAIM_SALT, e=expert_id, m=_normal_email(email))


def claim_read(token: str) -> tuple[int, str]:
    """(expert id, digest of the address) of a claim token; LinkInvalid
    otherwise."""
    values = link_read(token, salt=CLAIM_SALT, max_age=CLAIM_MAX_AGE)
    try:
        return int(values["e"]), str(values["m"])
    except (KeyError, TypeError, ValueError) as error:
        raise LinkInvalid("malformed") from error


def answer_token(*, request_id: int, expert_id: int, email: str) -> str:
    """The token of a link to answer one contact request, bound to the
    request, its expert and the address it is sent to."""
    return link_sign(
        salt=ANSWER_SALT, r=request_id, e=expert_id, m=_normal_email(email)
    )


def answer_read(token: str, *, request_id: int) -> tuple[int, str]:
    """(expert id, digest of the address) of an answer token for this request;
    LinkInvalid if altered, expired or made for another request."""
    values = link_read(token, salt=ANSWER_SALT, max_age=ANSWER_MAX_AGE)
    try:
        if int(values["r"]) != request_id:
            raise LinkInvalid("another request")
        return int(values["e"]), str(values["m"])
    except (KeyError, TypeError, ValueError) as error:
        raise LinkInvalid("malformed") from error


def same_address(expert_email: str, linked: str) -> bool:
    """Whether the expert's address is still the one the link was sent to."""
    return bool(expert_email) and constant_time_compare(
        _normal_email(expert_email), linked
    )


def absolute_url(name: str, **kwargs: Any) -> str:
    """An absolute address in the active language."""
    return site_url.absolute_url(reverse(name, kwargs=kwargs))


def bilingual_email(
    *, template: str, context: Callable[[], dict[str, Any]], to: str
) -> EmailMessage:
    """A message marked sensitive (it carries a link that acts for the
    expert), rendered from `<template>_subject.txt` and `_body.txt` in
    Chinese then English, one after the other. `context` is called in each
    language, so links open in it."""
    from portal.mail import mark_sensitive, templated_email

    parts = [
        templated_email(template=template, context=context, to=[to], language=code)
        for code in BILINGUAL
    ]
    subject = " / ".join(str(part.subject) for part in parts)
    body = "\n\n————————————————\n\n".join(str(part.body).strip() for part in parts)
    message = EmailMessage(subject=subject, body=body + "\n", to=[to])
    mark_sensitive(message)
    return message
