"""Logs that operators can follow: a request id on every line of a request,
one line per request, and JSON lines in production (docs/operations.md).

- RequestIdMiddleware gives each request an id: the incoming `X-Request-ID`
  when it is a safe short token (a proxy or load balancer that sets one keeps
  its id), else a new one. The id is sent back as `X-Request-ID` and kept in a
  context variable for as long as the request runs.
- RequestIdFilter copies that id onto every log record as `request_id` (None
  outside a request: the worker, beat, management commands).
- JsonFormatter writes a record as one line of JSON (production's LOGGING);
  development keeps the plain text format of portal/settings/base.py.

What a line never holds: a query string (searches, tokens, codes), a user's
e-mail address, and the client's address unless PORTAL_LOG_CLIENT_IP is on.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse

#: The current request's id, or None outside a request.
request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)

#: An incoming X-Request-ID that is used as it is; anything else is replaced.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")

#: The logger of the one line per request.
request_logger = logging.getLogger("portal.request")

#: Paths whose successful answers are not logged: probes ask every few
#: seconds. A failing probe (any status but 200) is logged.
QUIET_PATHS = frozenset({"/healthz/", "/readyz/"})

#: The time zone of the `time` field: the site's (settings.TIME_ZONE).
LOG_TIME_ZONE = ZoneInfo("Asia/Shanghai")

#: Fields a request's log line may carry besides the standard ones, in order.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "client_ip")


def incoming_or_new_id(header: str | None) -> str:
    """The id for a request that sent `header` as X-Request-ID: the header
    itself when it is 8 to 64 letters, digits and hyphens, else a new random
    id (32 hexadecimal digits). Nothing else a client sends reaches a log."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id (incoming_or_new_id), visible to every log
    record made while it runs and sent back as `X-Request-ID`, and log one
    line when it is answered: method, path (never the query string),
    status and duration in milliseconds; the client address too when
    PORTAL_LOG_CLIENT_IP is on. Early in MIDDLEWARE, so that the lines of
    every later middleware carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        current = incoming_or_new_id(request.headers.get("X-Request-ID"))
        token = request_id.set(current)
        try:
            started = time.monotonic()
            response = self.get_response(request)
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            response["X-Request-ID"] = current
            self.log(request, response, duration_ms)
            return response
        finally:
            request_id.reset(token)

    def log(
        self, request: HttpRequest, response: HttpResponse, duration_ms: float
    ) -> None:
        """The request's one log line (none for a probe answered 200)."""
        if request.path in QUIET_PATHS and response.status_code == 200:
            return
        fields: dict[str, object] = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
        }
        if getattr(settings, "PORTAL_LOG_CLIENT_IP", False):
            from portal.clientip import client_ip

            fields["client_ip"] = client_ip(request)
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra=fields,
        )


class RequestIdFilter(logging.Filter):
    """Set `record.request_id` to the current request's id (None outside a
    request). Never drops a record. Attached to the handlers in LOGGING."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def _path_without_query(path: str) -> str:
    """`path` up to its first "?" or "#": a query string can hold search
    terms, tokens and codes, which logs must not."""
    return path.split("?", 1)[0].split("#", 1)[0]


class JsonFormatter(logging.Formatter):
    """One line of JSON per record: time (ISO 8601, Asia/Shanghai), level,
    logger, message, request_id; a request's line adds method, path (its
    query string cut off even if a caller passed one), status, duration_ms
    and, when logged, client_ip; a record with an exception adds
    `exception`, its traceback (one line: JSON escapes the line breaks).
    No other attribute of the record is written, so nothing passed in
    `extra` for another purpose reaches the log."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, LOG_TIME_ZONE).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if isinstance(line.get("path"), str):
            line["path"] = _path_without_query(str(line["path"]))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        # JSON allows these two in strings, but some readers split lines there.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
