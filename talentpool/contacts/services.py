"""Writes for enterprises and contact requests. Views and the admin call
these; nothing else changes an enterprise's verification or a request's
status. Each service checks everything first and writes in one transaction:
a refused call raises ContactError (a TalentPoolError) with a message in the
active language, and nothing was changed."""

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import District, IPType, User
from portal.site_url import absolute_url
from talentpool.models import (
    ContactDisclosure,
    ContactRequest,
    Enterprise,
    EnterpriseMember,
    Expert,
    Industry,
)
from talentpool.services import TalentPoolError
from talentpool.validators import normalise_credit_code, normalise_phone

logger = logging.getLogger(__name__)

#: Wagtail log actions (registered in talentpool/wagtail_hooks.py).
LOG_ENTERPRISE_REGISTERED = "talentpool.enterprise_registered"
LOG_ENTERPRISE_VERIFIED = "talentpool.enterprise_verified"
LOG_ENTERPRISE_REJECTED = "talentpool.enterprise_rejected"


class ContactError(TalentPoolError):
    """A refused enterprise or contact-request action; nothing was changed."""


# --- enterprises ----------------------------------------------------------------------


def enterprise_register(
    *,
    user: User,
    name: str,
    credit_code: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    district: District | None = None,
    industry: Industry | None = None,
    address: str = "",
) -> Enterprise:
    """Register the user's organisation for verification.

    Before: the user acts for no enterprise. After: a pending Enterprise
    with the credit code in its normal form, the user its first member, and
    a "registered" entry in its history. Refused (nothing written): a user
    who already acts for an enterprise, a malformed code or a wrong check
    character, a code already registered (also when another registration
    takes it at the same moment: the database's unique constraint).
    """
    name, contact_name = name.strip(), contact_name.strip()
    if not name or not contact_name or not contact_email.strip():
        raise ContactError(_("Give the enterprise's name and a contact person."))
    try:
        code = normalise_credit_code(credit_code)
        phone = normalise_phone(contact_phone) if contact_phone.strip() else ""
    except ValidationError as error:
        raise ContactError(" ".join(error.messages)) from error
    if EnterpriseMember.objects.filter(user=user).exists():
        raise ContactError(_("Your account already acts for an enterprise."))
    if Enterprise.objects.filter(credit_code=code).exists():
        raise ContactError(_duplicate_code_message())
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(
                name=name,
                credit_code=code,
                contact_name=contact_name,
                contact_email=contact_email.strip(),
                contact_phone=phone,
                district=district,
                industry=industry,
                address=address.strip(),
                registered_by=user,
            )
            EnterpriseMember.objects.create(enterprise=enterprise, user=user)
            log(enterprise, LOG_ENTERPRISE_REGISTERED, user=user)
    except IntegrityError as error:
        # The same code or the same user, registered between the checks and
        # the write by a concurrent request.
        if Enterprise.objects.filter(credit_code=code).exists():
            raise ContactError(_duplicate_code_message()) from error
        raise ContactError(_("Your account already acts for an enterprise.")) from error
    logger.info("Enterprise %s registered by user %s", enterprise.pk, user.pk)
    return enterprise


def _duplicate_code_message() -> str:
    return _(
        "An enterprise with this credit code is already registered. If it is "
        "yours, ask the colleague who registered it or the portal's staff."
    )


def enterprise_verify(*, enterprise: Enterprise, user: User) -> Enterprise:
    """Verify a pending or rejected enterprise.

    After: verified, reviewed by the user now, the reason cleared, the
    verification in the history, and the registering user e-mailed (in
    their language). Refused: an enterprise already verified. Running it
    twice refuses the second time and changes nothing.
    """
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if locked.status == Enterprise.Status.VERIFIED:
            raise ContactError(_("This enterprise is already verified."))
        locked.status = Enterprise.Status.VERIFIED
        locked.status_reason = ""
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = user
        locked.save(
            update_fields=[
                "status",
                "status_reason",
                "reviewed_at",
                "reviewed_by",
                "updated_at",
            ]
        )
        log(locked, LOG_ENTERPRISE_VERIFIED, user=user)
        _email(
            recipient=locked.registered_by,
            template="enterprise_verified",
            context={"enterprise": locked, "url_name": "contacts:enterprise"},
        )
    return locked


