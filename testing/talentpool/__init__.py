"""Test data for the talent pool: factories and the search relevance set."""
