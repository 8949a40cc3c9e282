from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal import views

urlpatterns = [
    path("i18n/setlang/", views.switch_language, name="set_language"),
    path("healthz/", views.health, name="health"),
    # Before the admins' own URLs, so that these replace their login views.
    path("admin/login/", views.admin_login_redirect, name="wagtailadmin_login"),
    path("django-admin/login/", views.admin_login_redirect),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

urlpatterns += i18n_patterns(
    path("accounts/profile/", views.profile, name="account_profile"),
    path("accounts/delete/", views.account_delete, name="account_delete"),
    path("accounts/", include("allauth.urls")),
    path("search/", views.search, name="search"),
    path("learning/", include("courses.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

if settings.DEBUG:
    urlpatterns = (
        static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT) + urlpatterns
    )

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
