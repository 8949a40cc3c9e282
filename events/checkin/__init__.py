"""Check-in: staff record attendance from a registration's code."""
