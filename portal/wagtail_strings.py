# ruff: noqa: E501 (each string is exactly Wagtail's msgid, however long)
"""Strings that Wagtail's admin shows and its own zh_Hans catalogue lacks
(Wagtail 8.0), translated in the portal's catalogue, which comes first
(portal is listed before the wagtail apps in INSTALLED_APPS).

Listed here so that `make makemessages` keeps them in
portal/locale: it drops every entry that no source file names. Never
imported; each string must be exactly Wagtail's msgid.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

STRINGS = [
    gettext_noop("New: %(model_name)s"),
    gettext_noop("The new page will be a child of this given parent page."),
    gettext_noop("Wagtail %(current_version)s editor guide"),
    gettext_noop(
        "The root level is where you can add new sites to your Wagtail installation. Pages created here will not be accessible at any URL until they are associated with a site."
    ),
    gettext_noop(
        "If you just want to add pages to an existing site, create them as children of the homepage instead."
    ),
    gettext_noop("Saved"),
    gettext_noop("Autosave is paused"),
    gettext_noop("Content metrics"),
    gettext_noop("Words"),
    gettext_noop("Reading time"),
    gettext_noop("Readability"),
    gettext_noop("This data explained"),
    gettext_noop("Locking: "),
    gettext_noop(
        "Correct the validation errors to resume preview (saving will highlight errors)"
    ),
    gettext_noop(
        'JavaScript is required to use Wagtail, but it is currently disabled.<br /> Here are the <a href="https://www.enable-javascript.com/" target="_blank" rel="noreferrer">instructions how to enable JavaScript in your web browser</a>.'
    ),
    gettext_noop("Checks"),
    gettext_noop("Theme preferences"),
    gettext_noop("Choose parent"),
    gettext_noop("Is commenting action"),
    gettext_noop("Date updated"),
    gettext_noop("Edited by"),
    gettext_noop("Has child pages"),
    gettext_noop("Any"),
    gettext_noop("Page type"),
    gettext_noop("Page types usage"),
    gettext_noop("More contrast"),
    gettext_noop("Snug"),
    gettext_noop("Enable custom keyboard shortcuts specific to Wagtail."),
    gettext_noop("Oldest"),
    gettext_noop("Usage count: (low to high)"),
    gettext_noop("Usage count: (high to low)"),
    gettext_noop("Maximum filesize: %(max_upload_size)s."),
    gettext_noop("admin theme"),
    gettext_noop("contrast"),
    gettext_noop("density"),
]

PLURALS = [
    ngettext_lazy("Referenced %(count)s time", "Referenced %(count)s times", "count")
]
