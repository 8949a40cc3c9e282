"""The people and things of the permission matrix (test_permission_matrix.py).

One small portal, built once per module: a course with a lesson (a quiz, a
video file) that the learner is enrolled in, a second course nobody of the
matrix is enrolled in, another learner's certificate, an event with the
learner's registration, a listed expert with a user, a verified enterprise
and its pending contact request, certificate artwork, pages behind a
password, one page of every type. And one signed-in test client per role.

Staff roles are groups as an administrator would set them up in Wagtail's
group settings: Wagtail's own "Editors" group (made by its migrations,
named 编辑 by portal 0011), training managers, talent-pool reviewers and
event staff; each signed in with proven MFA and, separately, without an
authenticator.
"""

import io
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import import_module

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from PIL import Image as PILImage

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client
from django.utils import timezone

from wagtail.documents import get_document_model
from wagtail.images.models import Image
from wagtail.models import (
    Collection,
    CollectionViewRestriction,
    GroupPagePermission,
    PageViewRestriction,
    ReferenceIndex,
    Site,
)

from courses import services as course_services
from courses.certificates import services as certificate_services
from courses.ledger import hours_earn
from courses.models import CertificateSettings, TrainingClass
from events.registration import services as registration_services
from portal.models import HomePage
from subscriptions import services as subscription_services
from tests import factories
from tests.courses.factories import (
    CertificateRequestFactory,
    CourseIndexPageFactory,
    CoursePageFactory,
    LessonPageFactory,
    measured,
    paragraph,
    quiz,
    video,
)
from tests.events.factories import (
    CampaignPageFactory,
    EventIndexPageFactory,
    EventPageFactory,
)
from tests.subscriptions.factories import SubscriptionFactory
from tests.talentpool.factories import ContactRequestFactory, EnterpriseFactory
from tests.talentpool.helpers import listed_expert, talent_page

PDF_BYTES = b"%PDF-1.4 certificate of the permission matrix"

# The groups' permissions, as "app_label.codename".
TRAINING_MANAGER = (
    "wagtailadmin.access_admin",
    "courses.view_enrolment",
    "courses.view_certificate",
    "courses.change_certificate",
    "courses.add_certificatebatch",
    "courses.view_certificatebatch",
    "courses.change_certificaterequest",
    "courses.view_hoursledgerentry",
    "courses.add_hoursledgerentry",
    "courses.add_quizattemptgrant",
)
TALENT_POOL_REVIEWER = (
    "wagtailadmin.access_admin",
    "talentpool.view_expert",
    "talentpool.change_expert",
    "talentpool.view_expertapplication",
    "talentpool.change_expertapplication",
    "talentpool.view_enterprise",
    "talentpool.change_enterprise",
)
# Plus "change" on the events' part of the page tree (check-in asks that).
EVENT_STAFF = ("wagtailadmin.access_admin", "events.view_registration")


@dataclass
class Role:
    """One column of the matrix: a client signed in (or not) as one person."""

    name: str
    client: Client
    user: object = None
    # Where a staff member without proven MFA is sent: set up an authenticator
    # (none yet) or enter a code from theirs. None for everyone else.
    mfa_route: str | None = None
    cookies: SimpleCookie = field(default_factory=SimpleCookie)
    session_cache_key: str = ""


def permissions(*names: str) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return found


def group(name: str, perms: tuple[str, ...]) -> Group:
    created = Group.objects.create(name=name)
    created.permissions.add(*permissions(*perms))
    return created


def picture(name: str) -> Image:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), "navy").save(buffer, "PNG")
    return Image.objects.create(title=name, file=ImageFile(buffer, name=f"{name}.png"))


def sign_in(client: Client, user, *, proven: bool) -> None:  # type: ignore[no-untyped-def]
    """force_login; with `proven`, the session also records the MFA stage, as
    a real sign-in with an authenticator does (tests/conftest.py does the same
    for function-scoped clients; this world is built once per module)."""
    client.force_login(user)
    if proven:
        session = client.session
        session["account_authentication_methods_user"] = str(user.pk)
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": time.time()},
            {"method": "mfa", "at": time.time(), "type": "totp"},
        ]
        session.save()