def enterprise_reject(*, enterprise: Enterprise, user: User, reason: str) -> Enterprise:
    """Reject an enterprise, with a reason the registering user is told.

    After: rejected with the reason, reviewed by the user now, the rejection
    (and reason) in the history, the registering user e-mailed. Works on a
    pending or verified enterprise (a verified one may turn out false); its
    pending requests stay but it can send no more. Refused: no reason.
    """
    reason = reason.strip()
    if not reason:
        raise ContactError(_("Say why the enterprise is rejected."))
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        previous = locked.status
        locked.status = Enterprise.Status.REJECTED
        locked.status_reason = reason
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = user
        locked.save(
            update_fields=[
                "status",
                "status_reason",
                "reviewed_at",
                "reviewed_by",
                "updated_at",
            ]
        )
        log(
            locked,
            LOG_ENTERPRISE_REJECTED,
            user=user,
            data={"reason": reason, "from": previous},
        )
        _email(
            recipient=locked.registered_by,
            template="enterprise_rejected",
            context={"enterprise": locked, "url_name": "contacts:enterprise"},
        )
    return locked


def enterprise_daily_cap(enterprise: Enterprise) -> int:
    """How many requests the enterprise may send a day (its own override,
    else PORTAL_TALENT_DAILY_REQUESTS)."""
    if enterprise.daily_request_cap is not None:
        return enterprise.daily_request_cap
    return int(settings.PORTAL_TALENT_DAILY_REQUESTS)


def today_start() -> datetime:
    """Midnight today in the portal's time zone (Asia/Shanghai): the daily
    cap counts requests from then."""
    return timezone.make_aware(
        datetime.combine(timezone.localdate(), time.min),
        timezone.get_current_timezone(),
    )


# --- contact requests --------------------------------------------------------------


def contact_request_send(
    *,
    user: User,
    expert: Expert,
    need: str,
    ip_type: IPType | None = None,
    industry: Industry | None = None,
    deadline: date | None = None,
) -> ContactRequest:
    """Send a contact request for the user's enterprise to an expert.

    Refused (nothing written): a user who acts for no enterprise or for one
    not verified; an expert who is not listed, has paused requests, or has
    neither an active account to answer with nor an e-mail address (not
    reachable: talentpool.models.reachable_q); an empty need; a deadline in
    the past; a second pending request to the same expert; the enterprise's
    daily cap reached (requests sent since midnight, Asia/Shanghai). The
    enterprise row is locked while counting, so two concurrent sends cannot
    pass the cap, and the database refuses a second pending request.
    After: a pending request, and the expert e-mailed: in their language
    with a link to the received requests when they have an account, else at
    the expert's own address in Chinese and English with a signed link that
    expires (talentpool.invitations.links.ANSWER_MAX_AGE) to answer without
    signing in (answer_link_request).
    """
    need = need.strip()
    if not need:
        raise ContactError(_("Say what your enterprise needs."))
    if deadline is not None and deadline < timezone.localdate():
        raise ContactError(_("The date to answer by is in the past."))
    membership = (
        EnterpriseMember.objects.select_related("enterprise").filter(user=user).first()
    )
    if membership is None:
        raise ContactError(
            _(
                "Register your enterprise first: only verified enterprises "
                "send requests."
            )
        )
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.select_for_update().get(
                pk=membership.enterprise_id
            )
            if not enterprise.is_verified:
                raise ContactError(
                    _(
                        "Your enterprise is not verified: only verified "
                        "enterprises send contact requests."
                    )
                )
            listed = (
                Expert.objects.listed()
                .select_related("user")
                .filter(pk=expert.pk)
                .first()
            )
            if listed is None:
                raise ContactError(_("This expert is not in the talent pool."))
            if not listed.accepting_requests:
                raise ContactError(
                    _("This expert is not accepting contact requests at present.")
                )
            by_account = listed.user is not None and listed.user.is_active
            if not by_account and not listed.email:
                raise ContactError(_unreachable_message())
            if ContactRequest.objects.filter(
                enterprise=enterprise,
                expert=listed,
                status=ContactRequest.Status.PENDING,
            ).exists():
                raise ContactError(
                    _("Your enterprise already has a request waiting for this expert.")
                )
            cap = enterprise_daily_cap(enterprise)
            sent_today = ContactRequest.objects.filter(
                enterprise=enterprise, created_at__gte=today_start()
            ).count()
            if sent_today >= cap:
                raise ContactError(
                    _(
                        "Your enterprise has sent its %(cap)s requests for "
                        "today. Try again tomorrow."
                    )
                    % {"cap": cap}
                )
            contact_request = ContactRequest.objects.create(
                enterprise=enterprise,
                sender=user,
                expert=listed,
                need=need,
                ip_type=ip_type,
                industry=industry,
                deadline=deadline,
            )
            if by_account:
                assert listed.user is not None  # by_account says so
                _email(
                    recipient=listed.user,
                    template="request_received",
                    context={
                        "request": contact_request,
                        "url_name": "contacts:received",
                    },
                )
            else:
                _email_answer_link(contact_request=contact_request, expert=listed)
    except IntegrityError as error:
        # The partial unique constraint: a concurrent send got there first.
        raise ContactError(
            _("Your enterprise already has a request waiting for this expert.")
        ) from error
    logger.info(
        "Contact request %s: enterprise %s to expert %s",
        contact_request.pk,
        enterprise.pk,
        listed.pk,
    )
    return contact_request


