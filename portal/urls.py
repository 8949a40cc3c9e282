from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

import portal.converters  # noqa: F401 - registers <id:…>
from portal import feeds, health, media, security_headers, views

urlpatterns = [
    # MEDIA_URL: image files, once who asks is checked (lesson images are
    # private); no other file, in development either.
    *media.media_urlpatterns(),
    path("i18n/setlang/", views.switch_language, name="set_language"),
    path("healthz/", views.health, name="health"),
    path("readyz/", health.ready, name="ready"),
    path("csp-report/", security_headers.csp_report, name="csp_report"),
    path("sitemap.xml", feeds.sitemap, name="sitemap"),
    path("robots.txt", feeds.robots_txt, name="robots_txt"),
    # Before the admins' own URLs, so that these replace their login views.
    path("admin/login/", views.admin_login_redirect, name="wagtailadmin_login"),
    path("django-admin/login/", views.admin_login_redirect),
    # Wagtail's admin password reset (Django's views, one of which can sign
    # the user in): allauth's reset instead, which never does.
    re_path(r"^admin/password_reset/", views.password_reset_redirect),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path(
        "documents/authenticate_with_password/<id:restriction_id>/",
        views.document_password,
        name="wagtaildocs_authenticate_with_password",
    ),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/certificates/", include("courses.certificates.api_urls")),
    path("api/v1/experts/", include("talentpool.urls")),
]

urlpatterns += i18n_patterns(
    path("accounts/profile/", views.profile, name="account_profile"),
    path("accounts/delete/", views.account_delete, name="account_delete"),
    path("accounts/data/", views.personal_data_download, name="personal_data"),
    path(
        "accounts/privacy/agree/",
        views.privacy_consent_give,
        name="privacy_consent_give",
    ),
    path("privacy/", views.privacy_notice, name="privacy_notice"),
    path("accounts/", include("allauth.urls")),
    path("search/", views.search, name="search"),
    path("feeds/news.rss", feeds.feed_view(feeds.NewsFeed), name="feed_news_rss"),
    path("feeds/news.atom", feeds.feed_view(feeds.NewsAtomFeed), name="feed_news_atom"),
    path(
        "feeds/notices.rss", feeds.feed_view(feeds.NoticeFeed), name="feed_notices_rss"
    ),
    path(
        "feeds/notices.atom",
        feeds.feed_view(feeds.NoticeAtomFeed),
        name="feed_notices_atom",
    ),
    path("learning/", include("courses.urls")),
    path("certificates/", include("courses.certificates.urls")),
    path("contacts/", include("talentpool.contacts.urls")),
    path("expert/", include("talentpool.applications.urls")),
    path("events/", include("events.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    # Before Wagtail's own: its front-end login is Django's LoginView (a
    # password alone would do), and its page-password form needs a limit.
    path("_util/login/", views.frontend_login_redirect, name="wagtailcore_login"),
    path(
        "_util/authenticate_with_password/<id:page_view_restriction_id>/<id:page_id>/",
        views.page_password,
        name="wagtailcore_authenticate_with_password",
    ),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
