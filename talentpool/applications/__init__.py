"""Applying to the talent pool, review, publication consent and the yearly
reconfirmation (services, forms, views, admin views and the beat task)."""
