"""Settings for benchmarks.locust_run: benchmarks.load_settings (production
over plain HTTP on 127.0.0.1) with the limits that count per client address
or per account raised, because every simulated user comes from 127.0.0.1 and
signs in again and again within minutes.

- allauth's sign-in limit ("login": 30/m per IP in portal.settings.base) and
  its failed-sign-in limit: one address here stands for hundreds of people.
- The talent pool's shared budget per client (60/m, 1000/d) and the distinct
  profiles a verified enterprise's user may open a day (1000): each simulated
  enterprise user searches every few seconds.

Everything else (sessions, CSRF, e-mail verification, MFA for staff only, the
certificate page limits, which the scenario does not touch) is as deployed.
"""

from benchmarks.load_settings import *  # noqa: F403
from benchmarks.load_settings import ACCOUNT_RATE_LIMITS

HIGH = "100000/m"
ACCOUNT_RATE_LIMITS = {
    **ACCOUNT_RATE_LIMITS,
    "login": f"{HIGH}/ip",
    "login_failed": f"{HIGH}/ip,{HIGH}/key",
}
PORTAL_TALENT_RATE_LIMITS = {"budget": f"{HIGH},10000000/d"}
PORTAL_TALENT_DAILY_PROFILES = 100000
PORTAL_TALENT_DAILY_PROFILES_MEMBER = 100000
