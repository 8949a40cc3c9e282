"""Settings for benchmarks.email_delivery and the worker it starts: those of
benchmarks.certificates, with delivery over SMTP to the benchmark's local
server (EMAIL_URL, exported by the benchmark) instead of the dummy backend."""

from benchmarks.certificates_settings import *  # noqa: F403

PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