def _unreachable_message() -> str:
    return _(
        "Contact through the portal is not available for this expert: they "
        "have neither an account nor an e-mail address on record."
    )


def _link_invalid_message() -> str:
    return _(
        "This link is not valid: it was changed, it is for another request, "
        "or it has expired. Ask the portal's staff, or sign in to answer."
    )


def answer_link_request(*, request_id: int, token: str) -> ContactRequest:
    """The request a signed answer link (sent by e-mail to an expert without
    an account) opens, whatever its status. Refused: a link altered, expired
    (ANSWER_MAX_AGE) or made for another request, or one sent to an address
    that is no longer the expert's."""
    from talentpool.invitations.links import LinkInvalid, answer_read, same_address

    try:
        expert_id, email = answer_read(token, request_id=request_id)
    except LinkInvalid as error:
        raise ContactError(_link_invalid_message()) from error
    contact_request = (
        ContactRequest.objects.select_related(
            "expert",
            "enterprise__district",
            "enterprise__industry",
            "ip_type",
            "industry",
        )
        .filter(pk=request_id, expert_id=expert_id)
        .first()
    )
    if contact_request is None or not same_address(contact_request.expert.email, email):
        raise ContactError(_link_invalid_message())
    return contact_request


def _pending_for_expert(
    *, request_id: int, user: User | None, token: str | None = None
) -> ContactRequest:
    """The request, locked, if it is addressed to the user's expert profile,
    or (no user) if the signed answer link `token` is for it."""
    if user is not None:
        contact_request = (
            ContactRequest.objects.select_for_update()
            .filter(pk=request_id, expert__user=user)
            .first()
        )
    elif token is not None:
        answer_link_request(request_id=request_id, token=token)
        contact_request = (
            ContactRequest.objects.select_for_update().filter(pk=request_id).first()
        )
    else:
        contact_request = None
    if contact_request is None:
        raise ContactError(_("This request does not exist."))
    if contact_request.status != ContactRequest.Status.PENDING:
        raise ContactError(
            _("This request was already answered: it is “%(status)s”.")
            % {"status": contact_request.get_status_display()}
        )
    return contact_request


