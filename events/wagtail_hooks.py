"""The events app's admin: each part's hooks module is imported here, as
Wagtail only discovers an app's top-level wagtail_hooks."""

from events.checkin import wagtail_hooks as _checkin  # noqa: F401
from events.registration import wagtail_hooks as _registration  # noqa: F401
