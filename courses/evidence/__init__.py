"""Training evidence: the records a completion or a certificate rests on, as
an auditor asks for them (selectors only; nothing here writes).

For a course: the enrolment, each lesson with when it was first opened and
completed, the seconds of each video played against the length the server
measured (courses.models.MediaFacts), every quiz attempt with its score,
the extra attempts granted; for an event: the registration and its check-in
(who scanned it, when, and any reversal with its reason). For both: the
hours-ledger entries of the source and the certificates with their history
from Wagtail's log.

The same ``Evidence`` feeds the admin page and its CSV/XLSX download
(courses.admin_evidence), so the file says exactly what the page says. A
constant number of queries whatever the number of lessons or attempts
(tests/courses/test_evidence.py): lesson bodies are read from their raw
JSON, not through the blocks, which would fetch each lesson's documents.
"""

from courses.evidence.achievements import (
    CERTIFICATE_ACTIONS,
    certificate_tables,
    ledger_table,
    register_source_records,
)
from courses.evidence.assemble import certificate_evidence, enrolment_evidence
from courses.evidence.lessons import KIND_LABELS, course_tables
from courses.evidence.tables import (
    SHANGHAI,
    Evidence,
    Table,
    learner_table,
    person,
    shanghai,
)

__all__ = [
    "CERTIFICATE_ACTIONS",
    "KIND_LABELS",
    "SHANGHAI",
    "Evidence",
    "Table",
    "certificate_evidence",
    "certificate_tables",
    "course_tables",
    "enrolment_evidence",
    "learner_table",
    "ledger_table",
    "person",
    "register_source_records",
    "shanghai",
]
