"""Test data for the events app: factories."""
