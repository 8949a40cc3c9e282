"""Reads of applications: the user's own, the review queue, and the proposed
values as rows a person reads (labels in the active language, old → new)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.models import User
from talentpool.applications.services import (
    MULTI_TERMS,
    PROFILE_FIELDS,
    SINGLE_TERMS,
    VERIFIED_FIELDS,
    expert_profile_data,
)
from talentpool.contact_details import (
    contact_detail_kinds,
    contact_details_in,
    highlighted,
)
from talentpool.models import Expert, ExpertApplication, TalentSearchPage


def expert_of(user: User) -> Expert | None:
    return Expert.objects.filter(user=user).first() if user.is_authenticated else None


def applications_of(user: User) -> list[ExpertApplication]:
    """The user's applications, newest first."""
    return list(
        ExpertApplication.objects.filter(applicant=user).order_by(
            "-submitted_at", "-pk"
        )
    )


def latest_application(user: User) -> ExpertApplication | None:
    return (
        ExpertApplication.objects.filter(applicant=user)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def open_application(user: User) -> ExpertApplication | None:
    return (
        ExpertApplication.objects.filter(
            applicant=user, status__in=ExpertApplication.OPEN_STATUSES
        )
        .select_related("expert")
        .first()
    )


def review_queue() -> QuerySet[ExpertApplication]:
    """Applications waiting for a reviewer, oldest first."""
    return (
        ExpertApplication.objects.filter(status=ExpertApplication.Status.SUBMITTED)
        .select_related("applicant", "expert")
        .order_by("submitted_at", "pk")
    )


def field_labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "categories": _("Categories"),
        "ip_types": _("IP types"),
        "services": _("Services"),
        "industries": _("Industries"),
        "district": _("District"),
        "organisation": _("Organisation"),
        "languages": _("Working languages"),
        "years_of_practice": _("Years of practice"),
        "talent_tier": _("Talent tier"),
        "qualifications": _("Qualifications"),
        "biography": _("Biography"),
        "email": _("E-mail"),
        "phone": _("Phone"),
    }


def _labels(data: dict[str, Any]) -> dict[str, str]:
    """The values of a profile as text, vocabulary codes as labels."""
    terms: dict[str, dict[str, str]] = {}
    for key, model in {**MULTI_TERMS, **SINGLE_TERMS}.items():
        terms[key] = {term.code: term.label for term in model._default_manager.all()}
    categories = terms["categories"]
    shown: dict[str, str] = {}
    for key in PROFILE_FIELDS:
        value = data.get(key)
        if key in MULTI_TERMS:
            shown[key] = "、".join(terms[key].get(code, code) for code in value or [])
        elif key in SINGLE_TERMS:
            shown[key] = terms[key].get(value, value) if value else ""
        elif key == "qualifications":
            shown[key] = "; ".join(
                " · ".join(
                    part
                    for part in (
                        categories.get(row.get("category") or "", ""),
                        row.get("title") or "",
                        row.get("licence_number") or "",
                        row.get("issued_by") or "",
                    )
                    if part
                )
                for row in value or []
            )
        else:
            shown[key] = "" if value in (None, "") else str(value)
    return shown


#: Fields of free text, where contact details may hide.
FREE_TEXT_FIELDS = ("biography", "organisation")


def proposal_rows(application: ExpertApplication) -> list[dict[str, Any]]:
    """What the application proposes, one row per field: label, the current
    value (for a change), the proposed one and whether it differs. A change
    lists only the verified fields."""
    labels = field_labels()
    new = _labels(application.data)
    if application.kind == ExpertApplication.Kind.CHANGE and application.expert:
        old = _labels(expert_profile_data(application.expert))
        keys = list(VERIFIED_FIELDS)
    else:
        old = {}
        keys = list(PROFILE_FIELDS)
    rows: list[dict[str, Any]] = [
        {
            "key": key,
            "label": labels[key],
            "old": old.get(key, ""),
            "new": new.get(key, ""),
            "changed": bool(old) and old.get(key, "") != new.get(key, ""),
        }
        for key in keys
    ]
    for row in rows:
        # Free text may carry a phone or an address: the reviewer sees it
        # marked; the public profile will not show it.
        text: str = new.get(row["key"], "")
        if row["key"] in FREE_TEXT_FIELDS and contact_details_in(text):
            row["marked"] = highlighted(text)
            row["contact_details"] = pgettext("list separator", ", ").join(
                contact_detail_kinds(text)
            )
    return rows


def public_url(expert: Expert, request: HttpRequest | None = None) -> str:
    """The expert's public profile address when listed, else ""."""
    if not Expert.objects.listed().filter(pk=expert.pk).exists():
        return ""
    page = TalentSearchPage.objects.live().first()
    return page.expert_url(expert.pk, request) if page else ""


@dataclass(frozen=True)
class NotPublicReason:
    """One condition of the listed rule (talentpool.models.LISTED) an
    expert does not meet, in plain words, and what to do about it."""

    code: str
    reason: str
    next_step: str
    #: Where the next step is done: an address, or an anchor on the page.
    link: str = ""
    link_text: str = ""