def contact_request_accept(
    *,
    request_id: int,
    user: User | None,
    no_conflict: bool,
    note: str = "",
    token: str | None = None,
) -> ContactRequest:
    """The expert accepts a pending request, declaring no conflict of
    interest: signed in as `user`, or (user None) through the signed link
    `token` e-mailed to an expert without an account (answer_link_request
    checks it; once answered, the link answers nothing more).

    After: accepted, the declaration's time and the answer's time recorded,
    the sender e-mailed (the e-mail carries no contact details: they are
    shown in the portal, where each showing is logged). Refused: not the
    expert's request, not pending, no declaration, or the date to answer by
    has passed (the request is then marked expired).
    """
    if not no_conflict:
        raise ContactError(
            _("Declare that you have no conflict of interest to accept the request.")
        )
    expired = False
    with transaction.atomic():
        contact_request = _pending_for_expert(
            request_id=request_id, user=user, token=token
        )
        now = timezone.now()
        if (
            contact_request.deadline is not None
            and contact_request.deadline < timezone.localdate()
        ):
            contact_request.status = ContactRequest.Status.EXPIRED
            contact_request.save(update_fields=["status"])
            expired = True
        else:
            contact_request.status = ContactRequest.Status.ACCEPTED
            contact_request.no_conflict_declared_at = now
            contact_request.responded_at = now
            contact_request.response_note = note.strip()
            contact_request.save(
                update_fields=[
                    "status",
                    "no_conflict_declared_at",
                    "responded_at",
                    "response_note",
                ]
            )
            _email(
                recipient=contact_request.sender,
                template="request_accepted",
                context={"request": contact_request, "url_name": "contacts:sent"},
            )
    if expired:
        raise ContactError(
            _("The date to answer this request by has passed: it has expired.")
        )
    return contact_request


def contact_request_decline(
    *,
    request_id: int,
    user: User | None,
    note: str = "",
    token: str | None = None,
) -> ContactRequest:
    """The expert declines a pending request, signed in as `user` or (user
    None) through the signed link `token`. After: declined, answered now,
    the sender e-mailed. Refused: not the expert's (or a link not valid for
    it), or not pending."""
    with transaction.atomic():
        contact_request = _pending_for_expert(
            request_id=request_id, user=user, token=token
        )
        contact_request.status = ContactRequest.Status.DECLINED
        contact_request.responded_at = timezone.now()
        contact_request.response_note = note.strip()
        contact_request.save(update_fields=["status", "responded_at", "response_note"])
        _email(
            recipient=contact_request.sender,
            template="request_declined",
            context={"request": contact_request, "url_name": "contacts:sent"},
        )
    return contact_request


def contact_request_withdraw(*, request_id: int, user: User) -> ContactRequest:
    """A member of the sending enterprise withdraws a pending request.
    After: withdrawn (the enterprise may send a new one). Refused: not the
    enterprise's, or not pending."""
    with transaction.atomic():
        contact_request = (
            ContactRequest.objects.select_for_update()
            .filter(pk=request_id, enterprise__members__user=user)
            .first()
        )
        if contact_request is None:
            raise ContactError(_("This request does not exist."))
        if contact_request.status != ContactRequest.Status.PENDING:
            raise ContactError(
                _("Only a request waiting for the expert can be withdrawn.")
            )
        contact_request.status = ContactRequest.Status.WITHDRAWN
        contact_request.save(update_fields=["status"])
    return contact_request


def contact_requests_expire() -> int:
    """Mark pending requests whose date to answer by has passed as expired;
    how many. May run any number of times."""
    return ContactRequest.objects.filter(
        status=ContactRequest.Status.PENDING, deadline__lt=timezone.localdate()
    ).update(status=ContactRequest.Status.EXPIRED)


