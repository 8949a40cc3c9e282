"""The portal's load scenario for Locust (issue 16); benchmarks.locust_run
sets it up and runs it, one headless run per step of concurrency.

Three kinds of user, each pausing 1–3 s between tasks:

- Official (weight 6): a learner who signs in through the real login form
  (GET for the CSRF token, POST; allauth, e-mail verified, no MFA: that is
  for staff) and goes to My learning, a course, a reading lesson (opening it
  is recorded; once its minimum time is up the page's script completes it
  with a JSON POST, as courses/static/courses/learning.js does), a video
  lesson (the player's heartbeats, each claiming the seconds since the last),
  a quiz (start, answer with the course's own right answers, submit; a
  passed quiz is only read again) and the certificate PDF they own; now and
  then they sign out and in again.
- Enterprise (weight 1): a user of a verified enterprise, signed in the same
  way, searching the talent pool with queries of the kinds people type
  (tests/talentpool/relevance.py), sometimes with a facet or on page 2, and
  opening profiles from the results.
- Visitor (weight 3): home page, the 4·26 campaign page, news and notices
  (index and items), the events list and an event.

Rows are grouped by name (a lesson is one row whatever its address). The
accounts, addresses and answers come from the JSON file that LOCUST_SCENARIO
names; LOCUST_ACCOUNT_OFFSET makes each step sign in with accounts no earlier
step used. Sign-in limits per address and the talent pool's per-user budget
and daily profile cap would refuse one machine's hundreds of users: the
server runs benchmarks.locust_settings, which raises them (its docstring
says which).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

from benchmarks.scenario_pages import (
    COMPLETE,
    EXPERT,
    FACETS,
    QUERIES,
    START,
    SUBMIT,
    VIDEO,
    csrf_token,
    quiz_answers,
)

DATA: dict[str, Any] = (
    json.loads(Path(os.environ["LOCUST_SCENARIO"]).read_text(encoding="utf-8"))
    if os.environ.get("LOCUST_SCENARIO")
    else {}
)
OFFSET = int(os.environ.get("LOCUST_ACCOUNT_OFFSET", "0"))
_learner_numbers = itertools.count(OFFSET)
_enterprise_numbers = itertools.count(OFFSET)


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def form_body(data: dict[str, Any]) -> str:
    """A form as a browser posts it: a field with several values (a quiz's
    check boxes) repeated."""
    return urlencode(data, doseq=True)


# Locust's FastHttpUser (geventhttpclient) rather than HttpUser (requests):
# it takes a fraction of the CPU per request, and here the load generator
# shares the server's two cores.
class SignedIn(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)
    email = ""

    def sign_in(self) -> None:
        """The login form as a browser sends it; a failure if it does not
        sign in (the page after it is the login form again)."""
        with self.client.get(
            "/accounts/login/", name="sign in: form", catch_response=True
        ) as form:
            token = csrf_token(form.text)
            if form.status_code != 200 or not token:
                form.failure(f"login form {form.status_code}, token {bool(token)}")
                return
        with self.client.post(
            "/accounts/login/",
            data=form_body(
                {
                    "login": self.email,
                    "password": DATA["password"],
                    "csrfmiddlewaretoken": token,
                    "next": self.landing,
                }
            ),
            headers=FORM,
            name="sign in: post",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or not response.headers.get(
                "Location", ""
            ).endswith(self.landing):
                response.failure(
                    f"not signed in ({response.status_code} "
                    f"{response.headers.get('Location', '')})"
                )

    def sign_out(self) -> None:
        page = self.client.get("/accounts/logout/", name="sign out: form")
        with self.client.post(
            "/accounts/logout/",
            data=form_body({"csrfmiddlewaretoken": csrf_token(page.text)}),
            headers=FORM,
            name="sign out: post",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign out answered {response.status_code}")
        self.client.cookiejar.clear()

    landing = "/"


class Official(SignedIn):
    """A learner: lessons, quizzes, certificate."""

    weight = 6
    landing = "/learning/"

    def on_start(self) -> None:
        accounts = DATA["learners"]
        self.account = accounts[next(_learner_numbers) % len(accounts)]
        self.email = self.account["email"]
        self.courses = DATA["courses"]
        self.passed: set[str] = set()
        self.videos: dict[str, tuple[str, float, float]] = {}
        self.sign_in()

    def course(self) -> dict:
        return random.choice(self.courses)

    @task(30)
    def my_learning(self) -> None:
        with self.client.get(
            "/learning/", name="my learning", catch_response=True
        ) as response:
            if "/accounts/login/" in response.url:
                response.failure("not signed in")

    @task(20)
    def course_page(self) -> None:
        self.client.get(self.course()["url"], name="course")

    @task(40)
    def reading(self) -> None:
        url = self.course()["lessons"].get("reading")
        if not url:
            return
        page = self.client.get(url, name="lesson: reading")
        match = COMPLETE.search(page.text)
        if match and match.group(2) == "0":
            # learning.js: the end was seen and the minimum time is up.
            with self.client.post(
                match.group(1),
                data="{}",
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "X-CSRFToken": csrf_token(page.text),
                },
                name="lesson: complete (JSON)",
                catch_response=True,
            ) as response:
                if response.status_code != 200 or not response.json().get("ok"):
                    response.failure(f"not completed: {response.text[:200]}")

    @task(20)
    def video(self) -> None:
        url = self.course()["lessons"].get("video")
        if not url:
            return
        now = time.monotonic()
        if url not in self.videos:
            page = self.client.get(url, name="lesson: video")
            match = VIDEO.search(page.text)
            if not match:
                return
            key, beat = html.unescape(match.group(1)), match.group(2)
            self.videos[url] = (beat, 0.0, now)
            self.heartbeat(beat, key, 0.0, 0.0)
            self.video_keys = getattr(self, "video_keys", {})
            self.video_keys[url] = key
            return
        beat, position, last = self.videos[url]
        # What a player at normal speed has played since the last report
        # (it reports every 10 s at most).
        played = position + min(now - last, 10.0)
        self.heartbeat(beat, self.video_keys[url], position, played)
        self.videos[url] = (beat, played, now)

    def heartbeat(self, url: str, key: str, start: float, end: float) -> None:
        page_token = next(
            (c.value for c in self.client.cookiejar if c.name == "csrftoken"), ""
        )
        with self.client.post(
            url,
            data=json.dumps({"video": key, "from": start, "to": end}),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": page_token,
            },
            name="lesson: video heartbeat (JSON)",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.json().get("ok"):
                response.failure(f"heartbeat refused: {response.text[:200]}")

    @task(20)
    def quiz(self) -> None:
        open_courses = [
            c
            for c in self.courses
            if c["lessons"].get("quiz") and c["url"] not in self.passed
        ]
        if not open_courses:
            course = self.course()
            if course["lessons"].get("quiz"):
                self.client.get(course["lessons"]["quiz"], name="lesson: quiz")
            return
        course = random.choice(open_courses)
        page = self.client.get(course["lessons"]["quiz"], name="lesson: quiz")
        if not SUBMIT.search(page.text):
            start = START.search(page.text)
            if not start:
                self.passed.add(course["url"])  # passed earlier
                return
            page = self.client.post(
                start.group(1),
                data=form_body({"csrfmiddlewaretoken": csrf_token(page.text)}),
                headers=FORM,
                name="quiz: start",
            )
        submit = SUBMIT.search(page.text)
        if not submit:
            return
        answers = quiz_answers(page.text, course["answers"])
        time.sleep(random.uniform(1, 3))  # answering takes a moment
        with self.client.post(
            submit.group(1),
            data=form_body({"csrfmiddlewaretoken": csrf_token(page.text), **answers}),
            headers=FORM,
            name="quiz: submit",
            catch_response=True,
        ) as response:
            # Back on the lesson: the attempt's result instead of the form,
            # and (the answers being right) the quiz passed.
            if (
                response.status_code != 200
                or "quiz__form" in response.text
                or "quiz__result" not in response.text
            ):
                response.failure("quiz not accepted")
            elif "message--success" not in response.text:
                response.failure("quiz not passed with the right answers")
            else:
                self.passed.add(course["url"])

    @task(10)
    def certificate(self) -> None:
        with self.client.get(
            f"/certificates/{self.account['certificate']}/download/",
            name="certificate PDF",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                response.failure(f"no PDF ({response.status_code})")

    @task(1)
    def sign_out_and_in(self) -> None:
        """Once in about 140 tasks (some 5 minutes): a session ends and the
        next begins. Signing in hashes the password (Argon2id), the dearest
        request of all; every few tasks would make it the whole load."""
        self.sign_out()
        self.sign_in()


class Enterprise(SignedIn):
    """A verified enterprise's user looking for an expert."""

    weight = 1

    def on_start(self) -> None:
        accounts = DATA["enterprises"]
        self.email = accounts[next(_enterprise_numbers) % len(accounts)]
        self.found: list[str] = []
        self.sign_in()

    @task(3)
    def search(self) -> None:
        query = random.choice(QUERIES)
        facet = random.choice(FACETS)
        params = {"q": query} if query else {}
        if facet:
            key, value = facet.split("=")
            params[key] = value
        if random.random() < 0.2:
            params["page"] = "2"
        with self.client.get(
            DATA["talent"], params=params, name="talent: search", catch_response=True
        ) as response:
            if response.status_code == 404 and params.get("page") == "2":
                response.success()  # fewer than two pages of results
            found = EXPERT.findall(response.text)
            if found:
                self.found = found

    @task(2)
    def profile(self) -> None:
        if self.found:
            url = random.choice(self.found)
        else:
            url = f"{DATA['talent']}experts/{random.choice(DATA['experts'])}/"
        self.client.get(url, name="talent: profile")


class Visitor(FastHttpUser):
    """Someone reading the public pages, not signed in."""

    weight = 3
    wait_time = between(1, 3)

    def pick(self, key: str) -> str | None:
        urls = DATA["visitor"].get(key) or []
        return random.choice(urls) if urls else None

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(3)
    def campaign(self) -> None:
        if url := self.pick("campaigns"):
            self.client.get(url, name="campaign")

    @task(1)
    def news_index(self) -> None:
        if url := self.pick("news_index"):
            self.client.get(url, name="news index")

    @task(2)
    def news(self) -> None:
        if url := self.pick("news"):
            self.client.get(url, name="news item")

    @task(1)
    def notice_index(self) -> None:
        if url := self.pick("notice_index"):
            self.client.get(url, name="notices index")

    @task(1)
    def notice(self) -> None:
        if url := self.pick("notices"):
            self.client.get(url, name="notice")

    @task(2)
    def events(self) -> None:
        if url := self.pick("event_index"):
            self.client.get(url, name="events list")

    @task(1)
    def event(self) -> None:
        if url := self.pick("events"):
            self.client.get(url, name="event")
