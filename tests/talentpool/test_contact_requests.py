"""Contact requests with the expert's consent: a verified enterprise asks a
listed expert who accepts requests; the expert accepts (declaring no conflict
of interest) or declines; only then does either side see the other's contact
details, each showing logged. Bad input gets a message and changes nothing."""

import threading
from datetime import datetime, timedelta

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import IPType, OutgoingEmail
from talentpool.contacts import services
from talentpool.models import ContactDisclosure, ContactRequest, Enterprise, Expert
from tests.factories import UserFactory
from tests.talentpool.factories import ContactRequestFactory, EnterpriseFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db

EXPERT_EMAIL = "secret.expert@example.cn"
EXPERT_PHONE = "13912345678"


@pytest.fixture
def expert() -> Expert:
    return listed_expert(
        name="曾伟",
        email=EXPERT_EMAIL,
        phone=EXPERT_PHONE,
        user=UserFactory(email="zeng@example.org", language="en"),
    )


@pytest.fixture
def enterprise() -> Enterprise:
    return EnterpriseFactory(
        name="重庆山城科技有限公司",
        contact_email="wang@shancheng.example",
        contact_phone="023-6700 8888",
    )


def send_url(expert: Expert) -> str:
    """The form's address in Chinese (no prefix); "/en" + it in English."""
    return f"/contacts/experts/{expert.pk}/request/"


def tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def send(client, expert, **data):  # type: ignore[no-untyped-def]
    return client.post(
        send_url(expert), {"need": "需要集成电路布图设计专有权咨询。", **data}
    )


