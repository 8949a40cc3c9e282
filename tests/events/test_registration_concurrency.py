"""300 people press Register for an event of 100 places at the same moment,
some of them twice: exactly 100 are confirmed, 200 wait, nobody is
registered twice and nobody sees a server error.

Truly concurrent: many threads, each with its own database connection,
send real requests through the whole stack (middleware, session, view,
service) at once. Only PostgreSQL runs transactions side by side with row
locks; SQLite lets one writer in at a time, so there is nothing to race.
"""

import queue
import random
import threading

import pytest

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from events.models import Registration
from portal.models import OutgoingEmail
from tests.events.factories import EventIndexPageFactory, EventPageFactory
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "Concurrent registrations need PostgreSQL: SQLite runs one write "
            "transaction at a time, so requests cannot race (CI runs the "
            "suite on PostgreSQL too)."
        ),
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLACES = 100
PEOPLE = 300
DOUBLES = 40  # people who press the button twice, at the same time
THREADS = 24

Status = Registration.Status


def test_300_simultaneous_registrations_for_100_places(home):
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index, slug="popular", capacity=PLACES, waiting_list=True
    )
    url = reverse("events:register", args=[event.pk])
    users = UserFactory.create_batch(PEOPLE, verified=False)
    sessions = {}
    for user in users:
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
    attempts = [user.pk for user in users] + [user.pk for user in users[:DOUBLES]]
    random.Random(426).shuffle(attempts)
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for user_id in attempts:
        work.put(user_id)

    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker() -> None:
        try:
            start.wait(timeout=60)
            while True:
                try:
                    user_id = work.get_nowait()
                except queue.Empty:
                    return
                # A client of its own: the two presses of one person race too.
                client = Client()
                client.cookies[settings.SESSION_COOKIE_NAME] = sessions[user_id]
                statuses.append(client.post(url).status_code)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    # Every press answered with a redirect (to the registration, or back to
    # the event with "already registered"): never a server error.
    assert len(statuses) == PEOPLE + DOUBLES
    assert set(statuses) == {302}
    registrations = Registration.objects.filter(event=event)
    assert registrations.filter(status=Status.CONFIRMED).count() == PLACES
    assert registrations.filter(status=Status.WAITING).count() == PEOPLE - PLACES
    assert registrations.count() == PEOPLE
    assert registrations.values("user").distinct().count() == PEOPLE
    assert not registrations.filter(
        status=Status.WAITING, waiting_since__isnull=True
    ).exists()
    # One e-mail per registration, none for a refused double.
    assert OutgoingEmail.objects.count() == PEOPLE
