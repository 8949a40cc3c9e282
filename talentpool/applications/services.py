"""Writes of applying to the talent pool, reviewing, publication consent and
the yearly reconfirmation.

Decisions (issue 5, point 3 and the consent of point 7):

- An application's `data` holds the proposed profile with vocabulary codes
  (see `PROFILE_FIELDS`). Everything is checked before anything is written
  (`profile_data_check`); the same check runs again on approval, since a
  licence number may have been taken meanwhile.
- Consent to publication is asked for on the application form, separately
  and unticked. Ticking it is stored in the application (with the wording
  shown and the time) and becomes an `ExpertConsent` row on approval: the
  expert does not exist before, and nothing is published before approval
  anyway. Without it the approved expert is verified but not listed until
  the expert gives consent on "my expert profile".
- Verified fields (`VERIFIED_FIELDS`: name, categories, organisation,
  qualifications with their licence numbers, talent tier, years of practice)
  change only through a reviewed application of kind "change"; the public
  profile keeps the verified values until a reviewer approves. The other
  fields change at once.
- Every step is in Wagtail's log: on the application, and on the expert as
  soon as there is one (the expert's history is its verification history).
- Reconfirmation (`reconfirmation_sweep`, daily by Celery beat): an expert is
  asked 11 months after the last confirmation (for one never confirmed: after
  verification, or creation if never verified); one not confirmed 12 months
  after that date, and asked at least `LAPSE_NOTICE` before, lapses and is
  hidden until confirming, so nobody lapses without a month's notice even if
  the sweep did not run for a while. Imported experts without an account are
  asked at the expert's own e-mail address (nothing is sent without one);
  staff record their answer with "confirm profile is current" in the admin.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from portal.models import District, IPType, User
from talentpool.models import (
    Expert,
    ExpertApplication,
    ExpertCategory,
    ExpertConsent,
    Industry,
    Language,
    Organisation,
    Qualification,
    Service,
    TalentTier,
)
from talentpool.services import TalentPoolError, organisation_kind_guess
from talentpool.validators import normalise_licence_number, normalise_phone

logger = logging.getLogger(__name__)

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

#: The wording the expert agrees to; stored with each consent as shown.
CONSENT_WORDING = gettext_lazy(
    "I agree that my public profile (name, categories, IP types, services, "
    "industries, district, organisation, languages, years of practice, talent "
    "tier, qualifications with licence numbers and biography) is published in "
    "the talent pool and its API. My e-mail and phone are never published. I "
    "can withdraw this consent at any time on my expert profile page, and the "
    "profile is then hidden at once."
)

ASK_AFTER = relativedelta(months=11)
LAPSE_AFTER = relativedelta(months=12)
#: The least time between the request to reconfirm and the lapse.
LAPSE_NOTICE = timedelta(days=30)

#: Vocabulary fields of the profile: data key -> term model.
MULTI_TERMS: dict[str, type] = {
    "categories": ExpertCategory,
    "ip_types": IPType,
    "services": Service,
    "industries": Industry,
    "languages": Language,
}
SINGLE_TERMS: dict[str, type] = {"district": District, "talent_tier": TalentTier}
TEXT_FIELDS = ("name", "organisation", "biography", "email", "phone")
PROFILE_FIELDS = (
    "name",
    *MULTI_TERMS,
    *SINGLE_TERMS,
    "organisation",
    "years_of_practice",
    "qualifications",
    "biography",
    "email",
    "phone",
)
#: Fields a reviewer checked: changing them needs a new review.
VERIFIED_FIELDS = (
    "name",
    "categories",
    "organisation",
    "qualifications",
    "talent_tier",
    "years_of_practice",
)
QUALIFICATION_KEYS = ("category", "title", "licence_number", "issued_by")
MAX_QUALIFICATIONS = 5


class ApplicationError(TalentPoolError):
    """An application step the pool refuses; nothing was changed."""


# --- the proposed profile -----------------------------------------------------------


def profile_data_check(
    data: dict[str, Any], *, expert: Expert | None = None
) -> dict[str, Any]:
    """The proposed profile in its normal form, or ValidationError with a
    message per field (keys of PROFILE_FIELDS, qualifications as
    ``qualifications``). Codes must name active terms; licence numbers must
    be well formed, not repeated, and held by no other expert than `expert`.
    Reads only; may run any number of times."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def error(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for key in TEXT_FIELDS:
        value = data.get(key) or ""
        if not isinstance(value, str):
            error(key, _("Enter text."))
            continue
        clean[key] = value.strip()
    if not clean.get("name") and "name" not in errors:
        error("name", _("Enter the name."))
    elif len(clean.get("name", "")) > 100:
        error("name", _("The name may have at most 100 characters."))
    if len(clean.get("organisation", "")) > 200:
        error("organisation", _("The organisation may have at most 200 characters."))
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            error(
                "email",
                _("“%(value)s” is not an e-mail address.") % {"value": clean["email"]},
            )
    if clean.get("phone"):
        try:
            clean["phone"] = normalise_phone(clean["phone"])
        except ValidationError as problem:
            error("phone", " ".join(problem.messages))

    for key, model in MULTI_TERMS.items():
        codes = data.get(key) or []
        if not isinstance(codes, list | tuple) or not all(
            isinstance(code, str) for code in codes
        ):
            error(key, _("Choose from the list."))
            continue
        codes = list(dict.fromkeys(codes))
        known = set(
            model.objects.filter(code__in=codes, is_active=True).values_list(
                "code", flat=True
            )
        )
        unknown = [code for code in codes if code not in known]
        if unknown:
            error(
                key,
                _("Unknown choice: %(codes)s. Choose from the list.")
                % {"codes": ", ".join(unknown)},
            )
        clean[key] = [code for code in codes if code in known]
    if not clean.get("categories") and "categories" not in errors:
        error("categories", _("Choose at least one category."))
    for key, model in SINGLE_TERMS.items():
        code = data.get(key) or ""
        if code and not model.objects.filter(code=code, is_active=True).exists():
            error(
                key,
                _("Unknown choice: %(codes)s. Choose from the list.") % {"codes": code},
            )
            code = ""
        clean[key] = code

    years = data.get("years_of_practice")
    if years in ("", None):
        clean["years_of_practice"] = None
    else:
        try:
            years = int(years)
        except (TypeError, ValueError):
            years = -1
        if not 0 <= years <= 80:
            error(
                "years_of_practice", _("Years of practice are a number from 0 to 80.")
            )
        clean["years_of_practice"] = years

    qualifications = []
    seen: set[str] = set()
    rows = data.get("qualifications") or []
    if not isinstance(rows, list) or len(rows) > MAX_QUALIFICATIONS:
        error(
            "qualifications",
            _("At most %(count)s qualifications.") % {"count": MAX_QUALIFICATIONS},
        )
        rows = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        row = {key: str(row.get(key) or "").strip() for key in QUALIFICATION_KEYS}
        if not any(row.values()):
            continue
        if row["licence_number"]:
            try:
                row["licence_number"] = normalise_licence_number(row["licence_number"])
            except ValidationError as problem:
                error("qualifications", " ".join(problem.messages))
                continue
            if row["licence_number"] in seen:
                error(
                    "qualifications",
                    _("The licence number %(number)s is given twice.")
                    % {"number": row["licence_number"]},
                )
                continue
            seen.add(row["licence_number"])
        if (
            row["category"]
            and not ExpertCategory.objects.filter(
                code=row["category"], is_active=True
            ).exists()
        ):
            error(
                "qualifications",
                _("Unknown choice: %(codes)s. Choose from the list.")
                % {"codes": row["category"]},
            )
            continue
        if not (row["title"] or row["category"] or row["licence_number"]):
            error(
                "qualifications",
                _("Give each qualification a title, a category or a licence number."),
            )
            continue
        qualifications.append(row)
    taken = Qualification.objects.filter(licence_number__in=seen)
    if expert is not None:
        taken = taken.exclude(expert=expert)
    for number in sorted(taken.values_list("licence_number", flat=True)):
        error(
            "qualifications",
            _(
                "The licence number %(number)s is already registered in the "
                "talent pool. If it is yours, contact the pool's staff."
            )
            % {"number": number},
        )
    clean["qualifications"] = qualifications
    if errors:
        raise ValidationError(errors)
    return clean