def database_queries(client, url):  # type: ignore[no-untyped-def]
    """The response to `url` and its database queries, not counting the
    shared cache's: without Redis the cache (sessions, the page frame) is a
    database table, with Redis it is not, and the counts hold for both."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    count = len([q for q in context.captured_queries if "portal_cache" not in q["sql"]])
    return response, count


# --- the whole path -------------------------------------------------------------------


def test_request_accept_and_disclose(client, expert, enterprise):
    user = enterprise.registered_by
    client.force_login(user)
    ip_type = IPType.objects.get(code="ic_layout")
    response = send(client, expert, ip_type=str(ip_type.pk), deadline=tomorrow())
    assert response.status_code == 302
    request = ContactRequest.objects.get()
    assert request.status == ContactRequest.Status.PENDING
    assert request.sender == user and request.ip_type == ip_type

    # The expert is e-mailed, in their language, without the enterprise's details.
    email = OutgoingEmail.objects.get(to=["zeng@example.org"])
    assert "Contact request from 重庆山城科技有限公司" in email.subject
    assert "wang@shancheng.example" not in email.body
    assert "/en/contacts/received/" in email.body

    # Before acceptance, neither side sees the other's details.
    sent = client.get(reverse("contacts:sent")).content.decode()
    assert "曾伟" in sent
    assert EXPERT_EMAIL not in sent and EXPERT_PHONE not in sent
    client.force_login(expert.user)
    received = client.get(reverse("contacts:received")).content.decode()
    assert "需要集成电路布图设计专有权咨询。" in received
    assert "wang@shancheng.example" not in received and "6700 8888" not in received
    assert not ContactDisclosure.objects.exists()

    # Accepting without the declaration is refused.
    client.post(reverse("contacts:accept", args=(request.pk,)), {"note": ""})
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.PENDING

    client.post(reverse("contacts:accept", args=(request.pk,)), {"no_conflict": "on"})
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.ACCEPTED
    assert request.no_conflict_declared_at is not None
    accepted_mail = OutgoingEmail.objects.get(to=[user.email])
    assert EXPERT_EMAIL not in accepted_mail.body  # shown only in the portal, logged

    received = client.get(reverse("contacts:received")).content.decode()
    assert "wang@shancheng.example" in received and "023-6700 8888" in received
    client.force_login(user)
    sent = client.get(reverse("contacts:sent")).content.decode()
    assert EXPERT_EMAIL in sent and EXPERT_PHONE in sent

    log = ContactDisclosure.objects.order_by("pk")
    assert [(d.subject, d.viewer) for d in log] == [
        (ContactDisclosure.Subject.ENTERPRISE, expert.user),
        (ContactDisclosure.Subject.EXPERT, user),
    ]
    assert all(d.request == request for d in log)


def test_contact_details_are_never_in_the_public_profile(
    client, home, expert, enterprise
):
    profile = talent_page(home).expert_url(expert.pk)  # in Chinese: no prefix
    ContactRequestFactory(enterprise=enterprise, expert=expert, status="pending")
    for viewer in (None, enterprise.registered_by, UserFactory()):
        if viewer:
            client.force_login(viewer)
        html = client.get(profile).content.decode()
        assert EXPERT_EMAIL not in html and EXPERT_PHONE not in html
    # Signed in for a verified enterprise: the button to ask.
    client.force_login(enterprise.registered_by)
    html = client.get("/en" + profile).content.decode()
    assert f'href="/en{send_url(expert)}"' in html
    assert "Request contact" in html


def test_without_a_profile_e_mail_the_account_e_mail_is_shared(client, enterprise):
    expert = listed_expert(email="", phone="", user=UserFactory(email="li@example.org"))
    ContactRequestFactory(
        enterprise=enterprise,
        expert=expert,
        status="accepted",
        no_conflict_declared_at=timezone.now(),
    )
    client.force_login(enterprise.registered_by)
    sent = client.get(reverse("contacts:sent")).content.decode()
    assert 'href="mailto:li@example.org"' in sent


def test_the_profile_explains_when_a_request_is_not_possible(client, home, expert):
    profile = talent_page(home).expert_url(expert.pk)
    client.force_login(UserFactory())
    html = client.get("/en" + profile).content.decode()
    assert "Only verified enterprises can send contact requests." in html
    assert "Register your enterprise" in html
    expert.accepting_requests = False
    expert.save()
    html = client.get("/en" + profile).content.decode()
    assert "not accepting contact requests at present" in html
    assert send_url(expert) not in html


def test_a_declined_request_shows_nothing(client, expert, enterprise):
    request = ContactRequestFactory(enterprise=enterprise, expert=expert)
    client.force_login(expert.user)
    client.post(reverse("contacts:decline", args=(request.pk,)), {"note": "档期已满"})
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.DECLINED
    email = OutgoingEmail.objects.get(to=[enterprise.registered_by.email])
    assert "档期已满" in email.body
    client.force_login(enterprise.registered_by)
    sent = client.get(reverse("contacts:sent")).content.decode()
    assert EXPERT_EMAIL not in sent
    assert not ContactDisclosure.objects.exists()
    # Once answered, it cannot be accepted.
    with pytest.raises(services.ContactError):
        services.contact_request_accept(
            request_id=request.pk, user=expert.user, no_conflict=True
        )


def test_only_the_addressed_expert_answers(client, expert, enterprise):
    request = ContactRequestFactory(enterprise=enterprise, expert=expert)
    other = listed_expert(user=UserFactory())
    client.force_login(other.user)
    client.post(reverse("contacts:accept", args=(request.pk,)), {"no_conflict": "on"})
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.PENDING


def test_the_enterprise_withdraws_a_pending_request(client, expert, enterprise):
    request = ContactRequestFactory(enterprise=enterprise, expert=expert)
    client.force_login(enterprise.registered_by)
    client.post(reverse("contacts:withdraw", args=(request.pk,)))
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.WITHDRAWN
    # A new one may then be sent.
    assert send(client, expert).status_code == 302


def test_an_expired_request_cannot_be_accepted(expert, enterprise):
    request = ContactRequestFactory(
        enterprise=enterprise,
        expert=expert,
        deadline=timezone.localdate() - timedelta(days=1),
    )
    with pytest.raises(services.ContactError):
        services.contact_request_accept(
            request_id=request.pk, user=expert.user, no_conflict=True
        )
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.EXPIRED


def test_the_nightly_task_expires_requests_past_their_date(expert, enterprise):
    from talentpool.tasks import contact_requests_expire

    late = ContactRequestFactory(
        enterprise=enterprise,
        expert=expert,
        deadline=timezone.localdate() - timedelta(days=1),
    )
    other = EnterpriseFactory()
    due_today = ContactRequestFactory(
        enterprise=other, expert=expert, deadline=timezone.localdate()
    )
    assert contact_requests_expire.delay().get() == 1
    assert contact_requests_expire.delay().get() == 0
    late.refresh_from_db()
    due_today.refresh_from_db()
    assert late.status == ContactRequest.Status.EXPIRED
    assert due_today.status == ContactRequest.Status.PENDING


def test_the_expert_pauses_and_resumes_requests(client, expert, enterprise):
    client.force_login(expert.user)
    client.post(reverse("contacts:pause"), {"paused": "1"})
    expert.refresh_from_db()
    assert not expert.accepting_requests
    client.force_login(enterprise.registered_by)
    response = send(client, expert)
    assert response.status_code == 400
    assert not ContactRequest.objects.exists()
    client.force_login(expert.user)
    client.post(reverse("contacts:pause"), {"paused": "0"})
    expert.refresh_from_db()
    assert expert.accepting_requests


# --- bad input: a message, nothing changed --------------------------------------------


def assert_refused(response, text: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (400, 404)
    assert text in response.content.decode()
    assert not ContactRequest.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_a_user_with_no_enterprise_is_told_to_register(client, expert):
    client.force_login(UserFactory())
    response = client.post(
        "/en" + send_url(expert), {"need": "咨询", "deadline": tomorrow()}
    )
    assert_refused(response, "Only verified enterprises can send contact requests.")


def test_an_unverified_enterprise_cannot_send(client, expert):
    enterprise = EnterpriseFactory(status="pending")
    client.force_login(enterprise.registered_by)
    response = client.post("/en" + send_url(expert), {"need": "咨询"})
    assert_refused(response, "yours is not verified yet")
    with pytest.raises(services.ContactError):
        services.contact_request_send(
            user=enterprise.registered_by, expert=expert, need="咨询"
        )


def test_an_expert_not_listed_cannot_be_asked(client, enterprise):
    hidden = listed_expert(user=UserFactory(), status=Expert.Status.WITHDRAWN)
    client.force_login(enterprise.registered_by)
    response = client.post("/en" + send_url(hidden), {"need": "咨询"})
    assert_refused(response, "not in the talent pool")


def test_a_paused_expert_cannot_be_asked(client, enterprise):
    paused = listed_expert(user=UserFactory(), accepting_requests=False)
    client.force_login(enterprise.registered_by)
    response = client.post("/en" + send_url(paused), {"need": "咨询"})
    assert_refused(response, "not accepting contact requests at present")


def test_a_deadline_in_the_past_is_refused(client, expert, enterprise):
    client.force_login(enterprise.registered_by)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        "/en" + send_url(expert), {"need": "咨询", "deadline": yesterday}
    )
    assert_refused(response, "The date to answer by is in the past.")


def test_an_empty_need_is_refused(client, expert, enterprise):
    client.force_login(enterprise.registered_by)
    response = client.post("/en" + send_url(expert), {"need": "   "})
    assert_refused(response, "This field is required.")


def test_a_second_pending_request_to_the_same_expert_is_refused(
    client, expert, enterprise
):
    client.force_login(enterprise.registered_by)
    assert send(client, expert).status_code == 302
    response = client.post("/en" + send_url(expert), {"need": "再次咨询"})
    assert response.status_code == 400
    assert "already has a request waiting" in response.content.decode()
    assert ContactRequest.objects.count() == 1


def test_the_daily_cap_counts_the_shanghai_day(client, settings, enterprise):
    settings.PORTAL_TALENT_DAILY_REQUESTS = 2
    experts = [listed_expert(user=UserFactory()) for _ in range(4)]
    # Sent yesterday (Shanghai) at 23:30: not counted today.
    old = ContactRequestFactory(enterprise=enterprise, expert=experts[3])
    midnight = services.today_start()
    ContactRequest.objects.filter(pk=old.pk).update(
        created_at=midnight - timedelta(minutes=30)
    )
    client.force_login(enterprise.registered_by)
    assert send(client, experts[0]).status_code == 302
    assert send(client, experts[1]).status_code == 302
    response = client.post("/en" + send_url(experts[2]), {"need": "咨询"})
    assert response.status_code == 400
    assert "its 2 requests for today" in response.content.decode()
    assert ContactRequest.objects.count() == 3
    # The enterprise's own cap overrides the portal's.
    enterprise.daily_request_cap = 3
    enterprise.save()
    assert send(client, experts[2]).status_code == 302


def test_today_starts_at_midnight_in_shanghai():
    start = services.today_start()
    local = timezone.localtime(start)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() == timezone.localdate()
    assert str(local.tzinfo) == "Asia/Shanghai"
    assert isinstance(start, datetime)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sends_cannot_pass_the_cap_or_duplicate(settings):
    """Two sends at once, for the same enterprise: at most one gets through
    when the cap allows one more, and never two pending to the same expert."""
    settings.PORTAL_TALENT_DAILY_REQUESTS = 1
    enterprise = EnterpriseFactory()
    experts = [listed_expert(user=UserFactory()) for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(target: Expert) -> None:
        try:
            barrier.wait(timeout=5)
            services.contact_request_send(
                user=enterprise.registered_by, expert=target, need="咨询"
            )
            outcomes.append("sent")
        except Exception as error:  # refused, or SQLite's lock: both are refusals
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(e,)) for e in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ContactRequest.objects.count() <= 1
    assert outcomes.count("sent") == ContactRequest.objects.count()


# --- the lists: a fixed number of queries ---------------------------------------------


def test_the_sent_list_has_a_fixed_number_of_queries(client, enterprise):
    client.force_login(enterprise.registered_by)
    for status in ("pending", "accepted", "declined"):
        ContactRequestFactory(
            enterprise=enterprise,
            expert=listed_expert(),
            status=status,
            no_conflict_declared_at=timezone.now() if status == "accepted" else None,
        )
    client.get(reverse("contacts:sent"))  # warm the session and the site
    response, count = database_queries(client, reverse("contacts:sent"))
    assert count == 6
    assert response.content.decode().count('class="panel contact-request"') == 3
    for _ in range(3):
        ContactRequestFactory(
            enterprise=enterprise,
            expert=listed_expert(),
            status="accepted",
            no_conflict_declared_at=timezone.now(),
        )
    response, count = database_queries(client, reverse("contacts:sent"))
    assert count == 6
    assert response.content.decode().count('class="panel contact-request"') == 6


def test_the_received_list_has_a_fixed_number_of_queries(client, expert):
    client.force_login(expert.user)
    for status in ("pending", "accepted"):
        ContactRequestFactory(
            expert=expert,
            status=status,
            no_conflict_declared_at=timezone.now() if status == "accepted" else None,
        )
    client.get(reverse("contacts:received"))
    assert database_queries(client, reverse("contacts:received"))[1] == 6
    for _ in range(3):
        ContactRequestFactory(
            expert=expert, status="accepted", no_conflict_declared_at=timezone.now()
        )
    response, count = database_queries(client, reverse("contacts:received"))
    assert count == 6
    assert response.content.decode().count('class="panel contact-request"') == 5
    # Every showing is logged: 1 + 1 accepted before, then 4.
    assert ContactDisclosure.objects.count() == 1 + 1 + 4


# --- the admin: records, read-only ----------------------------------------------------


def test_administrators_read_the_disclosure_log(client, home, expert, enterprise):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import StaffFactory

    request = ContactRequestFactory(
        enterprise=enterprise,
        expert=expert,
        status="accepted",
        no_conflict_declared_at=timezone.now(),
    )
    services.contact_disclosures_record(
        requests=[request], viewer=enterprise.registered_by, subject="expert"
    )
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    log = client.get(reverse("wagtailsnippets_talentpool_contactdisclosure:list"))
    assert log.status_code == 200
    assert str(enterprise.registered_by) in log.content.decode()
    requests = client.get(reverse("wagtailsnippets_talentpool_contactrequest:list"))
    assert "重庆山城科技有限公司" in requests.content.decode()
    disclosure = ContactDisclosure.objects.get()
    delete = client.post(
        reverse(
            "wagtailsnippets_talentpool_contactdisclosure:delete",
            args=(disclosure.pk,),
        )
    )
    assert delete.status_code in (302, 403)
    assert ContactDisclosure.objects.filter(pk=disclosure.pk).exists()
    edit = client.post(
        reverse("wagtailsnippets_talentpool_contactrequest:edit", args=(request.pk,)),
        {"need": "改过"},
    )
    assert edit.status_code in (302, 403)
    request.refresh_from_db()
    assert request.need != "改过"
    inspect = client.get(
        reverse("wagtailsnippets_talentpool_contactrequest:inspect", args=(request.pk,))
    )
    assert inspect.status_code == 200


def test_details_are_never_recorded_as_shown_before_acceptance(expert, enterprise):
    request = ContactRequestFactory(enterprise=enterprise, expert=expert)
    with pytest.raises(services.ContactError):
        services.contact_disclosures_record(
            requests=[request], viewer=enterprise.registered_by, subject="expert"
        )
    assert not ContactDisclosure.objects.exists()


# --- the demo -------------------------------------------------------------------------


def test_the_demo_has_both_sides_and_loads_once(client):
    from talentpool.contacts import demo

    listed_expert(external_id="DEMO-00002", accepting_requests=False)
    linked = listed_expert(external_id="DEMO-00003")
    created: list[str] = []
    demo.load_contacts_demo(created)
    assert created
    again: list[str] = []
    demo.load_contacts_demo(again)
    assert again == []

    enterprise = Enterprise.objects.get(credit_code=demo.ENTERPRISE_CREDIT_CODE)
    assert enterprise.is_verified
    linked.refresh_from_db()
    assert linked.user.email == demo.EXPERT_EMAIL
    # Both logins work as printed in the README, and the sides meet.
    assert client.login(email=demo.ENTERPRISE_EMAIL, password=demo.ENTERPRISE_PASSWORD)
    assert send(client, linked).status_code == 302
    assert client.login(email=demo.EXPERT_EMAIL, password=demo.EXPERT_PASSWORD)
    received = client.get(reverse("contacts:received")).content.decode()
    assert enterprise.name in received
