"""Test data for the courses app: factories and reading a lesson."""
