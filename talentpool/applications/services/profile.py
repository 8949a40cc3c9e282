"""The proposed profile: its fields, the check of an application's data
(`profile_data_check`), an expert's profile in that form, and writing
checked data to an expert."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from portal.models import District, IPType, Term
from talentpool.applications.services.base import ApplicationError
from talentpool.models import (
    Expert,
    ExpertCategory,
    Industry,
    Language,
    Organisation,
    Qualification,
    Service,
    TalentTier,
)
from talentpool.services import organisation_kind_guess
from talentpool.validators import normalise_licence_number, normalise_phone

#: Vocabulary fields of the profile: data key -> term model. Code that takes
#: any of them reads through `_default_manager`, Django's manager for a model
#: not known in advance (the abstract Term declares no `objects`).
MULTI_TERMS: dict[str, type[Term]] = {
    "categories": ExpertCategory,
    "ip_types": IPType,
    "services": Service,
    "industries": Industry,
    "languages": Language,
}
SINGLE_TERMS: dict[str, type[Term]] = {"district": District, "talent_tier": TalentTier}
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


class _Errors(dict[str, list[str]]):
    """Messages per field, collected by the checks of profile_data_check."""

    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)


def profile_data_check(
    data: dict[str, Any], *, expert: Expert | None = None
) -> dict[str, Any]:
    """The proposed profile in its normal form, or ValidationError with a
    message per field (keys of PROFILE_FIELDS, qualifications as
    ``qualifications``). Codes must name active terms; licence numbers must
    be well formed, not repeated, and held by no other expert than `expert`.
    Reads only; may run any number of times."""
    errors = _Errors()
    clean: dict[str, Any] = {
        **_checked_text(data, errors),
        **_checked_terms(data, errors),
        "years_of_practice": _checked_years(data, errors),
        "qualifications": _checked_qualifications(data, errors, expert=expert),
    }
    if errors:
        raise ValidationError(dict(errors))
    return clean


def _checked_text(data: dict[str, Any], errors: _Errors) -> dict[str, str]:
    """Name, organisation, biography, e-mail and phone, trimmed; the name is
    required, the phone normalised."""
    clean: dict[str, str] = {}
    for key in TEXT_FIELDS:
        value = data.get(key) or ""
        if not isinstance(value, str):
            errors.add(key, _("Enter text."))
            continue
        clean[key] = value.strip()
    if not clean.get("name") and "name" not in errors:
        errors.add("name", _("Enter the name."))
    elif len(clean.get("name", "")) > 100:
        errors.add("name", _("The name may have at most 100 characters."))
    if len(clean.get("organisation", "")) > 200:
        errors.add(
            "organisation", _("The organisation may have at most 200 characters.")
        )
    if clean.get("email"):
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors.add(
                "email",
                _("“%(value)s” is not an e-mail address.") % {"value": clean["email"]},
            )
    if clean.get("phone"):
        try:
            clean["phone"] = normalise_phone(clean["phone"])
        except ValidationError as problem:
            errors.add("phone", " ".join(problem.messages))
    return clean


def _checked_terms(data: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    """The vocabulary fields: lists of active codes (at least one category)
    and single codes, unknown ones named in the message."""
    clean: dict[str, Any] = {}
    for key, model in MULTI_TERMS.items():
        codes = data.get(key) or []
        if not isinstance(codes, list | tuple) or not all(
            isinstance(code, str) for code in codes
        ):
            errors.add(key, _("Choose from the list."))
            continue
        codes = list(dict.fromkeys(codes))
        known = set(
            model._default_manager.filter(code__in=codes, is_active=True).values_list(
                "code", flat=True
            )
        )
        unknown = [code for code in codes if code not in known]
        if unknown:
            errors.add(
                key,
                _("Unknown choice: %(codes)s. Choose from the list.")
                % {"codes": ", ".join(unknown)},
            )
        clean[key] = [code for code in codes if code in known]
    if not clean.get("categories") and "categories" not in errors:
        errors.add("categories", _("Choose at least one category."))
    for key, model in SINGLE_TERMS.items():
        code = data.get(key) or ""
        if (
            code
            and not model._default_manager.filter(code=code, is_active=True).exists()
        ):
            errors.add(
                key,
                _("Unknown choice: %(codes)s. Choose from the list.") % {"codes": code},
            )
            code = ""
        clean[key] = code
    return clean


def _checked_years(data: dict[str, Any], errors: _Errors) -> int | None:
    """Years of practice: empty, or a whole number from 0 to 80."""
    years = data.get("years_of_practice")
    if years in ("", None):
        return None
    try:
        years = int(years)
    except (TypeError, ValueError):
        years = -1
    if not 0 <= years <= 80:
        errors.add(
            "years_of_practice", _("Years of practice are a number from 0 to 80.")
        )
    return years


def _checked_qualifications(
    data: dict[str, Any], errors: _Errors, *, expert: Expert | None
) -> list[dict[str, str]]:
    """At most MAX_QUALIFICATIONS rows, blank ones left out; licence numbers
    well formed, given once and held by no other expert than `expert`."""
    qualifications = []
    seen: set[str] = set()
    rows = data.get("qualifications") or []
    if not isinstance(rows, list) or len(rows) > MAX_QUALIFICATIONS:
        errors.add(
            "qualifications",
            _("At most %(count)s qualifications.") % {"count": MAX_QUALIFICATIONS},
        )
        rows = []
    for given in rows:
        if not isinstance(given, dict):
            continue
        row = _checked_qualification(given, errors, seen)
        if row is not None:
            qualifications.append(row)
    taken = Qualification.objects.filter(licence_number__in=seen)
    if expert is not None:
        taken = taken.exclude(expert=expert)
    for number in sorted(taken.values_list("licence_number", flat=True)):
        errors.add(
            "qualifications",
            _(
                "The licence number %(number)s is already registered in the "
                "talent pool. If it is yours, contact the pool's staff."
            )
            % {"number": number},
        )
    return qualifications


def _checked_qualification(
    given: dict[str, Any], errors: _Errors, seen: set[str]
) -> dict[str, str] | None:
    """One qualification row in its normal form, or None when it is blank or
    refused (the reason added to `errors`); its licence number joins `seen`."""
    row = {key: str(given.get(key) or "").strip() for key in QUALIFICATION_KEYS}
    if not any(row.values()):
        return None
    if row["licence_number"]:
        try:
            row["licence_number"] = normalise_licence_number(row["licence_number"])
        except ValidationError as problem:
            errors.add("qualifications", " ".join(problem.messages))
            return None
        if row["licence_number"] in seen:
            errors.add(
                "qualifications",
                _("The licence number %(number)s is given twice.")
                % {"number": row["licence_number"]},
            )
            return None
        seen.add(row["licence_number"])
    if (
        row["category"]
        and not ExpertCategory.objects.filter(
            code=row["category"], is_active=True
        ).exists()
    ):
        errors.add(
            "qualifications",
            _("Unknown choice: %(codes)s. Choose from the list.")
            % {"codes": row["category"]},
        )
        return None
    if not (row["title"] or row["category"] or row["licence_number"]):
        errors.add(
            "qualifications",
            _("Give each qualification a title, a category or a licence number."),
        )
        return None
    return row


def expert_profile_data(expert: Expert) -> dict[str, Any]:
    """An expert's current profile in the form of an application's data."""
    return {
        "name": expert.name,
        **{
            key: sorted(term.code for term in getattr(expert, key).all())
            for key in MULTI_TERMS
        },
        "district": expert.district.code if expert.district else "",
        "talent_tier": expert.talent_tier.code if expert.talent_tier else "",
        "organisation": expert.organisation.name if expert.organisation else "",
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
                model._default_manager.get(code=data[key]) if data[key] else None,
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
                MULTI_TERMS[key]._default_manager.filter(code__in=data[key])
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
