"""What the steps share: their Wagtail log actions, the error they refuse
with, and the e-mail to the applicant or expert."""

from typing import Any

from django.urls import reverse

from wagtail.log_actions import log

from portal.models import User
from portal.site_url import absolute_url
from talentpool.models import ExpertApplication
from talentpool.services import TalentPoolError

#: Wagtail log actions (registered in talentpool/wagtail_hooks.py).
LOG_SUBMITTED = "talentpool.application_submitted"
LOG_WITHDRAWN = "talentpool.application_withdrawn"
LOG_APPROVED = "talentpool.application_approved"
LOG_REJECTED = "talentpool.application_rejected"
LOG_CHANGES_REQUESTED = "talentpool.application_changes_requested"
LOG_PROFILE_UPDATED = "talentpool.expert_profile_updated"
LOG_CONSENT_GIVEN = "talentpool.consent_given"
LOG_CONSENT_WITHDRAWN = "talentpool.consent_withdrawn"
LOG_RECONFIRMED = "talentpool.expert_reconfirmed"
LOG_RECONFIRMATION_REQUESTED = "talentpool.expert_reconfirmation_requested"
LOG_LAPSED = "talentpool.expert_lapsed"


class ApplicationError(TalentPoolError):
    """An application step the pool refuses; nothing was changed."""


# --- e-mail -----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return absolute_url(path)


def _send(
    *, template: str, to: str, user: User | None, context: dict[str, Any]
) -> None:
    """Render talentpool/applications/email/<template>_{subject,body}.txt in
    the recipient's language and put it in the outbox (in the caller's
    transaction: it is delivered only if that commits)."""
    from portal.mail import templated_email
    from portal.services import email_enqueue

    if not to:
        return
    message = templated_email(
        template=f"talentpool/applications/email/{template}",
        # Inside the recipient's language: the links open in it.
        context=lambda: {
            **context,
            "apply_url": _absolute(reverse("expert_applications:status")),
            "profile_url": _absolute(reverse("expert_applications:profile")),
        },
        to=[to],
        language=user.language if user else "",
    )
    email_enqueue(message=message)


def _email_applicant(application: ExpertApplication, template: str) -> None:
    applicant = application.applicant
    _send(
        template=template,
        to=applicant.email,
        user=applicant,
        context={"application": application, "name": application.data.get("name")},
    )


def _log(
    application: ExpertApplication, action: str, user: User | None, **data: Any
) -> None:
    payload = {"application": application.pk, "kind": application.kind, **data}
    log(instance=application, action=action, user=user, data=payload)
    if application.expert_id:
        log(instance=application.expert, action=action, user=user, data=payload)
