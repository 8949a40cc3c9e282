"""Event check-in at the door (issue 17) in real browsers: three staff phones
check in a queue of 300 people, one phone losing its network for a minute.

Run as `.venv/bin/python -m benchmarks.checkin_phones` (`--people N` for a
shorter queue, `--no-report` to print only). The site, the data and the
server are benchmarks.checkin_queue's (a throwaway PostgreSQL database,
production settings over plain HTTP, gunicorn with two sync workers, three
staff members whose sessions proved MFA); what differs is the phones. Here
they are three Playwright contexts in Debian's Chromium, each emulating a
phone (Playwright's device descriptors: viewport, touch, user agent, scale),
each signed in as its own staff member (the session cookie), each on the
event's station driving the page and its script
(events/static/events/checkin.js) as staff do:

- a code: typed key by key into the code field (as given; a quarter read
  aloud, in lower case with a hyphen and look-alikes; a third of the rest
  with the hyphen) and sent with the "Check in" button or the keyboard's
  Go key;
- a name: the name or the mobile number typed into the search, "Search",
  then "Choose <name>", then the confirm button;
- a walk-in: the walk-in form filled in (name, phone, e-mail for half) and
  "Register and check in".

The queue is shuffled (a fixed seed) and dealt round-robin to the phones;
each phone takes the next person PACE seconds after the last one's answer.
The third phone goes offline (BrowserContext.set_offline) a third of the way
through its share, for OFFLINE seconds of wall time, and goes on scanning:
the page must keep the scans in its queue (localStorage) and send them when
the network is back, while the next people are checked in; names and
walk-ins wait for the network. Afterwards its first REPLAYED queued scans
are put back in the page's queue (their answers lost on the way back) and
must come back "already checked in".

A check-in's time is from the tap (or key) that starts it to the page's
answer in its result line: a MutationObserver in each page stamps every
change of the line, by the same clock as the script's own. Reported by
kind (code, name, walk-in, queued on the phone, and the queued scans' wait
until they were sent after the network came back): p50, p95, max; the total
wall time; then the database, checked: every person checked in exactly once
(one check-in, one hours-ledger entry, one log entry), the queued scans
dated at their scan time, nobody beyond the places. Replaces its section of
docs/performance.md. Nothing asserts a time.
"""

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.checkin_queue import (
    OFFLINE,
    PACE,
    PHONES,
    REPLAYED,
    WORKERS,
    Door,
    Person,
    door,
    end_state,
    machine_facts,
    throwaway_site,
)
from benchmarks.load import HOST, Skip
from benchmarks.run import BASE_DIR, REPORT, percentile, replace_section

HEADING = "## Event check-in: three phones in real browsers"
PEOPLE = 300
DEVICES = ("iPhone 13", "Pixel 7", "iPhone SE")  # the last goes offline
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
SEED = 17
OVERWRITTEN = 2.0  # seconds: an answer shown for less was not read

# Stamps every change of the station's result line and of its queue's line
# (their text, class, hidden) with the wall clock, and whether the line was
# on the screen then, not under the fixed camera bar. Runs before the page's
# own script.
OBSERVER = """
(() => {
  const log = [];
  window.__checkinLog = log;
  const now = () => performance.timeOrigin + performance.now();
  function inView(element) {
    const box = element.getBoundingClientRect();
    const bar = document.querySelector("[data-checkin-bar]");
    let bottom = window.innerHeight;
    if (bar && !bar.hidden) bottom = Math.min(bottom, bar.getBoundingClientRect().top);
    return box.height > 0 && box.top >= 0 && box.bottom <= bottom;
  }
  function watch(name, line) {
    if (!line) return;
    new MutationObserver(() => {
      log.push({
        at: now(),
        line: name,
        text: line.textContent,
        ok: name === "queue" || line.classList.contains("checkin__result--ok"),
        in_view: inView(line),
      });
    }).observe(line, {
      childList: true, characterData: true, subtree: true,
      attributes: true, attributeFilter: ["class", "hidden"],
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    watch("result", document.querySelector("[data-checkin-result]"));
    watch("queue", document.querySelector("[data-checkin-queue]"));
  });
})();
"""


class Failed(Exception):
    """The door went wrong (a refusal, a missing answer, a page error)."""


@dataclass
class Sample:
    kind: str  # code, name, walkin, queued, sent
    seconds: float
    in_view: bool
    device: str = ""


