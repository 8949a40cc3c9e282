"""Factories and data sets that both the test suite (tests/) and the
benchmarks (benchmarks/) use: neither imports the other, both import this.

Development only (factory_boy and wagtail-factories are dev dependencies);
like tests and benchmarks it stays outside the import contracts, and no
application package imports it. The modules mirror the apps:
testing.factories (users, staff and the site pages), testing.courses,
testing.events, testing.subscriptions and testing.talentpool.
"""
