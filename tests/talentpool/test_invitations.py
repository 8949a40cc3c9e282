"""Inviting imported experts to claim their profile (issue 15, part 4): staff
invite the unclaimed experts with an e-mail address (a bilingual e-mail with
a signed, expiring link), from the expert listing's bulk action or a form
posting expert ids; the expert signs in or up (the link carried through as
`next`), checks the profile, confirms it and gives consent online, and is
then listed and reachable through the account. Then the attacks: each must
fail and change nothing."""

import re
import types
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wagtail.models import ModelLogEntry

from portal.models import Audience, OutgoingEmail
from talentpool.invitations import services
from talentpool.invitations.links import CLAIM_MAX_AGE, claim_token
from talentpool.models import Expert, ExpertConsent
from tests.factories import StaffFactory, UserFactory
from tests.talentpool.factories import ExpertFactory
from tests.talentpool.helpers import listed_expert, talent_page

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"https?://\S+/contacts/invitations/claim/\S+/")
INVITE_URL = "/admin/talent-pool/invite/"


def in_english(user) -> None:  # type: ignore[no-untyped-def]
    """The admin in English for this user (its Chinese comes with the
    catalogue)."""
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()


@pytest.fixture
def staff(home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    in_english(staff)
    return staff


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def imported() -> dict[str, Expert]:
    """Imported experts: verified, public, consent on paper not yet given."""
    now = timezone.now()
    common = {
        "verification_status": Expert.Verification.VERIFIED,
        "verified_at": now - timedelta(days=30),
    }
    return {
        "unclaimed": ExpertFactory(
            name="未认领", email="wei.ling@example.cn", **common
        ),
        "second": ExpertFactory(name="第二位", email="second@example.cn", **common),
        "claimed": ExpertFactory(name="已认领", user=UserFactory(), **common),
        "no_email": ExpertFactory(name="无邮箱", email="", **common),
    }


def claim_path(expert: Expert) -> str:
    return reverse(
        "contacts:invitations:claim",
        kwargs={"token": claim_token(expert_id=expert.pk, email=expert.email)},
    )


# --- inviting -------------------------------------------------------------------------


def test_invite_experts_sends_to_the_unclaimed_with_an_address(imported, staff):
    ids = [expert.pk for expert in imported.values()] + [999999]
    plan = services.invite_experts(expert_ids=ids, by=staff)
    assert {e.pk for e in plan.invite} == {
        imported["unclaimed"].pk,
        imported["second"].pk,
    }
    assert [e.pk for e in plan.claimed] == [imported["claimed"].pk]
    assert [e.pk for e in plan.no_email] == [imported["no_email"].pk]
    assert plan.unknown == 1 and plan.skipped == 3
    for key in ("unclaimed", "second"):
        expert = Expert.objects.get(pk=imported[key].pk)
        assert expert.invited_at is not None
        email = OutgoingEmail.objects.get(to=[expert.email])
        assert email.sensitive
        assert " / " in email.subject  # Chinese / English
        links = [urlsplit(url).path for url in LINK.findall(email.body)]
        assert len(links) == 2 and links[1].startswith("/en/")
        assert ModelLogEntry.objects.filter(
            object_id=str(expert.pk), action=services.LOG_INVITED, user=staff
        ).exists()
    for key in ("claimed", "no_email"):
        assert Expert.objects.get(pk=imported[key].pk).invited_at is None
    assert OutgoingEmail.objects.count() == 2


@pytest.mark.parametrize(
    "barred",
    [
        {"status": Expert.Status.SUSPENDED, "status_reason": "执业证被暂停"},
        {"status": Expert.Status.REMOVED, "status_reason": "本人要求删除"},
        {"verification_status": Expert.Verification.REJECTED},
    ],
    ids=["suspended", "removed", "rejected"],
)
def test_experts_taken_out_of_the_pool_are_never_invited(
    staff_client, imported, staff, barred
):
    """Staff who select a whole page (or paste an old import's ids) do not
    send a claim link to an expert the office has suspended, removed or
    rejected; the confirmation says so."""
    expert = imported["unclaimed"]
    Expert.objects.filter(pk=expert.pk).update(**barred)
    ids = [expert.pk, imported["second"].pk]
    html = staff_client.post(INVITE_URL, {"id": [str(i) for i in ids]}).content.decode()
    assert "1 expert is skipped" in html
    assert "1 suspended, removed or rejected" in html
    plan = services.invite_experts(expert_ids=ids, by=staff)
    assert [e.pk for e in plan.barred] == [expert.pk]
    assert [e.pk for e in plan.invite] == [imported["second"].pk]
    assert Expert.objects.get(pk=expert.pk).invited_at is None
    assert not OutgoingEmail.objects.filter(to=[expert.email]).exists()


def test_a_link_sent_before_a_suspension_claims_nothing(client, imported):
    expert = imported["unclaimed"]
    path = claim_path(expert)
    Expert.objects.filter(pk=expert.pk).update(
        status=Expert.Status.SUSPENDED, status_reason="执业证被暂停"
    )
    client.force_login(UserFactory())
    response = client.get("/en" + path)
    assert response.status_code == 404
    assert "taken this profile out of the talent pool" in response.content.decode()
    assert client.post(path, {"correct": "on", "consent": "on"}).status_code == 404
    assert Expert.objects.get(pk=expert.pk).user is None
    assert not ExpertConsent.objects.filter(expert=expert).exists()


def test_the_staff_view_confirms_then_invites(staff_client, imported):
    """A form posting ids (as an import's report does) gets a confirmation
    with the counts first; nothing is sent until it is confirmed."""
    ids = [str(expert.pk) for expert in imported.values()]
    response = staff_client.post(INVITE_URL, {"id": ids})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 experts will be invited" in html
    assert "2 experts are skipped" in html
    assert "第二位" in html and "未认领" in html
    # The header's visible trail ends with the page, not with "Home".
    trail = re.search(r'<nav[^>]*aria-label="Breadcrumb".*?</nav>', html, re.S)
    assert trail and "Invite to claim the profile" in trail.group(0)
    assert not OutgoingEmail.objects.exists()
    assert not Expert.objects.filter(invited_at__isnull=False).exists()
    # The confirmation carries only the experts to invite, in one field.
    assert (
        f'name="ids" value="{imported["unclaimed"].pk},{imported["second"].pk}"' in html
        or f'name="ids" value="{imported["second"].pk},{imported["unclaimed"].pk}"'
        in html
    )
    response = staff_client.post(
        INVITE_URL,
        {"id": [imported["unclaimed"].pk, imported["second"].pk], "confirm": "1"},
    )
    assert response.status_code == 302
    assert OutgoingEmail.objects.count() == 2


def test_the_bulk_action_opens_the_confirmation(staff_client, imported):
    url = reverse(
        "wagtail_bulk_action",
        args=("talentpool", "expert", "invite"),
    )
    response = staff_client.get(
        url, {"id": [imported["unclaimed"].pk, imported["claimed"].pk]}
    )
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == INVITE_URL
    assert parse_qs(target.query)["id"] == [
        str(imported["unclaimed"].pk),
        str(imported["claimed"].pk),
    ]
    page = staff_client.get(response["Location"])
    assert page.status_code == 200
    assert not OutgoingEmail.objects.exists()


def test_the_bulk_action_is_on_the_listing(staff_client, imported):
    html = staff_client.get(
        reverse("wagtailsnippets_talentpool_expert:list")
    ).content.decode()
    assert "/admin/bulk/talentpool/expert/invite/" in html


def test_only_staff_who_may_edit_experts_invite(client, imported):
    client.force_login(UserFactory())
    response = client.post(
        INVITE_URL, {"id": [imported["unclaimed"].pk], "confirm": "1"}
    )
    assert response.status_code in (302, 403)
    assert not OutgoingEmail.objects.exists()
    assert Expert.objects.get(pk=imported["unclaimed"].pk).invited_at is None


# --- claiming -------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, imported):
    path = claim_path(imported["unclaimed"])
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "未认领" in html
    assert "wei.ling@example.cn" not in html  # not before signing in
    login = f"{reverse('account_login')}?next="
    assert login in html
    # Signing in with the link as `next` comes back to it.
    user = UserFactory(email="wei@example.org")
    response = client.post(
        f"{reverse('account_login')}?next={path}",
        {"login": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == path
    # A POST before signing in changes nothing and asks to sign in.
    anonymous = Client()
    response = anonymous.post(path, {"correct": "on", "consent": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Expert.objects.get(pk=imported["unclaimed"].pk).user is None


def sign_up(client, *, next_path: str):  # type: ignore[no-untyped-def]
    """The invited expert signs up, from the claim page, as 魏玲."""
    return client.post(
        f"{reverse('account_signup')}?next={next_path}",
        {
            "email": "wei.ling@example.cn",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "real_name": "魏玲",
            "audience": Audience.objects.get(code="ip_practitioner").pk,
            "privacy_consent": "on",
        },
    )


def confirmation_path() -> str:
    """The path of the address-confirmation link e-mailed to the new account."""
    (message,) = [m for m in mail.outbox if "confirm-email" in m.body]
    link = re.search(r"https?://\S+?(/accounts/confirm-email/\S+?/)", message.body)
    assert link, message.body
    return link.group(1)


def test_signing_up_from_the_invitation_comes_back_to_it(
    client, imported, django_capture_on_commit_callbacks
):
    """An invited expert without an account signs up from the claim page,
    confirms the address in the same browser, signs in, and is on the claim
    page again, not on an empty profile."""
    path = claim_path(imported["unclaimed"])
    html = client.get(path).content.decode()
    signup = f"{reverse('account_signup')}?next="
    assert signup in html
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, next_path=path)
    assert response.status_code == 302
    link = confirmation_path()
    response = client.post(link)
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"{reverse('account_login')}?{urlencode({'next': path})}"
    )
    response = client.post(
        response["Location"], {"login": "wei.ling@example.cn", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == path
    assert "wei.ling@example.cn" in client.get(path).content.decode()  # the claim form
    assert client.post(path, {"correct": "on", "consent": "on"}).status_code == 302
    assert Expert.objects.get(pk=imported["unclaimed"].pk).user.email == (
        "wei.ling@example.cn"
    )


def test_a_confirmation_in_another_browser_goes_to_plain_sign_in(
    client, imported, django_capture_on_commit_callbacks
):
    """The `next` is kept in the browser that signed up, not in the link:
    whoever opens the confirmation elsewhere gets allauth's usual way."""
    path = claim_path(imported["unclaimed"])
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, next_path=path)
    link = confirmation_path()
    response = Client().post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")


def test_claiming_links_confirms_and_consents(client, imported, home):
    talent_page(home)
    expert = imported["unclaimed"]
    user = UserFactory(email="wei@example.org")
    client.force_login(user)
    path = claim_path(expert)
    html = client.get(path).content.decode()
    assert "wei.ling@example.cn" in html  # the expert checks the private part too
    assert not Expert.objects.listed().filter(pk=expert.pk).exists()
    # The profile must be confirmed correct.
    response = client.post(path, {"consent": "on"})
    assert response.status_code == 400
    assert Expert.objects.get(pk=expert.pk).user is None
    response = client.post(path, {"correct": "on", "consent": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("expert_applications:profile")
    expert.refresh_from_db()
    assert expert.user == user
    assert expert.last_confirmed_at is not None
    consent = ExpertConsent.objects.get(expert=expert)
    assert consent.given and consent.user == user
    assert consent.method == ExpertConsent.Method.ONLINE
    assert ModelLogEntry.objects.filter(
        object_id=str(expert.pk), action=services.LOG_CLAIMED, user=user
    ).exists()
    # Verified, so now listed, and reachable through the account.
    assert Expert.objects.listed().reachable().filter(pk=expert.pk).exists()
    html = Client().get(f"/en/talent/experts/{expert.pk}/").content.decode()
    assert "Can be contacted through the portal" in html
    # The same link again just leads to the profile.
    response = client.get(path)
    assert response.status_code == 302
    assert ExpertConsent.objects.filter(expert=expert).count() == 1


def test_claiming_without_consent_links_but_does_not_publish(client, imported):
    expert = imported["unclaimed"]
    user = UserFactory()
    client.force_login(user)
    response = client.post(claim_path(expert), {"correct": "on"})
    assert response.status_code == 302
    expert.refresh_from_db()
    assert expert.user == user
    assert expert.publication_consent_at is None
    assert not Expert.objects.listed().filter(pk=expert.pk).exists()


def test_an_already_listed_expert_keeps_the_consent_in_force(client):
    """A paper consent recorded on import is not duplicated."""
    expert = listed_expert(name="已上架", email="listed@example.cn")
    before = expert.publication_consent_at
    client.force_login(UserFactory())
    client.post(claim_path(expert), {"correct": "on", "consent": "on"})
    expert.refresh_from_db()
    assert expert.user is not None
    assert expert.publication_consent_at == before


# --- attacks on claiming -----------------------------------------------------------


def test_a_profile_claimed_by_another_account_is_refused(client, imported):
    expert = imported["unclaimed"]
    first, second = UserFactory(), UserFactory()
    path = claim_path(expert)
    services.expert_claim(token=path.rstrip("/").rsplit("/", 1)[1], user=first)
    client.force_login(second)
    assert (
        "already linked to another account" in client.get("/en" + path).content.decode()
    )
    response = client.post(path, {"correct": "on", "consent": "on"})
    assert response.status_code == 400
    expert.refresh_from_db()
    assert expert.user == first
    assert not ExpertConsent.objects.filter(expert=expert).exists()


def test_an_account_with_another_profile_is_refused(client, imported):
    user = imported["claimed"].user
    client.force_login(user)
    html = client.get("/en" + claim_path(imported["unclaimed"])).content.decode()
    assert "already linked to another expert profile" in html
    assert "wei.ling@example.cn" not in html
    response = client.post(
        claim_path(imported["unclaimed"]), {"correct": "on", "consent": "on"}
    )
    assert response.status_code == 400
    assert Expert.objects.get(pk=imported["unclaimed"].pk).user is None
    with pytest.raises(services.InvitationError):
        services.expert_claim(
            token=claim_path(imported["second"]).rstrip("/").rsplit("/", 1)[1],
            user=user,
        )
    assert Expert.objects.get(pk=imported["second"].pk).user is None


def test_a_tampered_link_claims_nothing(client, imported):
    expert = imported["unclaimed"]
    client.force_login(UserFactory())
    path = claim_path(expert)
    prefix, token, _ = path.rsplit("/", 2)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_kind = signing.dumps({"e": expert.pk}, salt="talentpool.contacts.answer")
    for bad in (forged, "x", token[2:], other_kind):
        url = f"{prefix}/{bad}/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"correct": "on", "consent": "on"}).status_code == 404
    assert Expert.objects.get(pk=expert.pk).user is None


def test_an_expired_link_claims_nothing(client, imported, monkeypatch):
    expert = imported["unclaimed"]
    path = claim_path(expert)
    later = timezone.now() + CLAIM_MAX_AGE + timedelta(minutes=1)
    monkeypatch.setattr(
        signing, "time", types.SimpleNamespace(time=lambda: later.timestamp())
    )
    client.force_login(UserFactory())
    assert client.get(path).status_code == 404
    assert client.post(path, {"correct": "on", "consent": "on"}).status_code == 404
    assert Expert.objects.get(pk=expert.pk).user is None


def test_a_link_to_an_old_address_claims_nothing(client, imported):
    expert = imported["unclaimed"]
    path = claim_path(expert)
    Expert.objects.filter(pk=expert.pk).update(email="new@example.cn")
    client.force_login(UserFactory())
    assert client.post(path, {"correct": "on", "consent": "on"}).status_code == 404
    assert Expert.objects.get(pk=expert.pk).user is None


def test_a_get_claims_nothing_and_a_cross_site_post_is_refused(imported):
    expert = imported["unclaimed"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())
    path = claim_path(expert)
    assert browser.get(path, {"correct": "on", "consent": "on"}).status_code == 200
    assert Expert.objects.get(pk=expert.pk).user is None
    response = browser.post(path, {"correct": "on", "consent": "on"})
    assert response.status_code == 403
    assert Expert.objects.get(pk=expert.pk).user is None


def test_the_report_form_posts_the_ids_to_the_confirmation(staff_client, imported):
    """The include an import's report uses: a form of the ids, which opens
    the confirmation (nothing sent)."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/imports/1/")
    ids = [imported["unclaimed"].pk, imported["no_email"].pk]
    html = render_to_string(
        "talentpool/invitations/admin/invite_form.html",
        {"expert_ids": ids},
        request=request,
    )
    assert f'action="{INVITE_URL}"' in html
    # One field for the ids: an import's thousands stay one form field.
    assert f'name="ids" value="{ids[0]},{ids[1]}"' in html
    assert 'value="/admin/imports/1/"' in html
    response = staff_client.post(
        INVITE_URL, {"ids": f"{ids[0]},{ids[1]}", "next": "/admin/imports/1/"}
    )
    page = response.content.decode()
    assert "1 expert will be invited" in page
    assert 'href="/admin/imports/1/"' in page
    assert not OutgoingEmail.objects.exists()
