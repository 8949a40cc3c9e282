"""A real SMTP server for tests (aiosmtpd, a dev dependency) that records
what reaches it: the sessions (one per connection) and each message with its
recipients. `answer` decides how a recipient is answered: None accepts it,
or an SMTP reply such as "451 4.7.1 Try again later" refuses it.

Used by tests/portal/test_email_batches.py and benchmarks/email_delivery.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """aiosmtpd handler: counts sessions, keeps messages, answers recipients
    through `answer(address, times_seen)`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions = 0
        #: (recipients, raw message) per message accepted.
        self.messages: list[tuple[list[str], bytes]] = []
        self.seen: Counter[str] = Counter()
        self.answer: Callable[[str, int], str | None] = lambda address, seen: None
        #: Called with the number of messages accepted so far; a reply closes
        #: nothing but answers DATA with it (e.g. "421 closing").
        self.data_answer: Callable[[int], str | None] = lambda count: None
        #: time.monotonic() of the last message accepted.
        self.last_at = 0.0

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: Any
    ) -> Any:
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            self.seen[address] += 1
            reply = self.answer(address, self.seen[address])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        with self.lock:
            reply = self.data_answer(len(self.messages))
            if reply:
                return reply
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
            self.last_at = time.monotonic()
        return "250 Message accepted for delivery"

    def delivered(self) -> Counter[str]:
        """How many messages reached each recipient."""
        with self.lock:
            return Counter(
                address for recipients, _ in self.messages for address in recipients
            )

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(message_from_bytes(raw)["Subject"]) for _, raw in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A running server on 127.0.0.1: (its handler, its port)."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