@dataclass
class Phone:
    """One staff phone: a browser context on the event's station."""

    label: str
    page: Any
    context: Any
    samples: list[Sample] = field(default_factory=list)
    queued: list[tuple[str, str]] = field(default_factory=list)  # (code, scan time)
    queued_names: list[str] = field(default_factory=list)
    held: int = 0  # names and walk-ins that waited for the network
    offline_seconds: float = 0.0
    back_at: float = 0.0  # wall clock when the network came back
    drained_after: float = 0.0  # seconds from then to an empty queue
    replays: list[dict] = field(default_factory=list)
    # Answers to the staff member's own check-ins that a queued scan's answer
    # replaced on the result line within OVERWRITTEN seconds: (ms shown).
    overwritten: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    messages: dict = field(default_factory=dict)

    async def log_length(self) -> int:
        return await self.page.evaluate("window.__checkinLog.length")

    async def answer(self, start: int, needle: str) -> dict:
        """The first change of the result line since `start` that names
        `needle`."""
        handle = await self.page.wait_for_function(
            """([start, needle]) => window.__checkinLog.slice(start).find(
                (entry) => entry.line === "result" && entry.text.includes(needle)
            ) || null""",
            arg=[start, needle],
            polling=20,
        )
        return await handle.json_value()

    async def timed(self, kind: str, start: int, t0: float, needle: str) -> dict:
        entry = await self.answer(start, needle)
        if not entry["ok"]:
            raise Failed(f"{self.label}: {kind} refused: {entry['text']}")
        self.samples.append(
            Sample(kind, entry["at"] / 1000 - t0, entry["in_view"], self.label)
        )
        return entry

    async def code(
        self, person: Person, typed: str, *, offline: bool, key: bool
    ) -> None:
        field_ = self.page.locator("[data-checkin-form] input[name=code]")
        await field_.press_sequentially(typed)
        start = await self.log_length()
        scanned = time.time()
        if key:  # the keyboard's Go key
            await field_.press("Enter")
        else:
            await self.page.locator("[data-checkin-form] button[type=submit]").tap()
        if offline:
            await self.timed("queued", start, scanned, self.messages["msgQueued"])
            self.queued_names.append(person.name)
        else:
            await self.timed("code", start, scanned, person.name)
        # The script empties the field once the answer is in.
        await self.page.wait_for_function(
            """() => !document.querySelector(
                "[data-checkin-form] button[type=submit]").disabled""",
            polling=20,
        )

    async def by_name(self, person: Person, query: str) -> None:
        search = self.page.locator("[data-checkin-search]")
        await search.locator("input[name=q]").press_sequentially(query)
        start = await self.log_length()
        t0 = time.time()
        await search.locator("button[type=submit]").tap()
        pick = self.page.get_by_role(
            "button", name=f"{self.messages['msgPick']} {person.name}", exact=True
        )
        await pick.tap()
        await self.page.locator(".checkin__picked button").tap()
        await self.timed("name", start, t0, person.name)

    async def walk_in(self, person: Person) -> None:
        form = self.page.locator("[data-checkin-walkin]")
        await form.locator("input[name=name]").press_sequentially(person.name)
        await form.locator("input[name=phone]").press_sequentially(person.phone)
        if person.email:
            await form.locator("input[name=email]").press_sequentially(person.email)
        start = await self.log_length()
        t0 = time.time()
        await form.locator("button[type=submit]").tap()
        await self.timed("walkin", start, t0, person.name)

    async def serve(self, person: Person, n: int, *, offline: bool) -> None:
        if person.kind == "code":
            typed = typed_code(person, n)
            await self.code(person, typed, offline=offline, key=n % 2 == 1)
        elif person.kind == "name":
            await self.by_name(person, person.name if n % 2 else person.phone)
        else:
            await self.walk_in(person)

    async def queue_items(self) -> list[dict]:
        return await self.page.evaluate(
            """() => JSON.parse(localStorage.getItem(
                document.querySelector("[data-checkin]").dataset.queueKey) || "[]")"""
        )

    async def drained(self) -> None:
        """Until the page's queue is empty: every queued scan answered."""
        await self.page.wait_for_function(
            """() => !JSON.parse(localStorage.getItem(document.querySelector(
                "[data-checkin]").dataset.queueKey) || "[]").length""",
            polling=50,
            timeout=120_000,
        )


