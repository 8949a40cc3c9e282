"""The subscriptions app's Celery tasks: each part's tasks module is imported here
so that the worker's autodiscovery finds them."""