def expert_profile_data(expert: Expert) -> dict[str, Any]:
    """An expert's current profile in the form of an application's data."""
    return {
        "name": expert.name,
        **{
            key: sorted(term.code for term in getattr(expert, key).all())
            for key in MULTI_TERMS
        },
        "district": expert.district.code if expert.district_id else "",
        "talent_tier": expert.talent_tier.code if expert.talent_tier_id else "",
        "organisation": expert.organisation.name if expert.organisation_id else "",
        "years_of_practice": expert.years_of_practice,
        "qualifications": [
            {
                "category": q.category.code if q.category_id else "",
                "title": q.title,
                "licence_number": q.licence_number,
                "issued_by": q.issued_by,
            }
            for q in expert.qualifications.all()
        ],
        "biography": expert.biography,
        "email": expert.email,
        "phone": expert.phone,
    }


def _comparable(key: str, value: Any) -> Any:
    if key in MULTI_TERMS:
        return sorted(value or [])
    if key == "qualifications":
        return sorted(
            tuple(str(row.get(k) or "") for k in QUALIFICATION_KEYS)
            for row in value or []
        )
    return value if value not in (None, "") else None


def _checked(data: dict[str, Any], *, expert: Expert | None = None) -> dict[str, Any]:
    try:
        return profile_data_check(data, expert=expert)
    except ValidationError as problem:
        messages = [m for values in problem.message_dict.values() for m in values]
        raise ApplicationError(" ".join(messages)) from problem


