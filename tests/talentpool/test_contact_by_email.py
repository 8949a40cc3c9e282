"""A contact request to an expert without an account (issue 15, part 3): the
request is sent as to any expert, and the expert receives it at their own
address, in Chinese then English, with a signed link that expires. The link
opens the request without signing in; the expert accepts (only after
declaring no conflict of interest) or declines with a note, through the same
services as on the received-requests page, and is offered to claim the
profile. Then the attacks: each must fail and change nothing."""

import re
import types
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from django.core import signing
from django.test import Client
from django.utils import timezone

from portal.models import OutgoingEmail
from talentpool.contacts import services
from talentpool.invitations.links import ANSWER_MAX_AGE, answer_token
from talentpool.models import ContactDisclosure, ContactRequest, Expert
from tests.talentpool.factories import EnterpriseFactory
from tests.talentpool.helpers import listed_expert

pytestmark = pytest.mark.django_db

ADDRESS = "wu.mail@example.cn"
NEED = "需要集成电路布图设计专有权咨询。"
LINK = re.compile(r"https?://\S+/contacts/requests/\d+/answer/\S+/")


@pytest.fixture
def expert() -> Expert:
    return listed_expert(name="吴敏", email=ADDRESS, phone="13900002222")


@pytest.fixture
def enterprise():
    return EnterpriseFactory(name="重庆山城科技有限公司")


def send(enterprise, expert, **fields) -> ContactRequest:
    return services.contact_request_send(
        user=enterprise.registered_by, expert=expert, need=NEED, **fields
    )


def links_in(email: OutgoingEmail) -> list[str]:
    return [urlsplit(url).path for url in LINK.findall(email.body)]


@pytest.fixture
def sent(enterprise, expert) -> tuple[ContactRequest, str]:
    """A request sent; the path of the link in the e-mail (Chinese)."""
    contact_request = send(enterprise, expert)
    email = OutgoingEmail.objects.get(to=[ADDRESS])
    return contact_request, links_in(email)[0]


def status(contact_request: ContactRequest) -> str:
    contact_request.refresh_from_db()
    return contact_request.status


# --- the path an expert takes ---------------------------------------------------------


def test_the_request_reaches_the_expert_by_email(enterprise, expert):
    contact_request = send(enterprise, expert)
    assert contact_request.status == ContactRequest.Status.PENDING
    email = OutgoingEmail.objects.get(to=[ADDRESS])
    # Chinese first, English second; the need, never the enterprise's details.
    assert " / " in email.subject
    assert email.body.count(NEED) == 2
    links = links_in(email)
    assert len(links) == 2
    assert not links[0].startswith("/en/") and links[1].startswith("/en/")
    assert enterprise.contact_email not in email.body
    assert enterprise.contact_phone not in email.body
    # It carries a link that answers for the expert: the outbox hides it.
    assert email.sensitive


def test_the_link_opens_the_request_and_a_get_changes_nothing(client, sent):
    contact_request, link = sent
    response = client.get(link)
    assert response.status_code == 200
    html = response.content.decode()
    assert NEED in html
    assert 'name="accept-no_conflict"' in html
    # The link's secret goes to no other site in a Referer header.
    assert response["Referrer-Policy"] == "same-origin"
    # The page offers to claim the profile.
    assert "/contacts/invitations/claim/" in html
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_accepting_needs_the_declaration(client, sent):
    contact_request, link = sent
    response = client.post(link, {"action": "accept", "accept-note": "可以"})
    assert response.status_code == 400
    assert status(contact_request) == ContactRequest.Status.PENDING
    assert contact_request.no_conflict_declared_at is None


def test_accepting_shares_details_through_the_logged_page(client, sent, enterprise):
    contact_request, link = sent
    response = client.post(
        link,
        {"action": "accept", "accept-no_conflict": "on", "accept-note": "欢迎来电"},
    )
    assert response.status_code == 302
    contact_request.refresh_from_db()
    assert contact_request.status == ContactRequest.Status.ACCEPTED
    assert contact_request.no_conflict_declared_at is not None
    assert contact_request.response_note == "欢迎来电"
    # The enterprise is told by e-mail, without the expert's details ...
    told = OutgoingEmail.objects.get(to=[enterprise.registered_by.email])
    assert ADDRESS not in told.body
    # ... and sees them on its page, each showing logged.
    sender = Client()
    sender.force_login(enterprise.registered_by)
    html = sender.get("/en/contacts/sent/").content.decode()
    assert ADDRESS in html
    assert ContactDisclosure.objects.filter(
        request=contact_request, viewer=enterprise.registered_by
    ).exists()
    # The expert's page now says it was accepted, and offers no form.
    html = client.get(link).content.decode()
    assert 'name="accept-no_conflict"' not in html


def test_declining_with_a_note(client, sent, enterprise):
    contact_request, link = sent
    response = client.post(link, {"action": "decline", "decline-note": "时间不便"})
    assert response.status_code == 302
    contact_request.refresh_from_db()
    assert contact_request.status == ContactRequest.Status.DECLINED
    assert contact_request.response_note == "时间不便"
    assert OutgoingEmail.objects.filter(to=[enterprise.registered_by.email]).exists()


