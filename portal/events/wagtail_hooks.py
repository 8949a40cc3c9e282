"""The events app's admin: each part's hooks module is imported here, as
Wagtail only discovers an app's top-level wagtail_hooks."""
