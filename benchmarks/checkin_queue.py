"""Event check-in at the door (issue 17): three staff phones check in a queue
of 300 people, one phone losing its network for a minute.

Run as `.venv/bin/python -m benchmarks.checkin_queue` (PostgreSQL: the same
throwaway database and gunicorn set-up as benchmarks.events, production
settings over plain HTTP, two sync workers). The phones are three HTTP
clients doing what events/static/events/checkin.js does, each with its own
signed-in staff session (MFA proven) and CSRF token:

- a code: POST the station with the code (typed or scanned; a quarter in
  lower case with a hyphen, as read aloud), `X-Requested-With: checkin`;
- a name: GET the station's search (`?q=<name>`), then POST the picked
  registration's id (the confirm button);
- a walk-in: POST the walk-in form (name, phone, e-mail for half of them).

The queue: REGISTERED people registered beforehand (with a code and a
phone) and WALKINS who come without; CAPACITY places (exactly enough). The
people are dealt round-robin to the three phones; each phone takes one
person every PACE seconds (the time a person steps up and shows the code)
plus the server's answer. Phone C goes offline for OFFLINE seconds a third
of the way through its share: its scans are queued with their scan time,
as the page does in localStorage; name searches and walk-ins wait for the
network (the page needs it for them). When the network is back the queue
is sent one by one, and its first REPLAYED scans are sent once more (an
answer lost on the way back): they must answer "already checked in".

Reported: the server time per check-in by kind (p50, p95, max), the total
wall time, and the end state, checked: every person checked in exactly
once (one check-in, one hours-ledger entry, one log entry each), the
queued scans dated at their scan time, nobody beyond the places. Replaces
its section of docs/performance.md. Nothing asserts a time.
"""

import argparse
import contextlib
import datetime
import functools
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from benchmarks.load import (
    HOST,
    Skip,
    admin_sql,
    create_database,
    database_urls,
    free_port,
    gunicorn_command,
    spawn,
    stop,
    wait_until_up,
    where,
)
from benchmarks.run import BASE_DIR, REPORT, machine, percentile, replace_section

HEADING = "## Event check-in: three phones, 300 attendees"
REGISTERED = 270
WALKINS = 30
CAPACITY = REGISTERED + WALKINS
BY_NAME = 30  # of the registered, found by name (no code with them)
PHONES = 3
PACE = 1.0  # seconds between two people at one phone
OFFLINE = 60.0  # seconds phone C has no network
REPLAYED = 5  # queued scans sent twice
WORKERS = 2


@dataclass
class Person:
    kind: str  # "code", "name" or "walkin"
    name: str
    code: str = ""
    phone: str = ""
    email: str = ""
    registration_id: int = 0


