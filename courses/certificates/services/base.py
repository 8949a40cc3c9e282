"""What the certificate services share: their logger and their errors."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

# The package's one logger, named as before it was split into modules, so
# logging configured for it still applies to every service.
logger = logging.getLogger("courses.certificates.services")


class CertificateError(ValidationError):
    """A lifecycle step refused: the message is for the administrator."""


class CertificateRequestCancelled(CertificateError):
    """An issue refused because the request was cancelled (not worth a retry)."""
