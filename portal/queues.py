"""The Celery queues: certificates, e-mail, and everything else.

A certificate batch of 5,000 renders must not hold up a sign-up's
confirmation e-mail, and a slow mail provider must not hold up renders: each
kind of work has its own queue, and a deployment gives each queue its own
worker (deploy/, docs/deploy.md). A worker started with `all_queues()` takes
all three, as `make run` and the tests do.

Queue names derive from CELERY_TASK_DEFAULT_QUEUE, so a settings module that
moves the default queue (the tests' `portal-test`) moves the others with it.
"""

#: Task name patterns (Celery's glob matching) of each queue but the default.
ROUTED_TASKS = {
    "certificates": [
        "courses.tasks.issue_certificate",
        "courses.tasks.render_certificate",
        "courses.tasks.run_certificate_batch",
        "courses.tasks.process_certificate_batch_items",
    ],
    "email": [
        "portal.tasks.deliver_email*",
        "subscriptions.tasks.send_announcement_batch",
        "subscriptions.tasks.deliver_announcement_emails",
    ],
}


def queue_name(default_queue: str, kind: str) -> str:
    """The queue of `kind` ("certificates", "email") beside `default_queue`:
    the bare name beside Celery's own default ("celery"), else prefixed."""
    return kind if default_queue == "celery" else f"{default_queue}.{kind}"


def task_routes(default_queue: str) -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES for `default_queue`; unrouted tasks go to it."""
    return {
        pattern: {"queue": queue_name(default_queue, kind)}
        for kind, patterns in ROUTED_TASKS.items()
        for pattern in patterns
    }


def all_queues(default_queue: str) -> list[str]:
    """Every queue, the default first: a worker's `--queues` to take them all."""
    return [default_queue, *(queue_name(default_queue, kind) for kind in ROUTED_TASKS)]
