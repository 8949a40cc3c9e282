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
