"""Media storage on an S3-compatible bucket, with image files served by the
portal (portal.media) instead of by signed links to the bucket."""

from urllib.parse import urljoin

from storages.backends.s3 import S3Storage

from django.conf import settings
from django.utils.encoding import filepath_to_uri

from portal.media import CHECKED_FOLDERS


class S3MediaStorage(S3Storage):
    """django-storages' S3Storage, except for two things.

    An image's URL is the portal's ``/media/...`` address, the same as on
    disk: the portal checks who asks, then streams the object from the private
    bucket. A signed link would be checked only when the page was rendered,
    anyone holding it could use it for its hour, it changes on every render
    (so a browser never reuses what it fetched), and a browser on a closed
    network may not reach the bucket at all. Other files (certificates,
    import uploads) keep their signed links; documents have their own view.

    A name already taken is never overwritten (``file_overwrite``, on by
    default in django-storages): two images uploaded as ``photo.jpg`` must
    remain two files, or one would show the other's picture, and the portal
    would check one image's uses for the other's file.
    """

    def get_default_settings(self) -> dict:
        return {**super().get_default_settings(), "file_overwrite": False}

    def url(self, name, parameters=None, expire=None, http_method=None):
        if name.startswith(CHECKED_FOLDERS):
            return urljoin(settings.MEDIA_URL, filepath_to_uri(name))
        return super().url(
            name, parameters=parameters, expire=expire, http_method=http_method
        )