def test_a_request_past_its_date_expires_instead(client, enterprise, expert):
    contact_request = send(
        enterprise, expert, deadline=timezone.localdate() + timedelta(days=1)
    )
    link = links_in(OutgoingEmail.objects.get(to=[ADDRESS]))[0]
    ContactRequest.objects.filter(pk=contact_request.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    client.post(link, {"action": "accept", "accept-no_conflict": "on"})
    assert status(contact_request) == ContactRequest.Status.EXPIRED


def test_an_expert_with_an_account_is_still_asked_in_the_portal(enterprise):
    from tests.factories import UserFactory

    user = UserFactory(email="has.account@example.org")
    expert = listed_expert(name="有账号", email=ADDRESS, user=user)
    send(enterprise, expert)
    email = OutgoingEmail.objects.get(to=[user.email])
    assert "/contacts/received/" in email.body
    assert not LINK.search(email.body)
    assert not OutgoingEmail.objects.filter(to=[ADDRESS]).exists()


# --- attacks: each fails and changes nothing ---------------------------------------


def test_a_tampered_link_answers_nothing(client, sent):
    contact_request, link = sent
    prefix, token, _ = link.rsplit("/", 2)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, token.replace(":", ""), "x", token[1:]):
        url = f"{prefix}/{bad}/"
        assert client.get(url).status_code == 404
        response = client.post(url, {"action": "accept", "accept-no_conflict": "on"})
        assert response.status_code == 404
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_an_expired_link_answers_nothing(client, sent, monkeypatch):
    contact_request, link = sent
    later = timezone.now() + ANSWER_MAX_AGE + timedelta(minutes=1)
    monkeypatch.setattr(
        signing, "time", types.SimpleNamespace(time=lambda: later.timestamp())
    )
    assert client.get(link).status_code == 404
    response = client.post(link, {"action": "accept", "accept-no_conflict": "on"})
    assert response.status_code == 404
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_a_link_for_another_request_answers_nothing(client, sent, expert):
    contact_request, link = sent
    other = send(EnterpriseFactory(), expert)
    # The first request's token on the second request's address.
    token = link.rstrip("/").rsplit("/", 1)[1]
    url = f"/contacts/requests/{other.pk}/answer/{token}/"
    assert client.get(url).status_code == 404
    client.post(url, {"action": "accept", "accept-no_conflict": "on"})
    assert status(other) == ContactRequest.Status.PENDING
    # A token signed for another expert, on this request's address.
    stranger = listed_expert(name="别人", email="someone@example.cn")
    token = answer_token(
        request_id=contact_request.pk, expert_id=stranger.pk, email=stranger.email
    )
    url = f"/contacts/requests/{contact_request.pk}/answer/{token}/"
    client.post(url, {"action": "accept", "accept-no_conflict": "on"})
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_an_invitation_link_is_no_answer_link(client, sent, expert):
    """A signed value of another kind (the claim link's salt) is refused."""
    from talentpool.invitations.links import claim_token

    contact_request, _ = sent
    token = claim_token(expert_id=expert.pk, email=expert.email)
    url = f"/contacts/requests/{contact_request.pk}/answer/{token}/"
    client.post(url, {"action": "accept", "accept-no_conflict": "on"})
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_a_used_link_answers_nothing_more(client, sent):
    contact_request, link = sent
    client.post(link, {"action": "decline", "decline-note": "不便"})
    assert status(contact_request) == ContactRequest.Status.DECLINED
    response = client.post(link, {"action": "accept", "accept-no_conflict": "on"})
    assert response.status_code == 400
    assert status(contact_request) == ContactRequest.Status.DECLINED


def test_a_link_to_an_old_address_answers_nothing(client, sent, expert):
    """Staff corrected the expert's address: the link sent to the old one
    no longer works."""
    contact_request, link = sent
    Expert.objects.filter(pk=expert.pk).update(email="new.address@example.cn")
    assert client.get(link).status_code == 404
    client.post(link, {"action": "accept", "accept-no_conflict": "on"})
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_a_forged_cross_site_post_is_refused(sent):
    contact_request, link = sent
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(link).status_code == 200
    response = browser.post(link, {"action": "accept", "accept-no_conflict": "on"})
    assert response.status_code == 403
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_an_unknown_action_changes_nothing(client, sent):
    contact_request, link = sent
    response = client.post(link, {"action": "withdraw"})
    assert response.status_code == 400
    assert status(contact_request) == ContactRequest.Status.PENDING


def test_an_unreachable_expert_is_refused_by_the_service(enterprise):
    expert = listed_expert(name="无邮箱", email="")
    with pytest.raises(services.ContactError):
        send(enterprise, expert)
    assert not ContactRequest.objects.exists()
    assert not OutgoingEmail.objects.exists()
