"""Certificate services: issue, render, e-mail, revoke, reissue, bulk runs.

Every write is here (docs/decisions.md, convention 6). The rows are the
truth and the tasks only triggers (docs/decisions.md, decision 1): each
service states what it expects and may run twice without changing anything
the second time.

- base.py: the logger and the errors the services raise.
- issue.py: a request turned into its one certificate (serial, code,
  template version).
- pdfs.py: rendering, signing and storing the PDFs, one or many at a time.
- emails.py: the e-mails to the learner (issued, revoked, expiring soon).
- lifecycle.py: revoke and reissue a certificate; cancel or reopen a
  request not yet issued.
- batches.py: bulk runs for a training class or one source's requests.
- sweep.py: the beat's sweep for work whose task was lost.

The names other modules use are imported here (`from courses.certificates
import services`); a test that replaces a name a service reads replaces it
in the module that defines the service (e.g. `services.batches.
certificate_issue` for a bulk run's issues).
"""

from courses.certificates import rendering
from courses.certificates.services.base import (
    CertificateError,
    CertificateRequestCancelled,
    logger,
)
from courses.certificates.services.batches import (
    RENDER_CHUNK,
    batch_progress,
    batch_sources,
    certificate_batch_chunks,
    certificate_batch_create,
    certificate_batch_finish,
    certificate_batch_process,
    source_requests,
    training_class_requests,
)
from courses.certificates.services.emails import certificates_expiry_remind
from courses.certificates.services.issue import (
    CODE_ALPHABET,
    certificate_issue,
    certificate_issue_failed,
    certificate_requests_issue_pending,
    serial_allocate,
    template_version_current,
    verification_code,
)
from courses.certificates.services.lifecycle import (
    certificate_reissue,
    certificate_request_cancel,
    certificate_request_reopen,
    certificate_revoke,
)
from courses.certificates.services.pdfs import (
    PdfNotStored,
    _sign,
    certificate_render,
    certificate_render_failed,
    certificate_store_pdf,
    certificates_render_many,
    certificates_store_many,
)
from courses.certificates.services.sweep import (
    BULK_RUN_SOURCES,
    MAX_RENDER_ATTEMPTS,
    certificates_sweep,
)

__all__ = [
    "BULK_RUN_SOURCES",
    "CODE_ALPHABET",
    "MAX_RENDER_ATTEMPTS",
    "RENDER_CHUNK",
    "CertificateError",
    "CertificateRequestCancelled",
    "PdfNotStored",
    "_sign",
    "batch_progress",
    "batch_sources",
    "certificate_batch_chunks",
    "certificate_batch_create",
    "certificate_batch_finish",
    "certificate_batch_process",
    "certificate_issue",
    "certificate_issue_failed",
    "certificate_requests_issue_pending",
    "certificate_reissue",
    "certificate_render",
    "certificate_render_failed",
    "certificate_request_cancel",
    "certificate_request_reopen",
    "certificate_revoke",
    "certificate_store_pdf",
    "certificates_expiry_remind",
    "certificates_render_many",
    "certificates_store_many",
    "certificates_sweep",
    "logger",
    "rendering",
    "serial_allocate",
    "source_requests",
    "template_version_current",
    "training_class_requests",
    "verification_code",
]
