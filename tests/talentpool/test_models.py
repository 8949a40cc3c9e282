"""The expert model: what is public, what the database insists on, and the
unified social credit code check."""

import json

import pytest

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.models import District, IPType
from talentpool.models import Expert, ExpertCategory, ExpertStatus, Organisation
from talentpool.services import (
    LOG_STATUS_CHANGED,
    TalentPoolError,
    expert_status_change,
)
from talentpool.validators import (
    credit_code_check_character,
    normalise_credit_code,
    normalise_licence_number,
    validate_credit_code,
)
from tests.factories import StaffFactory
from tests.talentpool.factories import (
    ExpertFactory,
    OrganisationFactory,
    QualificationFactory,
)

pytestmark = pytest.mark.django_db


def test_the_vocabularies_are_seeded_from_the_projects_taxonomy():
    assert ExpertCategory.objects.get(code="patent_attorney").name_zh == "专利代理师"
    assert ExpertCategory.objects.count() == 10
    from talentpool.models import Industry, Language, Service, TalentTier

    assert Service.objects.filter(code="litigation").exists()
    assert Industry.objects.get(code="integrated_circuits").name_zh == "集成电路"
    assert Language.objects.get(code="en").name_zh == "英语"
    assert list(TalentTier.objects.values_list("code", flat=True)) == [
        "leading",
        "backbone",
        "practical",
    ]


def test_public_dict_has_the_public_fields_and_never_contact_details():
    expert = ExpertFactory(
        name="张伟",
        email="zhang.wei@example.cn",
        phone="13800138000",
        biography="专利诉讼",
        years_of_practice=12,
        district=District.objects.get(code="yuzhong"),
        organisation=OrganisationFactory(name="重庆某某律师事务所"),
    )
    expert.categories.set(ExpertCategory.objects.filter(code="lawyer"))
    expert.ip_types.set(IPType.objects.filter(code="patent"))
    QualificationFactory(expert=expert, licence_number="15001201010123456")

    public = expert.public_dict()

    assert set(public) == {
        "id",
        "external_id",
        "name",
        "categories",
        "ip_types",
        "services",
        "industries",
        "languages",
        "district",
        "organisation",
        "years_of_practice",
        "talent_tier",
        "qualifications",
        "biography",
        "accepting_requests",
        "last_confirmed_at",
    }
    assert public["categories"] == [{"code": "lawyer", "zh": "律师", "en": "Lawyer"}]
    assert public["district"]["zh"] == "渝中区"
    assert public["organisation"] == "重庆某某律师事务所"
    assert public["qualifications"][0]["licence_number"] == "15001201010123456"
    text = json.dumps(public, ensure_ascii=False)
    assert "zhang.wei@example.cn" not in text and "13800138000" not in text
    assert "@" not in text


@pytest.mark.parametrize("status", [ExpertStatus.SUSPENDED, ExpertStatus.REMOVED])
def test_the_database_refuses_suspension_or_removal_without_a_reason(status):
    expert = ExpertFactory()
    expert.status = status
    with pytest.raises(IntegrityError), transaction.atomic():
        expert.save()


def test_removing_needs_a_reason_and_is_kept_with_its_history():
    expert = ExpertFactory()
    staff = StaffFactory()
    with pytest.raises(TalentPoolError):
        expert_status_change(expert=expert, status="removed", reason=" ", user=staff)
    expert.refresh_from_db()
    assert expert.status == ExpertStatus.PUBLIC

    expert_status_change(
        expert=expert, status="removed", reason="执业证被吊销", user=staff
    )
    # Twice: the second call changes and logs nothing.
    expert_status_change(
        expert=expert, status="removed", reason="执业证被吊销", user=staff
    )

    expert = Expert.objects.get(pk=expert.pk)
    assert expert.status == ExpertStatus.REMOVED
    assert expert.status_reason == "执业证被吊销" and expert.status_changed_at
    assert not Expert.objects.listed().filter(pk=expert.pk).exists()
    from wagtail.models import ModelLogEntry

    entries = ModelLogEntry.objects.filter(
        object_id=str(expert.pk), action=LOG_STATUS_CHANGED
    )
    assert entries.count() == 1
    assert entries.get().data == {
        "from": "public",
        "to": "removed",
        "reason": "执业证被吊销",
    }


def test_a_licence_number_belongs_to_one_qualification():
    QualificationFactory(licence_number="15001201010123456")
    with pytest.raises(IntegrityError), transaction.atomic():
        QualificationFactory(licence_number="15001201010123456")
    # Blank numbers are not numbers: any number of qualifications may lack one.
    QualificationFactory(licence_number="")
    QualificationFactory(licence_number="")


# --- the unified social credit code (GB 32100-2015) --------------------------


def gb32100_check(first17: str) -> str:
    """The check character computed independently of the code under test:
    weights are 3^i mod 31, the value 31 - (sum mod 31), 31 meaning 0."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return charset[(31 - total % 31) % 31]


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example in GB 32100-2015's annex
        "91110000100017643K",
        "915000002028521" + "29" + gb32100_check("91500000202852129"),
        "12500000MB1234567" + gb32100_check("12500000MB1234567"),
    ],
)
def test_valid_credit_codes_pass(code):
    assert credit_code_check_character(code[:17]) == code[17]
    assert normalise_credit_code(code) == code
    validate_credit_code(code)


def test_a_credit_code_typed_in_full_width_lower_case_is_normalised():
    assert normalise_credit_code("９１３５０１００ｍ０００１００ｙ４３") == (
        "91350100M000100Y43"
    )


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "credit_code_check"),  # wrong check character
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100I43", "credit_code_characters"),  # I is never used
        ("9135AB00M000100Y43", "credit_code_characters"),  # area code not digits
    ],
)
def test_invalid_credit_codes_get_a_clear_message(code, reason):
    with pytest.raises(ValidationError) as error:
        validate_credit_code(code)
    problem = error.value.error_list[0]
    assert problem.code == reason
    assert code in error.value.messages[0]


def test_a_wrong_check_character_message_names_the_right_one():
    with pytest.raises(ValidationError) as error:
        validate_credit_code("91350100M000100Y44")
    assert "GB 32100-2015" in error.value.messages[0]
    assert error.value.error_list[0].params["expected"] == "3"


def test_an_organisation_with_a_wrong_credit_code_does_not_validate():
    organisation = Organisation(name="某某公司", credit_code="91350100M000100Y44")
    with pytest.raises(ValidationError) as error:
        organisation.full_clean()
    assert "credit_code" in error.value.message_dict


def test_licence_numbers_are_normalised_or_refused():
    assert normalise_licence_number(" １５００１２０１０１０１２３４５６ ") == (
        "15001201010123456"
    )
    for bad in ("12", "律师证", "ABCDEFG", "1500-"):
        with pytest.raises(ValidationError):
            normalise_licence_number(bad)
