"""Horizontal bar charts drawn on the server, for the admin's reports.

The portal runs on closed intranets: no chart library. A chart is inline SVG
laid out here and drawn by templates/includes/admin_bar_chart.html, with
role="img", a <title>, a <desc> and a <title> per bar; the table beside it
gives every figure. Used by the training report and the talent pool's
statistics.

Each bar has a value (the whole bar) and may have a part drawn over it, so
that the filled share reads as a rate (completions of enrolments).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.text import Truncator

#: Width of every chart, in SVG units.
WIDTH = 760
#: Characters of a label shown left of its bar; the bar's <title> has it whole.
LABEL_CHARS = 14


@dataclass(frozen=True)
class Bar:
    """One bar: its label (shown cut to LABEL_CHARS), its value, the part
    drawn over it, and a rate (a percentage) written after the figures."""

    label: Any
    value: int
    part: int | None = None
    rate: Any = None


@dataclass(frozen=True)
class BarLayout:
    """Where things go, in SVG units: the label column, room for the
    figures right of the longest bar, each row's height and the inset of its
    bar, the legend's band on top (and the y of its squares), the margin
    under the last row, and how far the part's legend entry is from the
    value's."""

    label_width: int
    value_width: int
    row_height: int
    bar_inset: int
    top: int
    legend_y: int
    bottom: int
    legend_part_offset: int


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    value_heading: Any,
    part_heading: Any = "",
    total: int,
    layout: BarLayout,
) -> dict[str, Any]:
    """The layout of a chart of `bars` for admin_bar_chart.html: one row per
    bar, the longest bar as wide as the chart allows. `chart_id` prefixes
    the ids of its <title> and <desc>; without `part_heading` no part is
    drawn; `total` is how many rows the table has (the chart may show
    fewer, which its caption says)."""
    bar_x = layout.label_width + 10
    bar_area = WIDTH - layout.label_width - layout.value_width - 20
    largest = max((bar.value for bar in bars), default=0) or 1
    rows = []
    for i, bar in enumerate(bars):
        y = layout.top + i * layout.row_height
        value_width = bar_area * bar.value / largest
        rows.append(
            {
                "label": Truncator(bar.label).chars(LABEL_CHARS),
                "full_label": bar.label,
                "value": bar.value,
                "part": bar.part,
                "rate": bar.rate,
                "text_y": y + layout.row_height / 2 + 4,
                "bar_y": y + layout.bar_inset,
                "value_width": round(value_width, 1),
                "part_width": round(bar_area * (bar.part or 0) / largest, 1),
                "value_x": round(bar_x + value_width + 6, 1),
            }
        )
    return {
        "id": chart_id,
        "width": WIDTH,
        "height": layout.top + len(bars) * layout.row_height + layout.bottom,
        "bar_x": bar_x,
        "label_x": layout.label_width,
        "bar_height": layout.row_height - 2 * layout.bar_inset,
        "legend_y": layout.legend_y,
        "legend_text_y": layout.legend_y + 12,
        "legend_value_text_x": bar_x + 20,
        "legend_part_x": bar_x + layout.legend_part_offset,
        "legend_part_text_x": bar_x + layout.legend_part_offset + 20,
        "value_heading": value_heading,
        "part_heading": part_heading,
        "bars": rows,
        "shown": len(bars),
        "total": total,
    }
