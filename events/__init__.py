"""Events, registrations, check-in and April 26 campaigns (issue 6)."""
