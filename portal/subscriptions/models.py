"""Subscriptions and announcements: see the subscriptions helper's work."""