def prepare(
    registered: int = REGISTERED, walkins: int = WALKINS, by_name: int = BY_NAME
) -> tuple[int, list[Person], list[str]]:
    """Migrate; the event (open for check-in now, `registered` + `walkins`
    places), the registrants, and three staff sessions that proved MFA.
    Returns (event id, people in the order of the queue, session keys)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from events.checkin.codes import code_display
    from events.models import EventIndexPage, EventPage, Registration
    from portal.models import HomePage, User
    from portal.staff import SETUP_SESSION_KEY

    call_command("migrate", verbosity=0)
    home = HomePage.objects.get()
    index = home.add_child(instance=EventIndexPage(title="活动", slug="events"))
    start = timezone.now() + datetime.timedelta(minutes=10)  # 08:50 for 09:00
    event = index.add_child(
        instance=EventPage(
            title="4·26 知识产权宣传周 专题讲座",
            slug="lecture",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            venue="重庆市知识产权局报告厅",
            capacity=registered + walkins,
            waiting_list=True,
            training_hours=2,
            issues_certificate=True,
        )
    )
    users = User.objects.bulk_create(
        User(email=f"guest{n}@example.org", real_name=f"来宾{n:03d}号", password="!")
        for n in range(registered)
    )
    now = timezone.now()
    registrations = Registration.objects.bulk_create(
        Registration(
            event=event,
            event_title=event.title,
            event_starts_at=event.starts_at,
            user=user,
            status="confirmed",
            confirmed_at=now,
            phone=f"139{n:08d}",
        )
        for n, user in enumerate(users)
    )
    people = []
    for n, registration in enumerate(registrations):
        if n < by_name:
            people.append(
                Person("name", registration.user.real_name, phone=registration.phone)
            )
            continue
        code = registration.code
        if n % 4 == 0:  # read aloud: lower case, grouped, look-alikes
            code = code_display(code).lower().replace("1", "l").replace("0", "o")
        people.append(Person("code", registration.user.real_name, code=code))
    for n in range(walkins):
        people.append(
            Person(
                "walkin",
                f"现场{n:02d}",
                phone=f"137{n:08d}",
                email=f"walkin{n}@example.org" if n % 2 else "",
            )
        )
    # The queue at the door: mixed.
    people = people[by_name:] + people[:by_name]
    queue = []
    coming = [p for p in people if p.kind == "walkin"]
    others = [p for p in people if p.kind != "walkin"]
    step = max(1, len(others) // max(1, len(coming)))
    for i, person in enumerate(others):
        queue.append(person)
        if i % step == step - 1 and coming:
            queue.append(coming.pop())
    queue.extend(coming)

    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    sessions = []
    for n in range(PHONES):
        staff = User.objects.create_superuser(
            email=f"door{n}@example.org", real_name=f"工作人员{n}"
        )
        TOTP.activate(staff, generate_totp_secret())
        session = store_class()
        session[SESSION_KEY] = staff._meta.pk.value_to_string(staff)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
        session[SETUP_SESSION_KEY] = str(staff.pk)  # MFA proven in this session
        session.save()
        sessions.append(session.session_key)
    return event.pk, queue, sessions


@dataclass
class Phone:
    """One staff phone: a session, a CSRF token, a local queue."""

    port: int
    station: str
    session_key: str
    cookie_name: str
    cookies: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # kind -> [seconds]
    answers: list = field(default_factory=list)
    queue: list = field(default_factory=list)
    replays: list = field(default_factory=list)
    queued: list = field(default_factory=list)  # every scan that was queued

    def request(self, method: str, path: str, data: dict | None = None) -> dict:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-Requested-With": "checkin",
            "Accept": "application/json",
        }
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            if "json" not in (response.headers.get("Content-Type") or ""):
                raise SystemExit(
                    f"{method} {path} answered {response.status} without JSON."
                )
            return json.loads(payload)
        finally:
            connection.close()

    def open(self) -> None:
        self.cookies[self.cookie_name] = self.session_key
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        connection.request(
            "GET", self.station, headers={"Cookie": self.session_cookie()}
        )
        response = connection.getresponse()
        response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        connection.close()
        if response.status != 200 or "csrftoken" not in self.cookies:
            raise SystemExit(f"The station answered {response.status}; stopping.")

    def session_cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def timed(self, kind: str, call: Callable[[], dict]) -> dict:
        started = time.perf_counter()
        answer = call()
        self.timings.setdefault(kind, []).append(time.perf_counter() - started)
        return answer

    def check_in(self, person: Person, *, offline: bool) -> bool:
        """Serve one person; False when it must wait for the network."""
        scanned_at = datetime.datetime.now(datetime.UTC).isoformat()
        if person.kind == "code":
            if offline:
                self.queue.append({"code": person.code, "scanned_at": scanned_at})
                self.queued.append((person.code, scanned_at))
                return True
            answer = self.timed(
                "code",
                lambda: self.request(
                    "POST",
                    self.station,
                    {"code": person.code, "scanned_at": scanned_at},
                ),
            )
        elif offline:
            return False
        elif person.kind == "name":

            def by_name() -> dict:
                found = self.request(
                    "GET",
                    self.station + "?" + urllib.parse.urlencode({"q": person.name}),
                )["results"]
                if len(found) != 1:
                    raise SystemExit(f"Search for {person.name} found {len(found)}.")
                return self.request(
                    "POST", self.station, {"registration": found[0]["id"]}
                )

            answer = self.timed("name", by_name)
        else:
            answer = self.timed(
                "walkin",
                lambda: self.request(
                    "POST",
                    self.station + "walk-in/",
                    {"name": person.name, "phone": person.phone, "email": person.email},
                ),
            )
        self.answers.append((person.kind, answer))
        return True

    def flush(self) -> None:
        """The network is back: send the queue one by one, then a few again
        (their answers lost on the way back)."""
        for item in self.queue:
            # By the phone's clock, as the page sends it.
            item["sent_at"] = datetime.datetime.now(datetime.UTC).isoformat()
            answer = self.timed(
                "queued", functools.partial(self.request, "POST", self.station, item)
            )
            self.answers.append(("queued", answer))
        for item in self.queue[:REPLAYED]:
            self.replays.append(self.request("POST", self.station, item))
        self.queue.clear()


def serve(phone: Phone, people: list[Person], *, goes_offline: bool) -> None:
    phone.open()
    offline_at = len(people) // 3 if goes_offline else None
    offline_until = 0.0
    waiting: list[Person] = []
    for i, person in enumerate(people):
        if i == offline_at:
            offline_until = time.monotonic() + OFFLINE
        offline = time.monotonic() < offline_until
        if not offline and (phone.queue or waiting):
            phone.flush()
            for held in waiting:
                phone.check_in(held, offline=False)
            waiting.clear()
        if not phone.check_in(person, offline=offline):
            waiting.append(person)
        time.sleep(PACE)
    while time.monotonic() < offline_until:
        time.sleep(0.5)
    phone.flush()
    for held in waiting:
        phone.check_in(held, offline=False)


@dataclass
class Door:
    """The served check-in station: what the phones need to reach it."""

    port: int
    event_id: int
    queue: list[Person]
    sessions: list[str]
    pg_version: str
    load: float

    @property
    def station(self) -> str:
        return f"/events/check-in/{self.event_id}/"


@contextlib.contextmanager
def throwaway_site() -> Iterator[Path]:
    """A throwaway PostgreSQL database and folder, and the environment that
    production settings (benchmarks.load_settings) read, for this process and
    the gunicorn it starts; the database is dropped at the end. Raises Skip
    without PostgreSQL."""
    maintenance_url, database_url, name = database_urls()
    create_database(maintenance_url, name)
    bench_dir = Path(tempfile.mkdtemp(prefix="portal-bench-checkin-"))
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": database_url,
                "CONN_MAX_AGE": "60",
                "EMAIL_URL": "dummymail://",
                "PORTAL_VAR_DIR": str(bench_dir),
                "LOG_LEVEL": "WARNING",
            }
        )
        for unwanted in ("REDIS_URL", "CELERY_BROKER_URL", "S3_BUCKET"):
            os.environ.pop(unwanted, None)
        yield bench_dir
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        try:
            admin_sql(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as error:  # noqa: BLE001 - reported, the run goes on
            print(f"Could not drop the database {name}: {error}")
        shutil.rmtree(bench_dir, ignore_errors=True)


@contextlib.contextmanager
def door(
    bench_dir: Path,
    registered: int = REGISTERED,
    walkins: int = WALKINS,
    by_name: int = BY_NAME,
) -> Iterator[Door]:
    """Within throwaway_site(): static files, the data (prepare), and
    gunicorn with WORKERS sync workers, stopped at the end."""
    import django

    django.setup()
    from django.db import connection

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        check=True,
    )
    event_id, queue, sessions = prepare(registered, walkins, by_name)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    connection.close()
    logs = bench_dir / "logs"
    logs.mkdir()
    port = free_port()
    server = spawn(gunicorn_command(port, WORKERS, 1, logs), logs / "gunicorn.out")
    load = os.getloadavg()[0]
    try:
        wait_until_up(server, port, logs)
        yield Door(port, event_id, queue, sessions, pg_version, load)
    finally:
        stop(server, "gunicorn")


@dataclass
class EndState:
    checked_in: int
    ledger: int
    logged: int
    walk_ins: int
    confirmed: int
    capacity: int
    worst: datetime.timedelta  # the farthest a queued scan was dated from its scan


def end_state(
    event_id: int, expected: int, walkins: int, queued: list[tuple[str, str]]
) -> EndState:
    """Check the database after the door: each of the `expected` people
    checked in exactly once (one check-in, one hours-ledger entry, one log
    entry each), `walkins` walk-ins, nobody beyond the places, and each
    queued scan (code, scan time in ISO 8601) dated at its scan time.
    SystemExit when it is wrong."""
    from django.db.models import Count

    from wagtail.models import ModelLogEntry

    from courses.models import HoursLedgerEntry
    from events.checkin.codes import code_normalise
    from events.checkin.services import LOG_CHECKED_IN
    from events.models import EventPage, Registration

    capacity = EventPage.objects.get(pk=event_id).capacity
    rows = Registration.objects.filter(event_id=event_id)
    checked_in = rows.filter(checked_in_at__isnull=False).count()
    ledger = HoursLedgerEntry.objects.filter(source_key=event_id)
    logs = ModelLogEntry.objects.filter(action=LOG_CHECKED_IN)
    twice = [
        *ledger.values("user_id").annotate(n=Count("id")).filter(n__gt=1),
        *logs.values("object_id").annotate(n=Count("id")).filter(n__gt=1),
    ]
    state = EndState(
        checked_in=checked_in,
        ledger=ledger.count(),
        logged=logs.count(),
        walk_ins=rows.filter(walk_in=True).count(),
        confirmed=rows.filter(status="confirmed").count(),
        capacity=capacity,
        worst=datetime.timedelta(0),
    )
    if twice or (
        state.checked_in,
        state.ledger,
        state.logged,
        state.walk_ins,
        state.confirmed,
    ) != (expected, expected, expected, walkins, expected):
        raise SystemExit(
            f"End state wrong: {state.checked_in} checked in, {state.ledger} ledger "
            f"entries, {state.logged} log entries, {state.walk_ins} walk-ins, "
            f"{state.confirmed} confirmed of {expected}; counted twice: {twice[:3]}"
        )
    if state.confirmed > capacity:
        raise SystemExit(f"{state.confirmed} confirmed for {capacity} places.")
    # Each queued scan is dated when it was scanned, not when it was sent.
    for code, scanned_at in queued:
        at = rows.get(code=code_normalise(code)).checked_in_at
        assert at is not None  # every one is checked in (counted above)
        offset = abs(at - datetime.datetime.fromisoformat(scanned_at))
        state.worst = max(state.worst, offset)
    if state.worst > datetime.timedelta(seconds=5):
        raise SystemExit(f"A queued scan was dated {state.worst} away from its scan.")
    return state


def machine_facts(site: Door) -> dict[str, str]:
    facts = machine()
    facts.pop("SQLite", None)
    facts["PostgreSQL"] = f"{site.pg_version} at {where(os.environ['DATABASE_URL'])}"
    facts["Load average (1 min) at start"] = f"{site.load:.2f}"
    return facts


def run(bench_dir: Path) -> list[str]:
    with door(bench_dir) as site:
        from django.conf import settings

        phones = [
            Phone(site.port, site.station, key, settings.SESSION_COOKIE_NAME)
            for key in site.sessions
        ]
        failures: list[BaseException] = []
        shares = [site.queue[i::PHONES] for i in range(PHONES)]

        def phone_thread(n: int) -> None:
            try:
                serve(phones[n], shares[n], goes_offline=n == PHONES - 1)
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [
            threading.Thread(target=phone_thread, args=(n,), daemon=True)
            for n in range(PHONES)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"A phone failed: {failures[0]!r}; stopping.")
    refused = [
        (kind, answer["message"])
        for phone in phones
        for kind, answer in phone.answers
        if not answer.get("ok")
    ]
    if refused:
        raise SystemExit(f"{len(refused)} check-ins refused, e.g. {refused[:3]}")
    replays = [answer for phone in phones for answer in phone.replays]
    if not all(a.get("already") and not a.get("ok") for a in replays):
        raise SystemExit(f"A replayed scan was not 'already checked in': {replays}")
    expected = REGISTERED + WALKINS
    state = end_state(
        site.event_id,
        expected,
        WALKINS,
        [item for phone in phones for item in phone.queued],
    )
    checked_in, ledger, logged = state.checked_in, state.ledger, state.logged
    walk_ins, confirmed, worst = state.walk_ins, state.confirmed, state.worst
    queued = sum(
        1 for phone in phones for kind, _a in phone.answers if kind == "queued"
    )
    kinds = {
        "code": "code (typed or scanned)",
        "queued": "queued scan, sent when back online",
        "name": "name search + pick (2 requests)",
        "walkin": "walk-in (register + check in)",
    }
    table = []
    for kind, label in kinds.items():
        times = sorted(
            t * 1000 for phone in phones for t in phone.timings.get(kind, [])
        )
        if not times:
            continue
        table.append(
            f"| {label} | {len(times)} | {statistics.median(times):.0f} | "
            f"{percentile(times, 0.95):.0f} | {times[-1]:.0f} |"
        )
    all_times = [t for phone in phones for ts in phone.timings.values() for t in ts]
    facts = machine_facts(site)
    return [
        "Figures from `.venv/bin/python -m benchmarks.checkin_queue` (not in "
        "`make bench`: it takes a few minutes of mostly waiting), which replaces "
        "this section on every run. Three staff phones, scripted as three HTTP "
        "clients doing what `events/static/events/checkin.js` does (each its "
        "own signed-in session with MFA proven), check in a queue of "
        f"{REGISTERED + WALKINS} people at an event of {CAPACITY} places: "
        f"{REGISTERED - BY_NAME} by code (a quarter typed in lower case with "
        f"look-alikes, as read aloud), {BY_NAME} found by name and picked, "
        f"{WALKINS} walk-ins (half with an e-mail address). Each phone takes "
        f"the next person every {PACE:.0f} s plus the server's answer. The "
        f"third phone loses its network for {OFFLINE:.0f} s a third of the way "
        "through: its scans are queued with their scan time, names and "
        "walk-ins wait; back online it sends the queue, then the first "
        f"{REPLAYED} queued scans once more. Gunicorn with {WORKERS} sync "
        "workers and PostgreSQL, production settings (benchmarks.load_settings).",
        "",
        "| check-in | count | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|--:|--:|--:|--:|",
        *table,
        "",
        f"Total: {expected} people checked in in {seconds:.0f} s of wall time, "
        f"{seconds / (expected / PHONES):.2f} s per person per phone, of which "
        f"{PACE:.0f} s is the pace of the queue: the server's part is small "
        f"(p50 {statistics.median(all_times) * 1000:.0f} ms a request over all "
        "kinds), so at the door the time per person is the time to show a code "
        "or spell a name. The offline minute did not hold the queue up: the "
        f"third phone went on scanning into its queue ({queued} scans sent "
        "when the network came back, each dated at its scan time, within "
        f"{worst.total_seconds():.1f} s); only its name searches and walk-ins "
        "waited for the network.",
        "",
        f"End state checked: {checked_in} checked in, {ledger} hours-ledger "
        f"entries, {logged} check-in log entries (each attendance once), "
        f"{walk_ins} walk-ins, {confirmed} confirmed of {CAPACITY} places; the "
        f"{len(replays)} replayed queued scans each answered 'already checked "
        "in' and recorded nothing.",
        "",
        "### Machine",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-report", action="store_true", help="print only")
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        with throwaway_site() as bench_dir:
            lines = run(bench_dir)
    except Skip as reason:
        print(f"Check-in benchmark skipped: {reason}")
        return
    print("\n".join([HEADING, "", *lines]))
    if not args.no_report:
        replace_section(HEADING, lines)
        print(f"Wrote {REPORT.relative_to(BASE_DIR)}")
    print(f"Done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
