"""The filters of the event list and calendar: month, type, audience and (in
the list) upcoming or past. Every field is optional; a value that is not
understood is reported next to its field and left out, the others still apply.
"""

import datetime
import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from events import selectors
from events.models import EventType
from portal.models import Audience

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> datetime.date | None:
    """Read "2027-04" as date(2027, 4, 1); None for anything else."""
    found = _MONTH.match(value or "")
    if not found:
        return None
    year, month = int(found[1]), int(found[2])
    if not (1900 <= year <= 2999 and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)


class MonthInput(forms.TextInput):
    """A month picker (`<input type="month">`); browsers without one show a
    text box, in which the placeholder says how to type a month."""

    input_type = "month"


class EventFilterForm(forms.Form):
    """Filters of an event index, from the query string (shareable URLs)."""

    WHEN_UPCOMING = selectors.WHEN_UPCOMING
    WHEN_PAST = selectors.WHEN_PAST
    WHEN_ALL = selectors.WHEN_ALL

    month = forms.CharField(
        label=_("Month"),
        required=False,
        max_length=7,
        widget=MonthInput(attrs={"placeholder": "2027-04", "pattern": r"\d{4}-\d{2}"}),
        help_text=_("Year and month, for example 2027-04."),
    )
    type = forms.ChoiceField(label=_("Type"), required=False)
    audience = forms.ChoiceField(label=_("Audience"), required=False)
    when = forms.ChoiceField(
        label=_("Dates"),
        required=False,
        choices=[
            (WHEN_UPCOMING, _("Upcoming and current")),
            (WHEN_PAST, _("Past events")),
            (WHEN_ALL, _("All dates")),
        ],
    )

    def __init__(
        self, data: Any = None, *, with_when: bool = True, **kwargs: Any
    ) -> None:
        # Whether the visitor chose `when` (links then keep it).
        self.when_given = bool(data is not None and data.get("when"))
        if data is not None and with_when and not data.get("when"):
            # Upcoming by default, or all dates once a month is chosen (a past
            # month would otherwise show nothing); filled in so that the
            # select shows what the list shows.
            data = data.copy()
            data["when"] = (
                self.WHEN_ALL
                if parse_month(data.get("month", ""))
                else self.WHEN_UPCOMING
            )
        super().__init__(data, **kwargs)
        event_type = cast(forms.ChoiceField, self.fields["type"])
        event_type.choices = [("", _("All types")), *EventType.choices]
        audience = cast(forms.ChoiceField, self.fields["audience"])
        audience.choices = [("", _("All audiences"))] + [
            (term.code, term.label) for term in Audience.objects.filter(is_active=True)
        ]
        if not with_when:
            del self.fields["when"]

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data.get("month", "").strip()
        if not value:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError(
                _("“%(value)s” is not a month: use year and month, like 2027-04."),
                params={"value": value},
            )
        return month

    def filters(self) -> dict[str, Any]:
        """The values that are valid; a field with an error counts as empty.

        Call after is_valid().
        """
        data = getattr(self, "cleaned_data", {})
        month = data.get("month")
        found: dict[str, Any] = {
            "month": month,
            "event_type": data.get("type") or "",
            "audience": data.get("audience") or "",
        }
        if "when" in self.fields:
            found["when"] = data.get("when") or self.WHEN_UPCOMING
        return found

    def query_params(self) -> dict[str, str]:
        """The valid filters the visitor chose, as query parameters (for
        links that keep them and drop what was not understood)."""
        values = self.filters()
        params = {
            "month": values["month"].strftime("%Y-%m") if values["month"] else "",
            "type": values["event_type"],
            "audience": values["audience"],
        }
        if "when" in values and self.when_given:
            params["when"] = values["when"]
        return {key: value for key, value in params.items() if value}

    @property
    def is_filtered(self) -> bool:
        values = self.filters()
        return bool(values["month"] or values["event_type"] or values["audience"])
