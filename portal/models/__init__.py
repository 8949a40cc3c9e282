from .accounts import User, UserManager
from .imports import ImportJob
from .mail import OutgoingEmail
from .pages import (
    HomePage,
    NewsIndexPage,
    NewsPage,
    NoticeAttachment,
    NoticeIndexPage,
    NoticePage,
    PolicyAttachment,
    PolicyDocumentPage,
    PolicyIndexPage,
    StandardPage,
)
from .privacy import PrivacyConsent
from .site_settings import SiteSettings
from .vocabularies import Audience, District, IPType, Term

__all__ = [
    "Audience",
    "District",
    "HomePage",
    "IPType",
    "ImportJob",
    "NewsIndexPage",
    "NewsPage",
    "NoticeAttachment",
    "NoticeIndexPage",
    "NoticePage",
    "OutgoingEmail",
    "PolicyAttachment",
    "PolicyDocumentPage",
    "PolicyIndexPage",
    "PrivacyConsent",
    "SiteSettings",
    "StandardPage",
    "Term",
    "User",
    "UserManager",
]
