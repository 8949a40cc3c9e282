"""A roster file says exactly what it holds, or it is refused: unknown
columns, rows that a later import could not find again, new experts without
a category. A file of new experts only is declared as such. A re-import says
which rows it left as they were."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from django.urls import reverse
from django.utils import translation

from wagtail.users.models import UserProfile

from talentpool.imports import expert_file_check
from talentpool.models import Expert
from talentpool.services import ImportRefused, experts_import
from tests.factories import StaffFactory
from tests.talentpool.factories import ExpertFactory
from tests.talentpool.test_import import GOOD_ROWS, HEADER, csv_file, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")


def errors(rows, **options) -> list:  # type: ignore[no-untyped-def]
    report = expert_file_check(file=csv_file(rows), filename="a.csv", **options)
    return report.errors


def test_an_unknown_column_refuses_the_file_and_names_the_known_ones():
    (error,) = errors([["external_id", "name", "cat"], ["A1", "赵敏", "律师"]])
    line, message = error
    assert line is None
    assert "Unknown columns in line 1: cat." in message
    assert "category" in message and "licence number" in message
    assert not Expert.objects.exists()


def test_serial_number_and_remarks_columns_are_ignored():
    rows = [
        ["序号", "external_id", "name", "category", "备注"],
        ["1", "A1", "赵敏", "律师", "x"],
    ]
    report = expert_file_check(file=csv_file(rows), filename="a.csv")
    assert report.errors == [] and report.rows == 1


def test_a_file_without_ids_is_refused_unless_it_holds_new_experts_only():
    rows = [["name", "category"], ["赵敏", "律师"], ["钱进", "公证员"]]
    (error,) = errors(rows)
    assert "neither an external ID column nor a licence number column" in error[1]

    result = experts_import(file=csv_file(rows), filename="a.csv", create_only=True)
    assert result.created == 2
    assert set(Expert.objects.values_list("name", flat=True)) == {"赵敏", "钱进"}


def test_a_row_without_an_id_is_refused_with_its_line():
    rows = [
        ["external_id", "name", "category", "license_no"],
        ["A1", "赵敏", "律师", ""],
        ["", "钱进", "律师", ""],
        ["", "孙丽", "律师", "15001201010123456"],
    ]
    assert [
        (line, "external ID or a licence number" in message)
        for line, message in errors(rows)
    ] == [(3, True)]
    assert errors(rows, create_only=True) == []


def test_a_new_expert_without_a_category_is_refused():
    rows = [["external_id", "name", "category"], ["A1", "赵敏", ""]]
    assert errors(rows) == [
        (2, "A new expert needs a category: the category is missing.")
    ]


def test_new_experts_only_refuses_a_row_already_in_the_pool():
    ExpertFactory(external_id="A1", name="赵敏")
    rows = [["external_id", "name", "category"], ["A1", "赵敏", "律师"]]
    assert errors(rows, create_only=True) == [
        (
            2,
            "This expert is already in the talent pool: a file of new experts "
            "only cannot update them.",
        )
    ]
    with pytest.raises(ImportRefused):
        experts_import(file=csv_file(rows), filename="a.csv", create_only=True)


def test_an_unchanged_re_import_says_so():
    experts_import(file=csv_file([HEADER, *GOOD_ROWS]), filename="a.csv")
    again = experts_import(file=csv_file([HEADER, *GOOD_ROWS]), filename="a.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


@pytest.fixture
def staff_client(client, home):  # type: ignore[no-untyped-def]
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    # The admin speaks its user's language: English, as the assertions.
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(staff)
    return client


def test_the_admin_imports_a_file_declared_as_new_experts_only(
    staff_client,
    django_capture_on_commit_callbacks,  # the import's tasks, eager on commit
):
    rows = [["name", "category"], ["赵敏", "律师"]]
    file = csv_file(rows)
    file.name = "new.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("wagtailsnippets_talentpool_expert:import"),
            {"file": file, "create_only": "on"},
        )
    preview = staff_client.get(response["Location"]).content.decode()
    assert "Imported as new experts only" in preview
    assert 'name="confirm"' in preview
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(response["Location"], {"confirm": ""})
    done = staff_client.get(response["Location"])  # once the write has run
    assert "1 experts added, 0 updated and 0 unchanged." in done.content.decode()
    assert Expert.objects.get().name == "赵敏"

    # Without the box, the same file is refused and says why.
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, csv_file(rows), "new.csv")
    preview = staff_client.get(response["Location"]).content.decode()
    assert 'name="confirm"' not in preview
    assert "neither an external ID column nor a licence number column" in preview
