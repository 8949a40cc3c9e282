"""Certificates: issuing, rendering, verification and lifecycle (issue 4)."""
