"""How the admin shows a stored value: in Beijing time, never as `None`.

Wagtail's inspect views (wagtailadmin/generic/inspect.html) print each field
with `|localize`, which neither converts an aware datetime to the active time
zone (only `|date`, `|time` and plain `{{ value }}` do) nor hides an empty
value: an issue time read in UTC beside a history in Beijing time, and a
literal "None". The portal's copy of that template uses `admin_value`.
"""

from typing import Any

from django import template
from django.utils import formats

register = template.Library()

#: What an empty field shows.
EMPTY = "—"


@register.filter(expects_localtime=True)
def admin_value(value: Any) -> Any:
    """`value` localized, an aware datetime in the active time zone (the
    admin's: Asia/Shanghai, settings.WAGTAIL_USER_TIME_ZONES), and None or
    an empty string as a dash."""
    if value is None or value == "":
        return EMPTY
    return formats.localize(value, use_l10n=True)
