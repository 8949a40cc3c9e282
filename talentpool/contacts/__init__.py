"""Enterprises and contact requests with the expert's consent (docs/architecture.md,
decision 3): an enterprise registers and is verified by a reviewer; a
verified enterprise asks a listed expert to get in touch; only after the
expert accepts, declaring no conflict of interest, does either side see the
other's contact details, and every showing is logged."""
