"""Benchmarks of the portal: `make bench` (python -m benchmarks.run)."""
