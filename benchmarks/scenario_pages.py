"""What the load scenarios read from the portal's pages and send back, shared
by benchmarks.locustfile (Locust's simulated users) and
benchmarks.request_cost (the same requests, one at a time in one process).
Nothing here imports Locust: its gevent patches the standard library.
"""

from __future__ import annotations

import html
import re

# What people type into the talent search (the kinds in relevance.py):
# Chinese terms, traditional characters, pinyin names, names, English.
QUERIES = [
    "律师",
    "专利代理师集成电路",
    "商标律师",
    "生物医药专利",
    "调解",
    "布图设计",
    "商標律師",
    "軟體著作權",
    "zhang wei",
    "Zeng Li",
    "张伟",
    "欧阳明华",
    "trademark lawyer",
    "patent",
    "",
]
FACETS = ["category=lawyer", "category=patent_attorney", "ip_type=patent", ""]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMIT = re.compile(r'action="(/(?:en/)?learning/attempts/\d+/submit/)"')
START = re.compile(r'action="(/(?:en/)?learning/lessons/\d+/quiz/[^"/]+/start/)"')
FIELDSET = re.compile(r'<fieldset class="quiz__question">(.*?)</fieldset>', re.S)
OPTION = re.compile(
    r'<input type="(?:radio|checkbox)" name="(q-[^"]+)" value="([^"]+)"[^>]*>\s*'
    r"<label[^>]*>(.*?)</label>",
    re.S,
)
VIDEO = re.compile(r'data-video="([^"]+)"[^>]*data-heartbeat="([^"]+)"')
COMPLETE = re.compile(
    r'<form method="post" action="([^"]+/complete/)" data-read-to-end '
    r'data-seconds-left="(\d+)"'
)
EXPERT = re.compile(r'href="([^"]*/experts/\d+/)"')


def csrf_token(body: str) -> str:
    match = CSRF.search(body)
    return match.group(1) if match else ""


def quiz_answers(
    page: str, right_answers: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The quiz form's fields ticked with the course's right answers (by the
    question's text, each option by its value or its label)."""
    answers: dict[str, list[str]] = {}
    for fieldset in FIELDSET.findall(page):
        text = html.unescape(fieldset)
        right = next((a for q, a in right_answers.items() if q in text), None)
        for name, value, label in OPTION.findall(fieldset):
            answers.setdefault(name, [])
            if right is not None and (
                value in right or html.unescape(label).strip() in right
            ):
                answers[name].append(value)
    return answers