def build() -> dict:
    """Every sample object and every role's client. Returns a dict of both."""
    home = HomePage.objects.get()
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "testserver", 80
    site.save()
    w: dict = {"home": home}

    # --- people ---------------------------------------------------------
    learner = factories.UserFactory(email="learner@example.org")
    other = factories.UserFactory(email="other.learner@example.org")
    enterprise = EnterpriseFactory()
    expert = listed_expert(user=factories.UserFactory(email="expert@example.org"))
    # Wagtail's "Editors", named 编辑 by portal 0011 (an older database may
    # still have the English name).
    editors = Group.objects.get(name__in=["编辑", "Editors"])
    managers = group("Training managers", TRAINING_MANAGER)
    reviewers = group("Talent-pool reviewers", TALENT_POOL_REVIEWER)
    event_staff = group("Event staff", EVENT_STAFF)

    # --- pages ----------------------------------------------------------
    pages = {
        "home": home,
        "standard": factories.StandardPageFactory(parent=home, slug="about"),
    }
    news_index = factories.NewsIndexPageFactory(parent=home)
    pages["news_index"] = news_index
    pages["news"] = factories.NewsPageFactory(parent=news_index, slug="n1")
    notices = factories.NoticeIndexPageFactory(parent=home)
    pages["notice_index"] = notices
    pages["notice"] = factories.NoticePageFactory(parent=notices, slug="no1")
    policies = factories.PolicyIndexPageFactory(parent=home)
    pages["policy_index"] = policies
    pages["policy"] = factories.PolicyDocumentPageFactory(parent=policies, slug="p1")

    lesson_file = get_document_model().objects.create(
        title="课件", file=ContentFile(b"%PDF-1.4 lesson", name="lesson.pdf")
    )
    public_file = get_document_model().objects.create(
        title="公开文件", file=ContentFile(b"%PDF-1.4 public", name="public.pdf")
    )
    lesson_image = picture("lesson-diagram")
    public_image = picture("news-photo")
    artwork = picture("seal")
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue, slug="patents")
    quiz_block = quiz()
    video_block = video(lesson_file)
    measured(lesson_file, 60)  # its heartbeats count against a measured length
    lesson = LessonPageFactory(
        parent=course,
        slug="l1",
        body=[
            paragraph(
                f'流程：</p><embed embedtype="image" id="{lesson_image.pk}" '
                f'format="fullwidth" alt="流程图"/><p>'
            ),
            video_block,
            quiz_block,
        ],
    )
    other_course = CoursePageFactory(parent=catalogue, slug="trademarks")
    other_lesson = LessonPageFactory(parent=other_course, slug="l2")
    pages.update(
        catalogue=catalogue,
        course=course,
        lesson=lesson,
        other_lesson=other_lesson,
    )
    # A public page shows the public image and links the public file.
    news = pages["news"]
    news.image = public_image
    news.body = [paragraph(f'<a linktype="document" id="{public_file.pk}">文件</a>')]
    news.save()
    settings_row = CertificateSettings.load()
    settings_row.seal = artwork
    settings_row.save()
    # The reference index says where each file is used (its tasks run on
    # commit, which never comes inside a test).
    for row in (lesson, news, settings_row):
        ReferenceIndex.create_or_update_for_object(row)

    events = EventIndexPageFactory(parent=home)
    event = EventPageFactory(parent=events, slug="e1")
    pages.update(
        events=events,
        event=event,
        campaign=CampaignPageFactory(parent=home, slug="april-26"),
        talent=talent_page(home),
    )
    GroupPagePermission.objects.create(
        group=event_staff,
        page=events,
        permission=Permission.objects.get(
            content_type__app_label="wagtailcore", codename="change_page"
        ),
    )
    secret_page = factories.StandardPageFactory(parent=home, slug="members")
    restriction = PageViewRestriction.objects.create(
        page=secret_page, restriction_type="password", password="sesame"
    )
    private = Collection.get_first_root_node().add_child(name="私有")
    collection_restriction = CollectionViewRestriction.objects.create(
        collection=private, restriction_type="password", password="sesame"
    )

    # --- records ----------------------------------------------------------
    course_services.enrolment_self(user=learner, course=course)
    # The learner is a trainee of a class of that course (class progress).
    training_class = TrainingClass.objects.create(
        name="2027春季班",
        code="matrix-class",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
    )
    training_class.courses.add(course)
    course_services.training_class_add_member(
        training_class=training_class, user=learner
    )
    attempt = course_services.quiz_attempt_start(
        user=learner, lesson=lesson, quiz_key=quiz_block["id"]
    )
    others_certificate = certificate_services.certificate_issue(
        request_id=CertificateRequestFactory(user=other).pk, render=False
    )[0]
    own_certificate = certificate_services.certificate_issue(
        request_id=CertificateRequestFactory(user=learner).pk, render=False
    )[0]
    # Rendered: each has its PDF (a stand-in; rendering is not the point).
    for certificate in (others_certificate, own_certificate):
        certificate.pdf.save(
            f"{certificate.serial}.pdf", ContentFile(PDF_BYTES), save=False
        )
        certificate.rendered_at = timezone.now()
        certificate.save(update_fields=["pdf", "rendered_at"])
    registration = registration_services.registration_create(user=learner, event=event)
    # The learner's hours: one earned entry (the hours ledger's screens).
    ledger_entry = hours_earn(
        user=learner,
        source_type="event",
        source_key=event.pk,
        title=event.title,
        hours=event.training_hours,
        earned_on=timezone.localdate(),
    )
    SubscriptionFactory(user=learner)
    contact_request = ContactRequestFactory(enterprise=enterprise, expert=expert)

    w.update(
        pages=pages,
        learner=learner,
        other=other,
        expert=expert,
        enterprise=enterprise,
        lesson_file=lesson_file,
        public_file=public_file,
        lesson_image=lesson_image,
        public_image=public_image,
        artwork=artwork,
        quiz_key=quiz_block["id"],
        video_key=video_block["id"],
        attempt=attempt,
        training_class=training_class,
        enrolment=attempt.enrolment,
        others_certificate=others_certificate,
        own_certificate=own_certificate,
        registration=registration,
        ledger_entry=ledger_entry,
        unsubscribe_token=subscription_services.unsubscribe_token(user_id=learner.pk),
        contact_request=contact_request,
        page_restriction=restriction,
        secret_page=secret_page,
        collection_restriction=collection_restriction,
        groups={
            "editor": editors,
            "manager": managers,
            "reviewer": reviewers,
            "events": event_staff,
        },
    )

    # --- one client per role ------------------------------------------------
    roles: list[Role] = [Role("anon", Client())]
    for name, user in (
        ("learner", learner),
        ("enterprise", enterprise.registered_by),
        ("expert", expert.user),
    ):
        roles.append(Role(name, Client(), user))

    def staff(name: str, *, superuser: bool = False, staff_group=None):  # type: ignore[no-untyped-def]
        return factories.UserFactory(
            email=f"{name}@example.org", is_staff=superuser, is_superuser=superuser
        ), staff_group

    people = {
        "editor": lambda n: staff(n, staff_group=editors),
        "manager": lambda n: staff(n, staff_group=managers),
        "reviewer": lambda n: staff(n, staff_group=reviewers),
        "events": lambda n: staff(n, staff_group=event_staff),
        "super": lambda n: staff(n, superuser=True),
    }
    for name, make in people.items():
        # Without an authenticator: every staff power sends them to set one up.
        user, staff_group = make(f"{name}-no-mfa")
        if staff_group:
            user.groups.add(staff_group)
        roles.append(Role(f"{name}-no-mfa", Client(), user, "mfa_activate_totp"))
        # With one, MFA proven in this session.
        user, staff_group = make(name)
        if staff_group:
            user.groups.add(staff_group)
        TOTP.activate(user, generate_totp_secret())
        roles.append(Role(name, Client(), user))
    # A superuser with an authenticator whose session has not entered a code
    # (signed in before setting it up, or a stolen session cookie of a
    # password-only sign-in): sent to enter one.
    unproven = factories.UserFactory(
        email="super-unproven@example.org", is_staff=True, is_superuser=True
    )
    roles.append(Role("super-unproven", Client(), unproven, "mfa_reauthenticate"))

    for role in roles:
        if role.user is not None:
            sign_in(role.client, role.user, proven=role.mfa_route is None)
        role.cookies = SimpleCookie()
        role.cookies.load(role.client.cookies.output(header="", sep=";"))
        if role.user is not None:
            store = import_module(settings.SESSION_ENGINE).SessionStore
            role.session_cache_key = getattr(
                store(role.client.session.session_key), "cache_key", ""
            )
        # Fill the shared cache (the site's frame, menus) once, outside the
        # requests that are rolled back: they then read it as in production.
        role.client.get("/")
        role.client.get("/en/")
    TOTP.activate(unproven, generate_totp_secret())
    w["roles"] = {role.name: role for role in roles}
    return w
