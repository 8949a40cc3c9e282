"""The certificate screens of the admin, under one "Certificates" menu.

- Templates (templates.py): a snippet with Wagtail's live preview (HTML and
  PDF on sample data); a template whose images cannot be read is refused
  when saved.
- Certificates (certificates.py): read-only. A listing with filters and
  search, and a page per certificate with every field, its chain, its full
  history and the two lifecycle steps, revoke and reissue (the "change
  certificate" permission).
- Certificate requests (requests.py): achievements still waiting for their
  certificate, with the last error and a Retry.
- Bulk certificates (batches.py): a training manager chooses a class,
  confirms, and watches the run's progress ("add bulk certificate run" to
  start one, "view" to watch); past runs stay listed.

Nothing here deletes anything: the permission policies (base.py) refuse
"delete" (and "add" where rows are written only by the services) even to
superusers. The writes are the services' (courses.certificates.services);
these views only collect a decision and report what the service said.

The names other modules use (courses.certificates.wagtail_hooks,
courses.admin_evidence) are imported here.
"""

from courses.certificates.admin_views.base import (
    BATCHES,
    CERTIFICATES,
    POLICIES,
    REQUESTS,
    STATES,
    CertificatePermissionPolicy,
    ReadOnlyViewSet,
)
from courses.certificates.admin_views.batches import (
    FAILURES_SHOWN,
    BatchIndexView,
    BatchProgressJsonView,
    BatchProgressView,
    BatchStartView,
    CertificateBatchViewSet,
    batch_failures,
    batch_status,
)
from courses.certificates.admin_views.certificates import (
    EVIDENCE_URL_NAME,
    CertificateActionView,
    CertificateFilterSet,
    CertificateIndexView,
    CertificateInspectView,
    CertificatePdfView,
    CertificateReissueView,
    CertificateRevokeView,
    CertificateViewSet,
)
from courses.certificates.admin_views.requests import (
    CertificateRequestInspectView,
    CertificateRequestRetryView,
    CertificateRequestViewSet,
)
from courses.certificates.admin_views.templates import CertificateTemplateViewSet

__all__ = [
    "BATCHES",
    "CERTIFICATES",
    "EVIDENCE_URL_NAME",
    "FAILURES_SHOWN",
    "POLICIES",
    "REQUESTS",
    "STATES",
    "BatchIndexView",
    "BatchProgressJsonView",
    "BatchProgressView",
    "BatchStartView",
    "CertificateActionView",
    "CertificateBatchViewSet",
    "CertificateFilterSet",
    "CertificateIndexView",
    "CertificateInspectView",
    "CertificatePdfView",
    "CertificatePermissionPolicy",
    "CertificateReissueView",
    "CertificateRequestInspectView",
    "CertificateRequestRetryView",
    "CertificateRequestViewSet",
    "CertificateRevokeView",
    "CertificateTemplateViewSet",
    "CertificateViewSet",
    "ReadOnlyViewSet",
    "batch_failures",
    "batch_status",
]
