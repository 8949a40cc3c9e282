"""What a certificate tells the outside world: the verification record (the JSON
API) and an Open Badges 3.0 credential. Pure functions of a ``Certificate``.

Both say only what the public verification page says (name, title, hours,
dates, serial, issuer, status): never the learner's e-mail, phone or account.
Absolute URLs are on the public address (portal.site_url), as the QR code on the
PDF is, so every copy of a certificate points at the same address.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from courses.certificates import rendering
from portal.site_url import absolute_url

if TYPE_CHECKING:
    from courses.models import Certificate

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_achievementcredential_schema.json"
)
#: What the OB 3.0 spec recommends for a credential served as a web resource
#: with no JWT proof ("application/json or application/ld+json", Open Badges
#: 3.0 § Document Formats, Web Resource). ``application/vc`` belongs to secured
#: VCDM 2.0 credentials, which these (unsigned) documents are not.
CREDENTIAL_CONTENT_TYPE = "application/ld+json"


def _absolute(path: str) -> str:
    return absolute_url(path)


def _local_iso(moment: datetime.datetime) -> str:
    """ISO 8601 in Asia/Shanghai (+08:00), to the second."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def replacement(certificate: Certificate) -> Certificate | None:
    from courses.models import Certificate

    try:
        return certificate.superseded_by
    except Certificate.DoesNotExist:
        return None


def issuer_names(certificate: Certificate) -> dict[str, str]:
    """The issuing organisation as the certificate states it: the name frozen
    in its template version, or today's site settings for an older version
    that has none."""
    content = certificate.template_version.content or {}
    name = content.get("organisation") or ""
    name_en = content.get("organisation_en") or ""
    if not name and not name_en:
        from wagtail.models import Site

        from portal.models import SiteSettings

        site = Site.objects.filter(is_default_site=True).first()
        site_settings = SiteSettings.for_site(site) if site else SiteSettings()
        name, name_en = site_settings.organisation, site_settings.organisation_en
    return {"name": name or name_en, "name_en": name_en or name}


def verify_url(certificate: Certificate) -> str:
    """The public verification page in Chinese, the portal's default language."""
    return rendering.verify_url(certificate.code, settings.LANGUAGE_CODE)


def api_url(certificate: Certificate) -> str:
    return _absolute(
        reverse("certificates_api:detail", kwargs={"code": certificate.code})
    )


def credential_url(certificate: Certificate) -> str:
    return _absolute(
        reverse("certificates_api:credential", kwargs={"code": certificate.code})
    )


def _link(certificate: Certificate | None) -> dict[str, str] | None:
    if certificate is None:
        return None
    return {"serial": certificate.serial, "verify_url": verify_url(certificate)}


def verification_record(certificate: Certificate) -> dict[str, Any]:
    """The JSON API's answer: what the verification page shows, as data.

    ``status`` is one of valid, expired, revoked, superseded (``state``);
    ``hours`` is a decimal string ("2.0") so no reader rounds it.
    """
    revoked = certificate.status == certificate.Status.REVOKED
    return {
        "serial": certificate.serial,
        "code": certificate.code,
        "status": certificate.state,
        "name": certificate.learner_name,
        "title": certificate.title,
        "hours": str(certificate.hours),
        "achieved_on": certificate.achieved_on.isoformat(),
        "issued_at": _local_iso(certificate.issued_at),
        "expires_on": (
            certificate.expires_on.isoformat() if certificate.expires_on else None
        ),
        "revoked_at": (
            _local_iso(certificate.status_changed_at)
            if revoked and certificate.status_changed_at
            else None
        ),
        "revoked_reason": certificate.revoked_reason if revoked else None,
        "superseded_by": _link(replacement(certificate)),
        "replaces": _link(certificate.replaces),
        "issuer": issuer_names(certificate),
        "verify_url": verify_url(certificate),
        "credential_url": credential_url(certificate),
    }


def _achievement_id(certificate: Certificate) -> str:
    """A stable URI for what was achieved (one course, later one event): the
    same for every learner who achieved it, and for a reissued certificate."""
    request = certificate.request
    source = _absolute(f"/achievements/{request.source_type}/{request.source_key}")
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, source)}"


def open_badge_credential(certificate: Certificate) -> dict[str, Any]:
    """The certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (a W3C
    Verifiable Credential, Data Model 2.0, in JSON-LD).

    The credential carries no proof: it is authentic because it is served by
    the issuer, over HTTPS, at its own ``id``. Revocation is therefore shown
    where it is fetched rather than inside the document, and
    ``credentialStatus`` is left out (OB 3.0 knows only status lists, which
    this portal does not publish): the view answers 410 Gone, with the
    verification record, for a revoked or superseded certificate; an expired
    one keeps its ``validUntil`` in the past, which every verifier checks; the
    live status is also at the JSON API, linked from ``evidence``.

    Texts are in the certificate's language, like its PDF.
    """
    language = "en" if certificate.language == "en" else "zh-hans"
    issuer = issuer_names(certificate)
    organisation = issuer["name_en"] if language == "en" else issuer["name"]
    content = certificate.template_version.content or {}
    with translation.override(language):
        hours = rendering.format_hours(certificate.hours)
        document_title = (
            content.get("title_en") if language == "en" else content.get("title")
        ) or _("Certificate")
        description = _("Completed “%(title)s” with %(hours)s training hours.") % {
            "title": certificate.title,
            "hours": hours,
        }
        criteria = _(
            "Awarded by %(organisation)s to learners who complete “%(title)s” "
            "(%(hours)s training hours) on its training portal."
        ) % {"organisation": organisation, "title": certificate.title, "hours": hours}
        evidence_name = _("Training hours")
        evidence_narrative = _(
            "%(hours)s training hours, completed on %(date)s (serial number "
            "%(serial)s)."
        ) % {
            "hours": hours,
            "date": certificate.achieved_on.isoformat(),
            "serial": certificate.serial,
        }
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_url(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": _absolute("/"),
            "type": ["Profile"],
            "name": organisation,
            "url": _absolute("/"),
        },
        "validFrom": _local_iso(certificate.issued_at),
        "awardedDate": _local_iso(certificate.issued_at),
        "name": f"{document_title} · {certificate.title}",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            # OB 3.0 names a recipient by an IdentityObject; the name is
            # already public on the verification page, so it is not hashed.
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.learner_name,
                }
            ],
            "achievement": {
                "id": _achievement_id(certificate),
                "type": ["Achievement"],
                "name": certificate.title,
                "description": description,
                "criteria": {"narrative": criteria},
                "achievementType": "Certificate",
                "inLanguage": "en" if language == "en" else "zh-Hans",
            },
        },
        "evidence": [
            {
                "id": api_url(certificate),
                "type": ["Evidence"],
                "name": evidence_name,
                "narrative": evidence_narrative,
            }
        ],
        "credentialSchema": [
            {"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
        ],
    }
    if certificate.expires_on:
        # Valid through the whole last day, in the portal's time zone.
        end = datetime.datetime.combine(certificate.expires_on, datetime.time.max)
        end = timezone.make_aware(end).replace(microsecond=0)
        credential["validUntil"] = end.isoformat()
    return credential