def not_public_reasons(
    expert: Expert, pending: ExpertApplication | None = None
) -> list[NotPublicReason]:
    """Why the expert is not listed, one reason per condition of LISTED not
    met (status, verification, consent, lapse), each with the next step, in
    the active language. Empty for a listed expert. `pending` is the
    expert's open application, if any (open_application)."""
    reasons: list[NotPublicReason] = []
    if expert.status == Expert.Status.WITHDRAWN:
        reasons.append(
            NotPublicReason(
                "withdrawn",
                _("You withdrew your profile from the talent pool."),
                _("To publish it again, ask the talent pool's staff."),
            )
        )
    elif expert.status in Expert.STATUSES_NEEDING_REASON:
        reasons.append(
            NotPublicReason(
                expert.status,
                _("The talent pool's staff set your profile to “%(status)s”.")
                % {"status": expert.get_status_display()}
                + (
                    " " + _("Reason: %(reason)s") % {"reason": expert.status_reason}
                    if expert.status_reason
                    else ""
                ),
                _(
                    "If the reason no longer applies, contact the talent pool's "
                    "staff; they can publish the profile again."
                ),
            )
        )
    if expert.verification_status != Expert.Verification.VERIFIED:
        status_url = reverse("expert_applications:status")
        if pending is not None and pending.status == pending.Status.CHANGES_REQUESTED:
            reasons.append(
                NotPublicReason(
                    "changes_requested",
                    _("A reviewer asked for changes before verifying your profile.")
                    + (
                        " " + _("Reason: %(reason)s") % {"reason": pending.reason}
                        if pending.reason
                        else ""
                    ),
                    _("Correct your application and send it again."),
                    status_url,
                    _("My application"),
                )
            )
        elif pending is not None:
            reasons.append(
                NotPublicReason(
                    "review_pending",
                    _(
                        "Your profile is not verified yet: your application of "
                        "%(date)s is waiting for a reviewer."
                    )
                    % {"date": date_format(timezone.localdate(pending.submitted_at))},
                    _(
                        "Nothing to do for now: you will be e-mailed when the "
                        "reviewer decides."
                    ),
                    status_url,
                    _("My application"),
                )
            )
        else:
            reasons.append(
                NotPublicReason(
                    "unverified",
                    _("A reviewer has not verified your profile yet."),
                    _(
                        "Staff verify profiles against the register they were "
                        "imported from; you can also send your profile for "
                        "review. Contact the talent pool's staff if it takes "
                        "long."
                    ),
                    status_url,
                    _("My application"),
                )
            )
    if expert.publication_consent_at is None:
        reasons.append(
            NotPublicReason(
                "no_consent",
                _("You have not given your consent to publication (or withdrew it)."),
                _("Read the wording below and press “I agree: publish my profile”."),
                "#consent",
                _("Give my consent"),
            )
        )
    if expert.lapsed_at is not None:
        reasons.append(
            NotPublicReason(
                "lapsed",
                _(
                    "Your profile was not confirmed within a year, so it has "
                    "been hidden since %(date)s."
                )
                % {"date": date_format(timezone.localdate(expert.lapsed_at))},
                _("Press “Confirm my profile is current” below."),
                "#confirm",
                _("Confirm my profile"),
            )
        )
    return reasons


def personal_data(user: User) -> dict[str, Any]:
    """The talent-pool profile of `user` ("Download my data",
    portal.privacy): the expert profile linked to the account with its
    vocabulary codes and qualifications, the user's applications and the
    consents recorded for them. At most ten queries, whatever the data; the
    staff who verified, decided or recorded something are left out."""
    from talentpool.models import ExpertConsent, Qualification

    expert = (
        Expert.objects.filter(user=user)
        .values(
            "id",
            "name",
            "photo",
            "district__code",
            "organisation__name",
            "years_of_practice",
            "talent_tier",
            "biography",
            "email",
            "phone",
            "accepting_requests",
            "verification_status",
            "verified_at",
            "last_confirmed_at",
            "status",
            "status_reason",
            "publication_consent_at",
            "created_at",
        )
        .first()
    )
    if expert is not None:
        found = Expert.objects.get(pk=expert["id"])
        for name in ("categories", "ip_types", "services", "industries", "languages"):
            expert[name] = list(getattr(found, name).values_list("code", flat=True))
        expert["qualifications"] = list(
            Qualification.objects.filter(expert_id=expert["id"])
            .order_by("pk")
            .values("title", "licence_number", "issued_by", "valid_until")
        )
    return {
        "expert_profile": expert,
        "expert_applications": list(
            ExpertApplication.objects.filter(applicant=user)
            .order_by("created_at", "pk")
            .values("kind", "data", "status", "reason", "submitted_at", "decided_at")
        ),
        "expert_consents": list(
            ExpertConsent.objects.filter(user=user)
            .order_by("recorded_at", "pk")
            .values("kind", "given", "wording", "method", "recorded_at")
        ),
    }