def _write_profile(expert: Expert, data: dict[str, Any], keys: list[str]) -> None:
    """Write these keys of checked data to the expert (saved) and its
    relations; inside the caller's transaction."""
    for key in keys:
        if key in SINGLE_TERMS:
            model = SINGLE_TERMS[key]
            setattr(
                expert,
                key,
                model.objects.get(code=data[key]) if data[key] else None,
            )
        elif key == "organisation":
            expert.organisation = _organisation(data[key])
        elif key == "years_of_practice":
            expert.years_of_practice = data[key]
        elif key == "biography":
            expert.biography = data[key]
        elif key in ("name", "email", "phone"):
            setattr(expert, key, data[key])
    expert.save()
    for key in keys:
        if key in MULTI_TERMS:
            getattr(expert, key).set(
                MULTI_TERMS[key].objects.filter(code__in=data[key])
            )
    if "qualifications" in keys:
        # The reviewed list replaces the old one; a number an import manages
        # stays marked as such, so that the next import updates that row.
        imported = set(
            expert.qualifications.filter(from_import=True).values_list(
                "licence_number", flat=True
            )
        )
        expert.qualifications.all().delete()
        categories = {c.code: c for c in ExpertCategory.objects.all()}
        Qualification.objects.bulk_create(
            Qualification(
                expert=expert,
                category=categories.get(row["category"]),
                title=row["title"],
                licence_number=row["licence_number"],
                issued_by=row["issued_by"],
                from_import=bool(row["licence_number"])
                and row["licence_number"] in imported,
            )
            for row in data["qualifications"]
        )


def _organisation(name: str) -> Organisation | None:
    if not name:
        return None
    organisation, _created = Organisation.objects.get_or_create(
        name=name, defaults={"kind": organisation_kind_guess(name)}
    )
    return organisation


