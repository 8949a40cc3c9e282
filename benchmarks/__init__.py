"""Benchmarks of the portal: `make bench` runs python -m benchmarks.run (pages
in-process on SQLite), then python -m benchmarks.load (the learning pages under
load on gunicorn + PostgreSQL)."""
