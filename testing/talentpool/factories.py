"""Factories for the talent pool."""

import factory

from talentpool.models import Expert, Organisation, Qualification


class OrganisationFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"重庆某某知识产权代理事务所{n}")

    class Meta:
        model = Organisation


class ExpertFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"专家{n}")
    external_id = factory.Sequence(lambda n: f"X{n:05d}")
    email = factory.Sequence(lambda n: f"expert{n}@example.cn")
    phone = "023-6000 0000"

    class Meta:
        model = Expert


class QualificationFactory(factory.django.DjangoModelFactory):
    expert = factory.SubFactory(ExpertFactory)
    licence_number = factory.Sequence(lambda n: f"1500120101{n:07d}")

    class Meta:
        model = Qualification


# --- enterprises and contact requests (helper `contacts`) ----------------------------


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character)."""
    from talentpool.validators import credit_code_check_character

    first17 = f"91500000{n:09d}"
    return first17 + credit_code_check_character(first17)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """A verified enterprise whose registering user is its member."""

    name = factory.Sequence(lambda n: f"重庆某某科技有限公司{n}")
    credit_code = factory.Sequence(credit_code)
    contact_name = "王经理"
    contact_email = factory.Sequence(lambda n: f"contact{n}@enterprise.example")
    contact_phone = "023-6800 1234"
    status = "verified"
    registered_by = factory.SubFactory("testing.factories.UserFactory")

    class Meta:
        model = "talentpool.Enterprise"
        skip_postgeneration_save = True

    @factory.post_generation
    def member(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted is not False:
            from talentpool.models import EnterpriseMember

            EnterpriseMember.objects.create(enterprise=self, user=self.registered_by)


class ContactRequestFactory(factory.django.DjangoModelFactory):
    enterprise = factory.SubFactory(EnterpriseFactory)
    sender = factory.SelfAttribute("enterprise.registered_by")
    expert = factory.SubFactory(ExpertFactory)
    need = "需要专利布局咨询。"

    class Meta:
        model = "talentpool.ContactRequest"
