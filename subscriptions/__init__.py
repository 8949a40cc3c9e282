"""Subscriptions to notices and announcements sent to subscribers (issue 6)."""
