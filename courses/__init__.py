"""Courses, lessons, enrolment, progress, training classes, the hours ledger and
certificates. Knows nothing of the talent pool (docs/architecture.md)."""