# --- e-mail -----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _send(
    *, template: str, to: str, user: User | None, context: dict[str, Any]
) -> None:
    """Render talentpool/applications/email/<template>_{subject,body}.txt in
    the recipient's language and put it in the outbox (in the caller's
    transaction: it is delivered only if that commits)."""
    from portal.services import email_enqueue

    if not to:
        return
    language = (user.language if user else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            **context,
            "apply_url": _absolute(reverse("expert_applications:status")),
            "profile_url": _absolute(reverse("expert_applications:profile")),
        }
        subject = render_to_string(
            f"talentpool/applications/email/{template}_subject.txt", context
        ).strip()
        body = render_to_string(
            f"talentpool/applications/email/{template}_body.txt", context
        )
    email_enqueue(message=EmailMessage(subject=subject, body=body, to=[to]))


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


# --- applying ---------------------------------------------------------------------


def _open_application(user: User) -> ExpertApplication | None:
    return (
        ExpertApplication.objects.filter(
            applicant=user, status__in=ExpertApplication.OPEN_STATUSES
        )
        .order_by("-submitted_at")
        .first()
    )


def _consent_data(consent: bool) -> dict[str, Any]:
    if not consent:
        return {"publication_consent": False}
    return {
        "publication_consent": True,
        "consent_wording": str(CONSENT_WORDING),
        "consent_at": timezone.now().isoformat(),
    }


def application_submit(
    *, user: User, data: dict[str, Any], consent: bool
) -> ExpertApplication:
    """A signed-in user applies to join the pool.

    Before: the user has no expert profile and no open application. The data
    is checked first (ApplicationError, nothing written). After: one
    submitted application of kind "new" with the checked data and, if
    `consent`, the consent with its wording and time; logged; the applicant
    is e-mailed. Not idempotent: a second call is refused (one open
    application per user, also a database constraint).
    """
    if Expert.objects.filter(user=user).exists():
        raise ApplicationError(
            _("You are already in the talent pool: edit your expert profile instead.")
        )
    clean = _checked(data)
    try:
        with transaction.atomic():
            application = ExpertApplication.objects.create(
                kind=ExpertApplication.Kind.NEW,
                applicant=user,
                data={**clean, **_consent_data(consent)},
                submitted_at=timezone.now(),
            )
            _log(application, LOG_SUBMITTED, user)
            _email_applicant(application, "submitted")
    except IntegrityError as error:
        raise ApplicationError(_("You already have an application open.")) from error
    return application


def application_resubmit(
    *,
    application: ExpertApplication,
    user: User,
    data: dict[str, Any],
    consent: bool | None = None,
) -> ExpertApplication:
    """The applicant sends a corrected application after "changes requested".

    After: status submitted again with the new (checked) data and a new
    submission time; the reviewer's reason stays in the log; the applicant
    is e-mailed. For a change, `consent` is ignored (consent is given on the
    profile page). Refused for another user or any other status.
    """
    clean = _checked(data, expert=application.expert)
    with transaction.atomic():
        application = ExpertApplication.objects.select_for_update(of=("self",)).get(
            pk=application.pk
        )
        if application.applicant_id != user.pk:
            raise ApplicationError(_("This is not your application."))
        if application.status != ExpertApplication.Status.CHANGES_REQUESTED:
            raise ApplicationError(
                _("Only an application with changes requested can be sent again.")
            )
        if application.kind == ExpertApplication.Kind.CHANGE:
            clean = {key: clean[key] for key in VERIFIED_FIELDS}
        else:
            clean.update(_consent_data(bool(consent)))
        application.data = clean
        application.status = ExpertApplication.Status.SUBMITTED
        application.reason = ""
        application.submitted_at = timezone.now()
        application.save()
        _log(application, LOG_SUBMITTED, user, resubmitted=True)
        _email_applicant(application, "submitted")
    return application


def application_withdraw(
    *, application: ExpertApplication, user: User
) -> ExpertApplication:
    """The applicant withdraws an open application.

    After: status withdrawn, logged. Withdrawing one already withdrawn
    changes nothing (may run twice); any other closed status is refused."""
    with transaction.atomic():
        application = ExpertApplication.objects.select_for_update(of=("self",)).get(
            pk=application.pk
        )
        if application.applicant_id != user.pk:
            raise ApplicationError(_("This is not your application."))
        if application.status == ExpertApplication.Status.WITHDRAWN:
            return application
        if not application.is_open:
            raise ApplicationError(_("This application is already decided."))
        application.status = ExpertApplication.Status.WITHDRAWN
        application.save(update_fields=["status", "updated_at"])
        _log(application, LOG_WITHDRAWN, user)
    return application


