"""schema.org JSON-LD for a course page (a `Course`), in the page's <head>
(`{% block structured_data %}` of base.html). See docs/seo.md."""

import logging
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString

from courses.models import CoursePage
from portal import seo
from portal.site_url import base_url
from portal.templatetags.portal_tags import site_identity

register = template.Library()
logger = logging.getLogger(__name__)

IMAGE_SPEC = "fill-1200x630"  # the Open Graph rendition: made once per image


def _image_url(course: CoursePage) -> str:
    if course.cover_image is not None:
        try:
            return seo.absolute(course.cover_image.get_rendition(IMAGE_SPEC).url)
        except Exception:  # a missing or broken file: the default image
            logger.warning("No rendition for course image %s", course.cover_image_id)
    return seo.default_share_image().url


def course_data(
    *, course: CoursePage, request: HttpRequest | None, provider: str
) -> dict[str, Any]:
    """The course as a schema.org Course (https://schema.org/Course); the
    portal (its site name and public address) is the provider."""
    url = course.get_full_url(request)
    return seo.drop_empty(
        {
            "@context": "https://schema.org",
            "@type": "Course",
            "name": course.title,
            "description": seo.text_or_none(
                course.search_description or course.summary
            ),
            "url": seo.absolute(url) if url else None,
            "provider": seo.drop_empty(
                {"@type": "Organization", "name": provider, "url": base_url() + "/"}
            ),
            "educationalLevel": str(course.get_level_display()),
            "image": _image_url(course),
            "inLanguage": seo.hreflang("zh-hans"),
        }
    )


@register.simple_tag(takes_context=True)
def course_json_ld(context: template.Context, course: CoursePage) -> SafeString:
    """`<script type="application/ld+json">` describing `course`."""
    identity = context.get("identity") or site_identity(context)
    return seo.json_ld_script(
        course_data(
            course=course,
            request=context.get("request"),
            provider=str(identity.name or ""),
        )
    )
