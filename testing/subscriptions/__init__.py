"""Test data for the subscriptions app: factories."""
