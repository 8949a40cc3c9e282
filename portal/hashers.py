"""The password hasher: Argon2id with OWASP's parameters.

Django's own Argon2 defaults (time 2, 100 MiB, 8 lanes) cost about as much
CPU per sign-in as its PBKDF2 (1,000,000 iterations): about 0.2 s on a
two-core server, where 200 officials signing in for a 09:00 session
would queue behind each other for a minute. OWASP's Password Storage Cheat
Sheet gives Argon2id with 19 MiB, two passes and one lane as its first
choice: memory-hard, so a GPU guessing offline pays for the memory of every
guess, which PBKDF2 never makes it do, at about a seventh of the CPU here
(docs/security.md, "Passwords"; docs/performance.md, the Locust section).

Hashes made before (PBKDF2) still verify; Django rehashes each with this
one at its owner's next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id (Django's variant), OWASP's minimum: m=19 MiB, t=2, p=1."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