# --- review -----------------------------------------------------------------------


def _decision_start(
    application: ExpertApplication, statuses: tuple
) -> ExpertApplication:
    application = (
        ExpertApplication.objects.select_for_update(of=("self",))
        .select_related("applicant", "expert")
        .get(pk=application.pk)
    )
    if application.status not in statuses:
        raise ApplicationError(
            _("This application is “%(status)s”: it cannot be decided now.")
            % {"status": application.get_status_display()}
        )
    return application


def application_approve(
    *, application: ExpertApplication, reviewer: User
) -> ExpertApplication:
    """A reviewer approves a submitted application.

    The data is checked again (a licence number may have been taken since):
    ApplicationError and nothing written if it fails. After, in one
    transaction: for a new application, an expert with the profile, the
    applicant's account linked, verified (at, by), confirmed now, and the
    consent recorded if the applicant gave it; for a change, the expert's
    verified fields and qualifications replaced, verified again and
    confirmed now. The application is approved with the expert set, logged
    on both, and the applicant e-mailed. Refused unless submitted, so it
    cannot run twice.
    """
    with transaction.atomic():
        application = _decision_start(
            application, (ExpertApplication.Status.SUBMITTED,)
        )
        expert = application.expert
        if application.kind == ExpertApplication.Kind.NEW:
            if Expert.objects.filter(user=application.applicant).exists():
                raise ApplicationError(
                    _("The applicant is already in the talent pool.")
                )
            clean = _checked(application.data)
            expert = Expert(user=application.applicant)
            keys = list(PROFILE_FIELDS)
        else:
            clean = _checked(
                {**expert_profile_data(expert), **application.data}, expert=expert
            )
            keys = list(VERIFIED_FIELDS)
        now = timezone.now()
        expert.verification_status = Expert.Verification.VERIFIED
        expert.verified_at = now
        expert.verified_by = reviewer
        expert.last_confirmed_at = now
        expert.lapsed_at = None
        expert.reconfirmation_requested_at = None
        try:
            with transaction.atomic():
                _write_profile(expert, clean, keys)
        except IntegrityError as error:
            raise ApplicationError(
                _("A licence number of this application was registered meanwhile.")
            ) from error
        if application.kind == ExpertApplication.Kind.NEW:
            _history_copy(application, expert)
        application.expert = expert
        application.status = ExpertApplication.Status.APPROVED
        application.decided_at = now
        application.decided_by = reviewer
        application.save()
        _log(application, LOG_APPROVED, reviewer)
        if application.kind == ExpertApplication.Kind.NEW and application.data.get(
            "publication_consent"
        ):
            _consent_record(
                expert=expert,
                user=application.applicant,
                given=True,
                wording=application.data.get("consent_wording") or str(CONSENT_WORDING),
                at=_parse(application.data.get("consent_at")) or now,
            )
        _email_applicant(application, "approved")
    return application


def _history_copy(application: ExpertApplication, expert: Expert) -> None:
    """Copy the application's log (submitted, changes requested…) to the new
    expert, so that the expert's history is the whole verification story."""
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ExpertApplication),
        object_id=str(application.pk),
    ).order_by("timestamp", "pk")
    ModelLogEntry.objects.bulk_create(
        ModelLogEntry(
            content_type=ContentType.objects.get_for_model(Expert),
            object_id=str(expert.pk),
            label=expert.name,
            action=entry.action,
            data=entry.data,
            timestamp=entry.timestamp,
            user_id=entry.user_id,
            uuid=entry.uuid,
            content_changed=entry.content_changed,
        )
        for entry in entries
    )


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _decide_with_reason(
    *,
    application: ExpertApplication,
    reviewer: User,
    reason: str,
    status: str,
    action: str,
    template: str,
    statuses: tuple,
) -> ExpertApplication:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Say why the application is rejected or what must change.")
        )
    with transaction.atomic():
        application = _decision_start(application, statuses)
        application.status = status
        application.reason = reason
        application.decided_at = timezone.now()
        application.decided_by = reviewer
        application.save()
        _log(application, action, reviewer, reason=reason)
        _email_applicant(application, template)
    return application


