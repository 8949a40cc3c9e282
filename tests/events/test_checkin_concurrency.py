"""Walk-ins at three entrances at once, and online registrations at the same
moment, for the last places: the event's row lock keeps them within the
capacity (PostgreSQL only, as tests/events/test_registration_concurrency.py:
SQLite runs one writer at a time, so nothing can race)."""

import threading
from unittest import mock

import pytest

from django.db import connection, connections
from django.utils import timezone

from events.checkin import services
from events.models import Registration
from events.registration.services import RegistrationError, registration_create
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.factories import StaffFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Concurrent walk-ins need PostgreSQL (row locks side by side).",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLACES = 10
WALKINS = 18  # three entrances, six each
ONLINE = 6  # registering on the site at the same moment


def test_walk_ins_and_registrations_at_once_never_exceed_the_places(home):
    real_now = timezone.now
    offset = shanghai(2027, 4, 26, 0, 20) - real_now()
    index = EventIndexPageFactory(parent=home)
    event = EventPageFactory(
        parent=index,
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        capacity=PLACES,
        waiting_list=True,
        registration_closes_at=shanghai(2027, 4, 26, 3, 0),
    )
    staff = StaffFactory(is_superuser=True)
    users = UserFactory.create_batch(ONLINE)
    barrier = threading.Barrier(WALKINS + ONLINE)
    outcomes: list[str] = []
    lock = threading.Lock()

    def walk_in(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.walkin_register(
                event_id=event.pk, name=f"现场{n}", phone=f"1380000{n:04d}", by=staff
            )
            outcome = "walked in"
        except services.AttendanceRefused:
            outcome = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    def online(user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=30)
            registration_create(user=user, event=event)
            outcome = "registered"
        except RegistrationError:
            outcome = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    with mock.patch("django.utils.timezone.now", lambda: real_now() + offset):
        threads = [threading.Thread(target=walk_in, args=(n,)) for n in range(WALKINS)]
        threads += [threading.Thread(target=online, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    confirmed = Registration.objects.filter(event=event, status="confirmed").count()
    walked_in = Registration.objects.filter(event=event, walk_in=True).count()
    assert len(outcomes) == WALKINS + ONLINE
    assert confirmed == PLACES
    # Walk-ins never wait: each either took a place (and was checked in) or
    # was refused; online registrations past the places wait.
    assert walked_in == outcomes.count("walked in")
    assert (
        Registration.objects.filter(event=event, checked_in_at__isnull=False).count()
        == walked_in
    )
    assert (
        walked_in
        + Registration.objects.filter(
            event=event, status="confirmed", walk_in=False
        ).count()
        == PLACES
    )
