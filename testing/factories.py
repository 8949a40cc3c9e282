"""factory_boy factories for users, staff and the site pages, shared by the
suite and the benchmarks."""

import datetime

import factory
import wagtail_factories
from allauth.account.models import EmailAddress

from portal.models import (
    NewsIndexPage,
    NewsPage,
    NoticeIndexPage,
    NoticePage,
    PolicyDocumentPage,
    PolicyIndexPage,
    StandardPage,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    real_name = factory.Sequence(lambda n: f"学员{n}")
    password = factory.django.Password("correct horse battery staple")

    class Meta:
        model = User
        skip_postgeneration_save = True

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted is not False:
            EmailAddress.objects.create(
                user=self, email=self.email, primary=True, verified=True
            )


def activate_totp(user: User) -> str:
    """Give `user` a TOTP authenticator, as every staff member must have; a
    later `client.force_login(user)` then counts as a sign-in that passed the
    MFA stage (tests/conftest.py). Returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


class StaffFactory(UserFactory):
    """A superuser with TOTP set up; `StaffFactory(mfa=False)` for one without."""

    is_staff = True
    is_superuser = True

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted is not False:
            activate_totp(self)


class StandardPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"关于我们 {n}")
    summary = "平台简介"

    class Meta:
        model = StandardPage


class NewsIndexPageFactory(wagtail_factories.PageFactory):
    title = "新闻动态"
    slug = "news"

    class Meta:
        model = NewsIndexPage


class NewsPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"知识产权新闻 {n}")
    # A day later for each item, from far enough back that a whole suite's
    # items stay in the past: feeds leave out items dated after today.
    date = factory.Sequence(
        lambda n: datetime.date(2020, 1, 1) + datetime.timedelta(days=n)
    )
    summary = "新闻摘要"

    class Meta:
        model = NewsPage


class NoticeIndexPageFactory(wagtail_factories.PageFactory):
    title = "通知公告"
    slug = "notices"

    class Meta:
        model = NoticeIndexPage


class NoticePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"关于培训的通知 {n}")
    issuer = "市知识产权局"

    class Meta:
        model = NoticePage


class PolicyIndexPageFactory(wagtail_factories.PageFactory):
    title = "政策文件"
    slug = "policies"

    class Meta:
        model = PolicyIndexPage


class PolicyDocumentPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"知识产权政策 {n}")
    issuer = "重庆市人民政府办公厅"
    issued_date = datetime.date(2015, 5, 22)
    document_number = factory.Sequence(lambda n: f"渝府办发〔2015〕{n}号")

    class Meta:
        model = PolicyDocumentPage