def application_reject(
    *, application: ExpertApplication, reviewer: User, reason: str
) -> ExpertApplication:
    """A reviewer rejects an open application, saying why (required).

    After: rejected with the reason, logged, the applicant e-mailed. For a
    change, the expert keeps the verified values. Refused once decided."""
    return _decide_with_reason(
        application=application,
        reviewer=reviewer,
        reason=reason,
        status=ExpertApplication.Status.REJECTED,
        action=LOG_REJECTED,
        template="rejected",
        statuses=ExpertApplication.OPEN_STATUSES,
    )


def application_request_changes(
    *, application: ExpertApplication, reviewer: User, reason: str
) -> ExpertApplication:
    """A reviewer asks the applicant to change a submitted application, saying
    what (required). After: changes requested with the reason, logged, the
    applicant e-mailed with a link to edit it. Refused unless submitted."""
    return _decide_with_reason(
        application=application,
        reviewer=reviewer,
        reason=reason,
        status=ExpertApplication.Status.CHANGES_REQUESTED,
        action=LOG_CHANGES_REQUESTED,
        template="changes_requested",
        statuses=(ExpertApplication.Status.SUBMITTED,),
    )


# --- the expert's own profile -------------------------------------------------------


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


# --- consent ----------------------------------------------------------------------


def _consent_record(
    *, expert: Expert, user: User, given: bool, wording: str, at: datetime
) -> ExpertConsent:
    consent = ExpertConsent.objects.create(
        expert=expert,
        kind=ExpertConsent.Kind.PUBLICATION,
        given=given,
        wording=wording,
        user=user,
        recorded_at=at,
    )
    expert.publication_consent_at = at if given else None
    expert.save(update_fields=["publication_consent_at", "updated_at"])
    log(
        instance=expert,
        action=LOG_CONSENT_GIVEN if given else LOG_CONSENT_WITHDRAWN,
        user=user,
        data={"consent": consent.pk},
    )
    return consent


def consent_give(*, expert: Expert, user: User) -> Expert:
    """The expert agrees to publication, with the wording shown
    (CONSENT_WORDING in the active language). After: a consent row (given),
    publication_consent_at set, logged; the expert is listed if otherwise
    listable. Giving it again while in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is None:
            _consent_record(
                expert=expert,
                user=user,
                given=True,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert


def consent_withdraw(*, expert: Expert, user: User) -> Expert:
    """The expert withdraws consent to publication. After: a consent row
    (withdrawn), publication_consent_at cleared, so the profile leaves the
    search, the API and its public page at once; logged. Withdrawing when
    not in force changes nothing."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk:
            raise ApplicationError(_("This is not your expert profile."))
        if expert.publication_consent_at is not None:
            _consent_record(
                expert=expert,
                user=user,
                given=False,
                wording=str(CONSENT_WORDING),
                at=timezone.now(),
            )
    return expert


# --- reconfirmation ---------------------------------------------------------------


def expert_reconfirm(*, expert: Expert, user: User) -> Expert:
    """The expert (or staff on the expert's behalf) confirms the profile is
    current. After: last_confirmed_at now, the request and any lapse
    cleared (a lapsed expert is listed again), logged. May run twice."""
    with transaction.atomic():
        expert = Expert.objects.select_for_update(of=("self",)).get(pk=expert.pk)
        if expert.user_id != user.pk and not user.has_perm("talentpool.change_expert"):
            raise ApplicationError(_("This is not your expert profile."))
        was_lapsed = expert.lapsed_at is not None
        expert.last_confirmed_at = timezone.now()
        expert.reconfirmation_requested_at = None
        expert.lapsed_at = None
        expert.save(
            update_fields=[
                "last_confirmed_at",
                "reconfirmation_requested_at",
                "lapsed_at",
                "updated_at",
            ]
        )
        log(
            instance=expert,
            action=LOG_RECONFIRMED,
            user=user,
            data={"was_lapsed": was_lapsed},
        )
    return expert


