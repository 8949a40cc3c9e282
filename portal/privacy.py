"""Personal data: the privacy notice's version and retention periods, and
what each app holds about a person, without the portal knowing the apps.

The notice (templates/portal/privacy/notice_<language>.html, view
portal.views.privacy_notice) renders the retention periods from settings
through retention_periods(), so the notice and the code that enforces them
read one number. An app registers its part of a person's data from its
AppConfig.ready(): `export(user)` returns what "Download my data" puts in the
JSON file under the app's name (its selectors' personal_data), and
`erase(user=user)`, if any, is a service that portal.services.user_delete
calls inside the deletion's transaction for what the app lets go of. What
an app keeps after deletion (certificates, the hours ledger) is its own to
say in the notice and docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from portal.models import User

#: The privacy notice in force. A new version of the notice text changes this
#: date: signed-in users who agreed to an older one are asked again (profile).
PRIVACY_NOTICE_VERSION = "2026-12-07"

#: Version of the layout of the "Download my data" file.
EXPORT_FORMAT = 1

#: The domain of a deleted account's placeholder address
#: (portal.services.user_delete): reserved, it never receives mail.
DELETED_ACCOUNT_DOMAIN = "deleted.invalid"


def deleted_account_address(address: str) -> bool:
    """Whether `address` is a placeholder that receives no mail: a deleted
    account's, or that of someone registered at an event's entrance without
    an e-mail address (events.checkin.services.WALKIN_DOMAIN) — any address
    in the reserved `.invalid` domain (RFC 2606)."""
    return address.strip().lower().endswith(".invalid")


@dataclass(frozen=True)
class PersonalDataSection:
    """One app's part of a person's data."""

    name: str
    export: Callable[[User], Any]
    erase: Callable[..., Any] | None = None  # called as erase(user=user)


_sections: dict[str, PersonalDataSection] = {}


def register_personal_data(
    name: str,
    *,
    export: Callable[[User], Any],
    erase: Callable[..., Any] | None = None,
) -> None:
    """Add (or replace, when registered again) the section `name`."""
    _sections[name] = PersonalDataSection(name=name, export=export, erase=erase)


def personal_data_sections() -> list[PersonalDataSection]:
    """The registered sections, in the order they were registered (that of
    INSTALLED_APPS)."""
    return list(_sections.values())


def retention_periods() -> dict[str, int]:
    """The retention periods, in days, that the notice states and the code
    enforces (docs/privacy.md)."""
    return {
        "email_days": settings.PORTAL_EMAIL_RETENTION_DAYS,
        "contact_request_days": settings.CONTACT_REQUEST_RETENTION_DAYS,
        "log_days": settings.PORTAL_LOG_RETENTION_DAYS,
        "session_days": settings.SESSION_COOKIE_AGE // 86400,
    }


def personal_data_export(user: User) -> dict[str, Any]:
    """Everything the portal holds about `user`, for "Download my data": the
    portal's own part (portal.selectors.personal_data), then each registered
    app's, under its name. A bounded number of queries: each section reads
    a few tables, whatever the number of rows."""
    from django.utils import timezone

    from portal import selectors

    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "privacy_notice_version": PRIVACY_NOTICE_VERSION,
        "portal": selectors.personal_data(user),
    }
    for section in personal_data_sections():
        data[section.name] = section.export(user)
    return data
