"""Admin screens of the courses app. Each screen's module registers its own
hooks; importing them here is what makes Wagtail see them."""