def typed_code(person: Person, n: int) -> str:
    """The code as the staff member types it: as given (a quarter of the
    codes come read aloud from prepare), or with the hyphen."""
    code = person.code
    if code.isupper() and len(code) == 8 and n % 3 == 0:
        return f"{code[:4]}-{code[4:]}"
    return code


async def open_phone(
    browser: Any, playwright: Any, base: str, label: str, key: str
) -> Phone:
    from django.conf import settings

    context = await browser.new_context(
        **playwright.devices[label],
        base_url=base,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    await context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": base}]
    )
    await context.add_init_script(OBSERVER)
    page = await context.new_page()
    phone = Phone(label, page, context)
    page.on("pageerror", lambda error: phone.errors.append(f"JavaScript: {error}"))
    page.on(
        "response",
        lambda response: (
            phone.errors.append(f"HTTP {response.status} {response.url}")
            if response.status >= 500
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            phone.errors.append(f"Console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return phone


async def go_to_station(phone: Phone, station: str) -> None:
    await phone.page.goto(station)
    root = phone.page.locator("[data-checkin][data-queue-key]")
    if not await root.count():
        raise Failed(f"{phone.label} is not on the station: {phone.page.url}")
    phone.messages = await root.evaluate("(root) => ({...root.dataset})")
    # The script runs (deferred) before the page is counted as loaded.
    await phone.page.wait_for_load_state("load")


async def serve_share(
    phone: Phone,
    people: list[Person],
    *,
    goes_offline: bool,
    pace: float,
    offline: float,
) -> None:
    offline_at = len(people) // 3 if goes_offline else -1
    offline_until = 0.0
    held: list[Person] = []

    async def back_online() -> None:
        nonlocal offline_until
        items = await phone.queue_items()
        phone.queued.extend((item["code"], item["scanned_at"]) for item in items)
        await phone.context.set_offline(False)
        phone.back_at = time.time()
        phone.offline_seconds = time.monotonic() - (offline_until - offline)
        offline_until = 0.0
        phone.held = len(held)
        for n, person in enumerate(held):
            await phone.serve(person, n, offline=False)
        held.clear()

    for n, person in enumerate(people):
        if n == offline_at:
            await phone.context.set_offline(True)
            offline_until = time.monotonic() + offline
        if offline_until and time.monotonic() >= offline_until:
            await back_online()
        if offline_until and person.kind != "code":
            held.append(person)  # a search or a walk-in needs the network
            continue
        await phone.serve(person, n, offline=bool(offline_until))
        await asyncio.sleep(pace)
    if offline_until:
        await asyncio.sleep(max(0.0, offline_until - time.monotonic()))
        await back_online()
    if goes_offline:
        await phone.drained()
        phone.drained_after = time.time() - phone.back_at


async def sent_from_queue(phone: Phone) -> None:
    """Each queued scan's answer after the network came back: its wait."""
    log = await phone.page.evaluate("window.__checkinLog")
    prefix = phone.messages["msgSentQueued"]
    for name in phone.queued_names:
        entry = next(
            (
                e
                for e in log
                if e["line"] == "queue"
                and e["text"].startswith(prefix)
                and name in e["text"]
                and e["at"] / 1000 >= phone.back_at
            ),
            None,
        )
        if entry is None or not entry["ok"]:
            raise Failed(f"{phone.label}: no answer for the queued scan of {name}")
        phone.samples.append(
            Sample("sent", entry["at"] / 1000 - phone.back_at, entry["in_view"])
        )
    # Did a queued scan's answer replace the answer to the person in front of
    # the phone on the result line before it could be read?
    own = (prefix, phone.messages["msgSending"], phone.messages["msgQueued"])
    lines = [e for e in log if e["line"] == "result"]
    for entry, following in zip(lines, lines[1:], strict=False):
        shown = following["at"] - entry["at"]
        if (
            not entry["text"].startswith(own)
            and following["text"].startswith(prefix)
            and shown < OVERWRITTEN * 1000
        ):
            phone.overwritten.append(shown)


async def replay(phone: Phone) -> None:
    """The first queued scans, put back in the page's queue as if their
    answers had been lost, and sent again: "already checked in"."""
    items = [{"code": c, "scanned_at": s} for c, s in phone.queued[:REPLAYED]]
    names = phone.queued_names[:REPLAYED]
    if not items:
        return
    start = await phone.log_length()
    await phone.page.evaluate(
        """(items) => {
            const key = document.querySelector("[data-checkin]").dataset.queueKey;
            localStorage.setItem(key, JSON.stringify(items));
            window.dispatchEvent(new Event("online"));
        }""",
        items,
    )
    prefix = phone.messages["msgSentQueued"]
    find = """([start, prefix, names]) => names.map((name) =>
        window.__checkinLog.slice(start).find((entry) => entry.line === "queue"
            && entry.text.startsWith(prefix + " " + name)) || null)"""
    await phone.page.wait_for_function(
        f"(args) => ({find})(args).every(Boolean)",
        arg=[start, prefix, names],
        polling=20,
    )
    phone.replays = await phone.page.evaluate(find, [start, prefix, names])


async def drive(site: Door, args: argparse.Namespace) -> tuple[list[Phone], float]:
    from playwright.async_api import async_playwright

    base = f"http://{HOST}:{site.port}"
    queue = list(site.queue)
    random.Random(SEED).shuffle(queue)
    shares = [queue[i::PHONES] for i in range(PHONES)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            phones = [
                await open_phone(browser, playwright, base, label, key)
                for label, key in zip(DEVICES, site.sessions, strict=True)
            ]
            for phone in phones:
                await go_to_station(phone, site.station)
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    serve_share(
                        phone,
                        share,
                        goes_offline=n == PHONES - 1,
                        pace=args.pace,
                        offline=args.offline,
                    )
                    for n, (phone, share) in enumerate(zip(phones, shares, strict=True))
                )
            )
            seconds = time.perf_counter() - started
            for phone in phones:
                await sent_from_queue(phone)
                await replay(phone)
        finally:
            await browser.close()
    return phones, seconds


def overwritten_text(phone: Phone) -> str:
    if not phone.overwritten:
        return (
            "No answer to a check-in at the phone was replaced by a queued "
            f"scan's answer within {OVERWRITTEN:g} s."
        )
    return (
        f"While the queue was sent, {len(phone.overwritten)} answers to the "
        "people in front of the phone were replaced on the result line by a "
        f"queued scan's answer within {OVERWRITTEN:g} s (after "
        f"{min(phone.overwritten):.0f} ms at the least): a refusal there could "
        "go unread."
    )


def run(bench_dir: Path, args: argparse.Namespace) -> list[str]:
    registered = round(args.people * 0.9)
    walkins = args.people - registered
    by_name = registered // 9
    with door(bench_dir, registered, walkins, by_name) as site:
        try:
            phones, seconds = asyncio.run(drive(site, args))
        except Failed as failure:
            raise SystemExit(f"{failure}; stopping.") from failure
    errors = [f"{phone.label}: {error}" for phone in phones for error in phone.errors]
    if errors:
        raise SystemExit(f"The pages failed: {errors[:5]}")
    offline_phone = phones[-1]
    replays = offline_phone.replays
    if len(replays) != min(REPLAYED, len(offline_phone.queued)) or not all(
        entry["ok"] for entry in replays
    ):
        raise SystemExit(f"The replayed scans were not answered: {replays}")
    # The replays recorded nothing: one log entry per person, counted here.
    state = end_state(site.event_id, args.people, walkins, offline_phone.queued)

    kinds = {
        "code": "code typed, Check in / Go",
        "name": "name or phone: Search, Choose, confirm (2 requests)",
        "walkin": "walk-in form: Register and check in",
        "queued": "code while offline: saved on the phone",
        "sent": "queued scan: sent, after the network came back",
    }
    table = []
    samples = [s for phone in phones for s in phone.samples]
    for kind, label in kinds.items():
        times = sorted(s.seconds * 1000 for s in samples if s.kind == kind)
        if not times:
            continue
        seen = sum(1 for s in samples if s.kind == kind and s.in_view)
        table.append(
            f"| {label} | {len(times)} | {statistics.median(times):.0f} | "
            f"{percentile(times, 0.95):.0f} | {times[-1]:.0f} | "
            f"{'–' if kind == 'sent' else seen} |"
        )
    answered = [s for s in samples if s.kind != "sent"]
    hidden = Counter(f"{s.device} {s.kind}" for s in answered if not s.in_view)
    print(f"Answers not on the screen when they came: {dict(hidden) or 'none'}")
    in_view = sum(1 for s in answered if s.in_view)
    per_phone = args.people / PHONES
    facts = machine_facts(site)
    facts["Chromium"] = CHROMIUM
    counts = {kind: sum(1 for s in samples if s.kind == kind) for kind in kinds}
    return [
        "Figures from `.venv/bin/python -m benchmarks.checkin_phones"
        f"{'' if args.people == PEOPLE else f' --people {args.people}'}` "
        "(not in `make bench`, whose set-up installs no Chromium), which "
        "replaces this section on every run. The "
        "set-up is benchmarks.checkin_queue's (gunicorn with "
        f"{WORKERS} sync workers, PostgreSQL, production settings), but the three "
        "phones are real browsers: three Playwright contexts in Chromium emulating "
        f"{', '.join(DEVICES)} (viewport, touch, user agent), each signed in as its "
        "own staff member (a session that proved MFA), each on the event's station "
        "page, tapping its buttons and typing key by key. A queue of "
        f"{args.people} people (shuffled) at an event of {state.capacity} places: "
        f"{registered - by_name} with a code (a quarter read aloud: lower case, "
        f"hyphen, look-alikes; a third of the rest typed with the hyphen; sent "
        f"with the button or the keyboard's Go key), {by_name} found by name or "
        f"by mobile number, chosen and confirmed, {walkins} walk-ins through the "
        f"walk-in form (half with an e-mail address). Each phone takes the next "
        f"person {args.pace:g} s after the last one's answer. The {DEVICES[-1]} "
        f"loses its network for {offline_phone.offline_seconds:.0f} s a third of "
        "the way through and goes on scanning; its names and walk-ins wait.",
        "",
        "A time is from the tap (or Go key) that starts a check-in to the page's "
        "answer in its result line (a MutationObserver stamps the line); "
        "the queued scans' time is from the network coming back to each one's "
        "answer on the queue's line, while the phone goes on with the queue. "
        "'Answer on screen': the line was within the viewport and above the "
        "camera bar when the answer came.",
        "",
        "| check-in | count | p50 (ms) | p95 (ms) | max (ms) | answer on screen |",
        "|---|--:|--:|--:|--:|--:|",
        *table,
        "",
        f"Total: {args.people} people checked in in {seconds:.0f} s of wall time, "
        f"{seconds / per_phone:.2f} s per person per phone (of which "
        f"{args.pace:g} s is the pace of the queue, and the typing). The offline "
        f"phone kept {counts['queued']} scans on the phone and sent them all "
        f"{offline_phone.drained_after:.1f} s after the network came back (each "
        f"dated at its scan time, within {state.worst.total_seconds():.1f} s); "
        f"names and walk-ins that waited for the network: {offline_phone.held}. "
        f"{in_view} of {len(answered)} answers were on the screen when they came "
        "(not scrolled away, not under the camera bar). "
        + overwritten_text(offline_phone),
        "",
        f"End state checked: {state.checked_in} checked in, {state.ledger} "
        f"hours-ledger entries, {state.logged} check-in log entries, each person "
        f"once; {state.walk_ins} walk-ins, {state.confirmed} confirmed of "
        f"{state.capacity} places; the {len(replays)} queued scans sent again "
        "were answered 'already checked in' and recorded nothing.",
        "",
        "### Machine",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=PEOPLE, help="the queue")
    parser.add_argument(
        "--pace", type=float, default=PACE, help="seconds between two people"
    )
    parser.add_argument(
        "--offline", type=float, default=OFFLINE, help="seconds without network"
    )
    parser.add_argument("--no-report", action="store_true", help="print only")
    args = parser.parse_args()
    if args.people < 30:
        parser.error("--people: at least 30")
    if not Path(CHROMIUM).exists():
        # `make test` installs it (scripts/system-deps.sh test), `make bench` not.
        print(f"Check-in (phones) benchmark skipped: no Chromium at {CHROMIUM}")
        return
    started = time.perf_counter()
    try:
        with throwaway_site() as bench_dir:
            lines = run(bench_dir, args)
    except Skip as reason:
        print(f"Check-in (phones) benchmark skipped: {reason}")
        return
    print("\n".join([HEADING, "", *lines]))
    if not args.no_report:
        replace_section(HEADING, lines)
        print(f"Wrote {REPORT.relative_to(BASE_DIR)}")
    print(f"Done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
