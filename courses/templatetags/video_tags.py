"""What a lesson's video player needs from the server (courses.media)."""

from dataclasses import dataclass

from django import template
from django.conf import settings

from courses.models import MediaFacts

register = template.Library()


@dataclass(frozen=True)
class VideoTracking:
    length: float | None  # seconds, as measured from the file; None: unknown
    error: str  # why the file could not be measured, for staff
    max_rate: float  # the fastest playback that counts


@register.simple_tag
def video_tracking(document) -> VideoTracking:
    """The video's measured length (one query) and the fastest speed that
    counts (settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE)."""
    facts = (
        MediaFacts.objects.filter(document_id=document.pk).first()
        if document is not None
        else None
    )
    return VideoTracking(
        length=facts.duration_seconds if facts else None,
        error=facts.error if facts else "",
        max_rate=settings.PORTAL_VIDEO_MAX_PLAYBACK_RATE,
    )