def contact_requests_purge(*, batch_size: int = 1000) -> int:
    """Remove the content of contact requests sent more than
    CONTACT_REQUEST_RETENTION_DAYS ago (docs/privacy.md); how many.

    Before: requests of any age. After: each older one has no message (need)
    and no expert's note (response_note); a request still waiting for the
    expert after that long is expired first. What stays is the bare record:
    enterprise, expert, vocabulary terms, status and dates, which the
    disclosure log (never deleted, docs/decisions.md decision 3) refers to.
    Contact details are never copied into a request (they are shown from the
    expert's and the enterprise's rows), so none are left in it. Works in
    batches of batch_size, each its own short transaction. May run any
    number of times: a second run finds nothing.
    """
    cutoff = timezone.now() - timedelta(days=settings.CONTACT_REQUEST_RETENTION_DAYS)
    old = ContactRequest.objects.filter(created_at__lt=cutoff)
    old.filter(status=ContactRequest.Status.PENDING).update(
        status=ContactRequest.Status.EXPIRED
    )
    with_content = old.exclude(need="", response_note="")
    purged = 0
    while ids := list(with_content.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            purged += ContactRequest.objects.filter(pk__in=ids).update(
                need="", response_note=""
            )
    if purged:
        logger.info("Content of %s old contact requests removed", purged)
    return purged


def expert_requests_pause(*, user: User, paused: bool) -> Expert:
    """The expert linked to the user pauses (or resumes) contact requests.
    Pending requests stay answerable. Refused: a user with no expert profile.
    Setting the same value twice changes nothing."""
    expert = Expert.objects.filter(user=user).first()
    if expert is None:
        raise ContactError(_("Your account is not linked to an expert profile."))
    if expert.accepting_requests == paused:
        expert.accepting_requests = not paused
        expert.save(update_fields=["accepting_requests", "updated_at"])
    return expert


def contact_disclosures_record(
    *, requests: list[ContactRequest], viewer: User, subject: str
) -> list[ContactDisclosure]:
    """Log that the viewer was shown the contact details (`subject`: expert
    or enterprise) of these accepted requests; call it each time they are
    shown. Refuses a request that is not accepted: details are never shown
    before acceptance."""
    if any(r.status != ContactRequest.Status.ACCEPTED for r in requests):
        raise ContactError(_("Contact details are shown only for accepted requests."))
    return ContactDisclosure.objects.bulk_create(
        [ContactDisclosure(request=r, subject=subject, viewer=viewer) for r in requests]
    )


# --- e-mail ------------------------------------------------------------------------


def _url(name: str) -> str:
    """An absolute address in the active language (set by _email)."""
    return absolute_url(reverse(name))


def _email(*, recipient: User, template: str, context: dict) -> None:
    """Queue an e-mail through the outbox, in the recipient's language; it is
    delivered once the surrounding transaction commits."""
    from portal.mail import templated_email
    from portal.services import email_enqueue

    email_enqueue(
        message=templated_email(
            template=f"talentpool/contacts/email/{template}",
            # Reversed inside the override: the link opens in their language.
            context=lambda: {**context, "url": _url(context["url_name"])},
            to=[recipient.email],
            language=recipient.language,
        )
    )


def _email_answer_link(*, contact_request: ContactRequest, expert: Expert) -> None:
    """Queue the request's e-mail to an expert without an account, at the
    expert's own address, in Chinese and English, with the signed link to
    answer it (and, from the page it opens, to claim the profile)."""
    from portal.services import email_enqueue
    from talentpool.invitations.links import (
        ANSWER_MAX_AGE,
        absolute_url,
        answer_token,
        bilingual_email,
    )

    token = answer_token(
        request_id=contact_request.pk, expert_id=expert.pk, email=expert.email
    )

    def context() -> dict:
        return {
            "request": contact_request,
            "expert": expert,
            "days": ANSWER_MAX_AGE.days,
            "url": absolute_url(
                "contacts:answer", request_id=contact_request.pk, token=token
            ),
        }

    email_enqueue(
        message=bilingual_email(
            template="talentpool/contacts/email/request_by_link",
            context=context,
            to=expert.email,
        )
    )
