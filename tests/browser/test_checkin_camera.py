"""Check-in with the phone's camera, end to end: a registrant holds the QR code
of their registration in front of the camera of the check-in station and is
checked in, once, however long the code stays in view.

Desktop Chromium has no BarcodeDetector, so this runs the jsQR path (vendored
decoder on the video frames), the one iPhone Safari takes. The camera is
Chromium's fake one, fed a Y4M video of the registrant's QR code; Chromium
loops the file, so the code stays in front of the camera for as long as the
test looks.
"""

import time
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from django.db import connections
from django.urls import reverse

from courses.models import HoursLedgerEntry
from events.models import Registration
from events.registration.qr import registration_qr_png
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import assert_no_serious_axe_violations, sign_in_with_code
from tests.browser.test_checkin_door import (  # noqa: F401 (an autouse fixture)
    PHONE,
    _during_the_event,
    person,
)
from tests.events.factories import EventIndexPageFactory, EventPageFactory, shanghai
from tests.factories import StaffFactory, activate_totp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CODE = "K1QM0XPA"


def write_y4m(path: Path, png: bytes, *, width: int = 640, height: int = 480) -> None:
    """A short YUV4MPEG2 video (4:2:0): white frames with the QR code `png`
    in the middle, as a phone's camera sees a code held up in front of it."""
    from PIL import Image

    code = Image.open(BytesIO(png)).convert("RGB")
    assert code.width <= width and code.height <= height, code.size
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + planes) * 10)


@pytest.fixture
def event(home):
    index = EventIndexPageFactory(parent=home)
    return EventPageFactory(
        parent=index,
        title="4·26 专利检索实务讲座",
        starts_at=shanghai(2027, 4, 26, 0, 30),
        ends_at=shanghai(2027, 4, 26, 3, 0),
        training_hours=Decimal("2"),
        capacity=4,
    )


@pytest.fixture
def registrant(event):
    return person(event, "钱一", CODE)


@pytest.fixture
def qr_video(registrant, tmp_path) -> Path:
    """The video the fake camera shows: the registrant's QR code, as the
    portal sends it (registration_qr_png)."""
    path = tmp_path / "qr-code.y4m"
    write_y4m(path, registration_qr_png(registrant))
    return path


@pytest.fixture
def browser(monkeypatch, qr_video) -> Iterator:
    """conftest's `browser` (see there why it lives inside the test), with a
    fake camera that films `qr_video` and camera access granted without a
    prompt; `new_page` opens its tabs in this one."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={qr_video}",
            ],
        )
        yield browser
        browser.close()
        connections.close_all()


def test_a_qr_code_held_in_front_of_the_camera_checks_the_registrant_in_once(
    new_page, live_site, event, registrant, screenshot
):
    staff = StaffFactory(real_name="组织者王", email="wang@example.org", mfa=False)
    secret = activate_totp(staff)

    tab = new_page(**PHONE)
    address = urlsplit(live_site.url)
    tab.context.grant_permissions(
        ["camera"], origin=f"{address.scheme}://{address.netloc}"
    )
    sign_in_with_code(tab, staff.email, secret)
    station = reverse("events:checkin_event", args=[event.pk])
    tab.goto(station)
    sent = []  # the check-ins the page sends
    tab.on(
        "request",
        lambda request: (
            sent.append(request.url)
            if request.method == "POST" and urlsplit(request.url).path == station
            else None
        ),
    )
    result = tab.locator("[data-checkin-result]")
    # Under Chromium on Linux the page decodes with jsQR, the iPhone's path.
    assert tab.evaluate("'BarcodeDetector' in window") is False

    tab.locator("[data-checkin-scan]").click()
    expect(tab.locator("[data-checkin-video]")).to_be_visible()
    expect(tab.locator("[data-checkin-stop]")).to_be_focused()
    expect(result).to_contain_text("钱一 已签到", timeout=15_000)
    expect(result).to_contain_text(event.title)
    expect(result).to_contain_text("学时")  # the hours credited
    expect(tab.locator("[data-checkin-count]")).to_contain_text("1")
    registrant.refresh_from_db()
    assert registrant.checked_in_at is not None
    assert registrant.checked_in_by == staff
    screenshot(tab, "checkin-camera-phone")
    assert_no_serious_axe_violations(tab)  # with the camera open

    # The code stays in view: one scan, not one a frame or one every few
    # seconds (the page waits 4 seconds before it reads the same code again).
    checked_in_at = registrant.checked_in_at
    answer = result.inner_text()
    time.sleep(6)
    expect(result).to_have_text(answer)  # not "already checked in"
    assert len(sent) == 1, sent
    assert (
        Registration.objects.filter(event=event, checked_in_at__isnull=False).count()
        == 1
    )
    registrant.refresh_from_db()
    assert registrant.checked_in_at == checked_in_at
    assert registrant.checked_in_by == staff
    assert HoursLedgerEntry.objects.filter(user=registrant.user).count() == 1

    tab.locator("[data-checkin-stop]").click()
    expect(tab.locator("[data-checkin-video]")).to_be_hidden()
    expect(tab.locator("[data-checkin-scan]")).to_be_visible()
