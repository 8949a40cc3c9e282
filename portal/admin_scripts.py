"""Wagtail's chooser widgets without an inline <script>, so that the admin
runs under a Content-Security-Policy without 'unsafe-inline' for scripts.

Wagtail 8's BaseChooser.render appends `<script>new PageChooser(id, options)
</script>` to the widget's HTML in Python, where no template can change it.
install() replaces that method (once, at start-up, from PortalConfig.ready)
with one that writes the same call as data attributes of a hidden element;
static/js/admin-init.js makes the call. The inline panels' and date pickers'
scripts are replaced by templates (portal/templates/wagtailadmin/).
"""

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from wagtail.admin.widgets import BaseChooser
from wagtail.admin.widgets.workflows import AdminTaskChooser

#: The constructors static/js/admin-init.js agrees to call (its CHOOSERS).
CHOOSER_CONSTRUCTORS = frozenset(
    {"Chooser", "PageChooser", "ImageChooser", "DocumentChooser", "SnippetChooser"}
)
CHOOSER_INIT = (
    '{}<div hidden data-portal-admin-init="chooser" data-portal-admin-id="{}"'
    ' data-portal-admin-constructor="{}" data-portal-admin-options="{}"></div>'
)

_wagtail_render = BaseChooser.render


def render_chooser(
    self: BaseChooser,
    name: str,
    value: Any,
    attrs: dict[str, Any] | None = None,
    renderer: Any = None,
) -> SafeString:
    """BaseChooser.render, with the script's call as data. A chooser whose
    script this cannot express (its own render_js_init, another constructor)
    keeps Wagtail's inline script, which the policy refuses and the browser
    reports to /csp-report/: it must be added here and in admin-init.js."""
    if isinstance(self, AdminTaskChooser):
        constructor = "createTaskChooser"
    elif (
        type(self).render_js_init is BaseChooser.render_js_init
        and self.js_constructor in CHOOSER_CONSTRUCTORS
    ):
        constructor = self.js_constructor
    else:
        return _wagtail_render(self, name, value, attrs, renderer)
    try:
        id_ = attrs["id"]  # type: ignore[index]  # Wagtail always passes attrs to render()
    except (KeyError, TypeError) as e:
        raise TypeError(
            "BaseChooser cannot be rendered without an 'id' attribute"
        ) from e
    value_data = self.get_value_data(value)
    return format_html(
        CHOOSER_INIT,
        self.render_html(name, value_data, attrs),
        id_,
        constructor,
        json.dumps(self.get_js_init_options(id_, name, value_data)),
    )


def install() -> None:
    """Make every Wagtail chooser widget render without an inline script.
    May run twice."""
    BaseChooser.render = render_chooser
