"""Wagtail's document files answer HTTP Range requests.

Wagtail serves a document through its own view (WAGTAILDOCS_SERVE_METHOD
"serve_view", so that the access hooks run) and ignores ``Range``. A browser
then treats a lesson video as unseekable: every seek, and "resume where I
left off", lands at the start. serve_byte_range answers one byte range with
206 Partial Content, as a web server would. portal/wagtail_hooks.py
registers it as a ``before_serve_document`` hook that runs after every other
(order AFTER_ACCESS_CHECKS), so the access checks have passed when it
answers. Anything else (no range, several ranges, an ``If-Range``
condition, a file with no local path) goes on to Wagtail's own response,
whole, which RFC 9110 allows.

Wagtail takes a hook's answer only if it is an HttpResponse, not a streaming
one, so the bytes are read into memory: at most MAX_PART per answer. A
server may send less than the range asked for (RFC 9110, 14.4); the
Content-Range says what came, and browsers ask for the rest.
"""

import os
import re
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from wagtail.documents.models import document_served

MAX_PART = 4 * 1024 * 1024
SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# After the access hooks (default order 0), whichever app registers them.
AFTER_ACCESS_CHECKS = 1000


def byte_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """The (first, last) byte positions a Range header asks for, inclusive.

    None: no single range this answers (serve the whole file). False: a range
    wholly past the end (416 Range Not Satisfiable).
    """
    match = SINGLE_RANGE.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    if start >= size:
        return False
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end


def serve_byte_range(document, request: HttpRequest) -> HttpResponse | None:
    header = request.headers.get("range")
    if not header or request.headers.get("if-range") or request.method != "GET":
        return None
    try:
        path = document.file.path
    except NotImplementedError:  # remote storage: Wagtail's own response
        return None
    if not os.path.exists(path):
        return None
    size = os.path.getsize(path)
    wanted = byte_range(header, size)
    if wanted is None:
        return None
    if wanted is False:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    start, end = wanted
    if start == 0:
        # What Wagtail's view would have sent on a whole-file request.
        document_served.send(sender=type(document), instance=document, request=request)
    end = min(end, start + MAX_PART - 1)
    with open(path, "rb") as handle:
        handle.seek(start)
        part = handle.read(end - start + 1)
    end = start + len(part) - 1
    response = HttpResponse(
        part,
        status=206,
        content_type=document.content_type or "application/octet-stream",
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(os.stat(path).st_mtime)
    response["Content-Disposition"] = document.content_disposition
    if getattr(settings, "WAGTAILDOCS_BLOCK_EMBEDDED_CONTENT", True):
        response["Content-Security-Policy"] = "default-src 'none'"
    return response
