"""Files under MEDIA_URL: image files, served once who asks is checked; no other.

Wagtail links an image straight to its file: the original at
``/media/original_images/<name>``, each rendition at ``/media/images/<name>``.
Both folders are routed here (in development and production alike; see
docs/configuration.md for the reverse proxy). The file is traced back to its
image, and the ``before_serve_image`` hooks decide, as ``before_serve_document``
does in Wagtail's document view: a hook may raise Http404 or return a response
to send instead. The portal knows nothing of courses; the courses app registers
the hook that keeps lesson images for enrolled learners and staff.

Nothing else in media storage has a public address: every other path under
MEDIA_URL is not found.
"""

import hashlib
import mimetypes
import os
import re

from django.conf import settings
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.urls import URLPattern, re_path
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe

from wagtail import hooks
from wagtail.images import get_image_model

# Wagtail's own upload folders (AbstractImage and AbstractRendition).
ORIGINALS = "original_images/"
RENDITIONS = "images/"
CHECKED_FOLDERS = (ORIGINALS, RENDITIONS)

# Formats Wagtail writes that an older system's MIME table may not know.
IMAGE_TYPES = {".avif": "image/avif", ".webp": "image/webp", ".heic": "image/heic"}

# How long a browser keeps an image before asking again; it then gets a 304
# if the file is unchanged. A rendition's or an original's name never gets
# new content (a replaced file gets a new name), so an hour is safe.
MAX_AGE = 60 * 60


def image_file(name: str) -> tuple[Model, FieldFile, str] | None:
    """The image, the file (its original or one of its renditions) stored
    under `name`, such as ``images/cover.fill-480x270.jpg``, and a version of
    that file's content; None if no image has that file. One query."""
    Image = get_image_model()
    if name.startswith(ORIGINALS):
        image = Image.objects.filter(file=name).first()
        if image is None:
            return None
        return image, image.file, f"{image.pk}:{image.file_hash}"
    rendition = (
        Image.get_rendition_model()
        .objects.filter(file=name)
        .select_related("image")
        .first()
    )
    if rendition is None:
        return None
    image = rendition.image
    # A rendition's content follows from the original, the filter and the
    # focal point; its name may be reused once an old rendition is deleted.
    version = f"{rendition.pk}:{image.file_hash}:{rendition.focal_point_key}"
    return image, rendition.file, version


@require_safe
def serve_image(request: HttpRequest, name: str) -> HttpResponseBase:
    """An image's original or rendition, if the ``before_serve_image`` hooks
    let the visitor through. A refusal looks like a missing file (404)."""
    found = image_file(name)
    if found is None:
        raise Http404
    image, file, version = found
    for hook in hooks.get_hooks("before_serve_image"):
        result = hook(image, request)
        if isinstance(result, HttpResponseBase):
            return result

    # The ETag comes from the database: a revalidation reads nothing from the
    # file (nor from S3). On disk, the file's time answers If-Modified-Since.
    etag = quote_etag(
        hashlib.sha1(f"{name}|{version}".encode(), usedforsecurity=False).hexdigest()
    )
    try:
        path = file.path
    except NotImplementedError:  # remote storage: no local path
        path = None
    modified = None
    if path:
        try:
            modified = int(os.stat(path).st_mtime)
        except FileNotFoundError:
            raise Http404 from None
    response: HttpResponseBase | None = get_conditional_response(
        request, etag=etag, last_modified=modified
    )
    if response is None:
        content_type = (
            IMAGE_TYPES.get(os.path.splitext(name)[1].lower())
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        # On disk, gunicorn hands the open file to sendfile(2); from S3,
        # django-storages fetches the object, then it is sent in blocks.
        # `name` is the file's name: image_file found it by it.
        response = FileResponse(
            file.storage.open(name, "rb"), content_type=content_type
        )
    response["ETag"] = etag
    if modified:
        response["Last-Modified"] = http_date(modified)
    # Whatever a signed-in visitor is sent may be a lesson image: only their
    # browser may keep it. An anonymous visitor is only ever sent public ones.
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=MAX_AGE)
    else:
        patch_cache_control(response, public=True, max_age=MAX_AGE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_found(request: HttpRequest, name: str) -> HttpResponseBase:
    raise Http404


def media_urlpatterns() -> list[URLPattern]:
    """Every path under MEDIA_URL: image files, checked; nothing else."""
    prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    folders = "|".join(re.escape(folder) for folder in CHECKED_FOLDERS)
    return [
        re_path(rf"^{prefix}(?P<name>(?:{folders}).+)$", serve_image),
        # No other file is sent straight from media storage: documents go
        # through Wagtail's /documents/ view, certificates through their own
        # views, and uploads awaiting import never leave the server.
        re_path(rf"^{prefix}(?P<name>.*)$", not_found),
    ]
