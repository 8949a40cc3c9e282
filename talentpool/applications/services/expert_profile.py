"""The expert's own profile: verified fields through a "change" application,
the others at once."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import User
from talentpool.applications.services.applying import (
    _open_application,
    application_withdraw,
)
from talentpool.applications.services.base import (
    LOG_PROFILE_UPDATED,
    LOG_SUBMITTED,
    ApplicationError,
    _email_applicant,
    _log,
)
from talentpool.applications.services.profile import (
    PROFILE_FIELDS,
    VERIFIED_FIELDS,
    _checked,
    _comparable,
    _write_profile,
    expert_profile_data,
)
from talentpool.models import Expert, ExpertApplication


def expert_profile_update(
    *, expert: Expert, user: User, data: dict[str, Any]
) -> ExpertApplication | None:
    """The expert edits the profile.

    Verified fields (name, categories, organisation, qualifications with
    their licence numbers, talent tier, years of practice) are not written:
    if any differs from the profile, a "change" application holds them
    (a pending one is replaced and goes back to "waiting for review"), and
    the public profile keeps its verified values until a reviewer approves.
    The other fields (IP types, services, industries, languages, district,
    biography, e-mail, phone) are saved at once. Everything is checked
    first; ApplicationError and nothing written if anything is wrong.
    Returns the change application, or None when no verified field changed.
    May run twice: the second run writes the same values.
    """
    if expert.user_id != user.pk:
        raise ApplicationError(_("This is not your expert profile."))
    clean = _checked(data, expert=expert)
    current = expert_profile_data(expert)
    direct = [key for key in PROFILE_FIELDS if key not in VERIFIED_FIELDS]
    changed_verified = {
        key: clean[key]
        for key in VERIFIED_FIELDS
        if _comparable(key, clean[key]) != _comparable(key, current[key])
    }
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        changed_direct = [
            key
            for key in direct
            if _comparable(key, clean[key]) != _comparable(key, current[key])
        ]
        if changed_direct:
            _write_profile(expert, clean, changed_direct)
            log(
                instance=expert,
                action=LOG_PROFILE_UPDATED,
                user=user,
                data={"fields": changed_direct},
            )
        pending = _open_application(user)
        if pending is not None and pending.kind != ExpertApplication.Kind.CHANGE:
            raise ApplicationError(_("You already have an application open."))
        if not changed_verified:
            if pending is not None:
                # Back to the verified values: the pending change is moot.
                application_withdraw(application=pending, user=user)
            return None
        proposal = {key: clean[key] for key in VERIFIED_FIELDS}
        if pending is None:
            application = ExpertApplication.objects.create(
                kind=ExpertApplication.Kind.CHANGE,
                applicant=user,
                expert=expert,
                data=proposal,
                submitted_at=timezone.now(),
            )
        else:
            application = ExpertApplication.objects.select_for_update(of=("self",)).get(
                pk=pending.pk
            )
            application.data = proposal
            application.status = ExpertApplication.Status.SUBMITTED
            application.reason = ""
            application.submitted_at = timezone.now()
            application.save()
        _log(application, LOG_SUBMITTED, user)
        _email_applicant(application, "submitted")
    return application