def _confirmed_since() -> Coalesce:
    return Coalesce("last_confirmed_at", "verified_at", "created_at")


def _expert_address(expert: Expert) -> tuple[str, User | None]:
    if expert.user_id and expert.user.email:
        return expert.user.email, expert.user
    return expert.email, None


def reconfirmation_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Ask experts to reconfirm, and hide those who did not (daily, beat).

    Verified, public, not lapsed experts whose last confirmation (else
    verification, else creation) is over 11 months old and who were not
    asked since are e-mailed (reconfirmation_requested_at set). Those over
    12 months who were asked at least LAPSE_NOTICE ago lapse: lapsed_at set,
    hidden from search, the API and the profile page, e-mailed. Each expert
    in its own transaction, rechecked under a row lock, so two sweeps never
    ask twice. Returns (asked, lapsed); a second run returns (0, 0).
    """
    now = now or timezone.now()
    base = Expert.objects.annotate(since=_confirmed_since()).filter(
        verification_status=Expert.Verification.VERIFIED,
        status=Expert.Status.PUBLIC,
        lapsed_at__isnull=True,
    )
    to_ask = base.filter(
        since__lt=now - ASK_AFTER, reconfirmation_requested_at__isnull=True
    )
    to_lapse = base.filter(
        since__lt=now - LAPSE_AFTER,
        reconfirmation_requested_at__lte=now - LAPSE_NOTICE,
    )
    asked = lapsed = 0
    for pk in list(to_ask.values_list("pk", flat=True)):
        with transaction.atomic():
            expert = (
                to_ask.select_for_update(of=("self",))
                .select_related("user")
                .filter(pk=pk)
                .first()
            )
            if expert is None:
                continue
            expert.reconfirmation_requested_at = now
            expert.save(update_fields=["reconfirmation_requested_at", "updated_at"])
            address, user = _expert_address(expert)
            _send(
                template="reconfirm",
                to=address,
                user=user,
                context={"expert": expert, "has_account": user is not None},
            )
            log(
                instance=expert,
                action=LOG_RECONFIRMATION_REQUESTED,
                user=None,
                data={"sent": bool(address)},
            )
            asked += 1
    for pk in list(to_lapse.values_list("pk", flat=True)):
        with transaction.atomic():
            expert = (
                to_lapse.select_for_update(of=("self",))
                .select_related("user")
                .filter(pk=pk)
                .first()
            )
            if expert is None:
                continue
            expert.lapsed_at = now
            expert.save(update_fields=["lapsed_at", "updated_at"])
            address, user = _expert_address(expert)
            _send(
                template="lapsed",
                to=address,
                user=user,
                context={"expert": expert, "has_account": user is not None},
            )
            log(instance=expert, action=LOG_LAPSED, user=None, data={})
            lapsed += 1
    if asked or lapsed:
        logger.info("Reconfirmation sweep: %s asked, %s lapsed", asked, lapsed)
    return asked, lapsed


def open_applications_count() -> int:
    """How many applications wait for a reviewer (for the admin dashboard)."""
    return ExpertApplication.objects.filter(
        status=ExpertApplication.Status.SUBMITTED
    ).count()


__all__ = [
    "CONSENT_WORDING",
    "VERIFIED_FIELDS",
    "ApplicationError",
    "application_approve",
    "application_reject",
    "application_request_changes",
    "application_resubmit",
    "application_submit",
    "application_withdraw",
    "consent_give",
    "consent_withdraw",
    "expert_profile_data",
    "expert_profile_update",
    "expert_reconfirm",
    "profile_data_check",
    "reconfirmation_sweep",
]
