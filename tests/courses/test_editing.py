"""Editors build courses in Wagtail: the forms open, and a quiz that cannot be
answered is refused with a message."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from courses.blocks import QuizQuestionBlock, VideoBlock
from tests.courses.factories import CourseIndexPageFactory, CoursePageFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, home):
    staff = StaffFactory(mfa=False)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return client


def test_course_and_lesson_forms_open_in_the_admin(editor, home):
    catalogue = CourseIndexPageFactory(parent=home)
    course = CoursePageFactory(parent=catalogue)
    course_form = editor.get(f"/admin/pages/add/courses/coursepage/{catalogue.pk}/")
    assert course_form.status_code == 200
    assert "学时" in course_form.content.decode()
    lesson_form = editor.get(f"/admin/pages/add/courses/lessonpage/{course.pk}/")
    assert lesson_form.status_code == 200
    for path in (
        "/admin/snippets/courses/instructor/",
        "/admin/snippets/courses/sharedcontent/",
    ):
        assert editor.get(path).status_code == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {
                "kind": "single",
                "text": "?",
                "options": [
                    {"text": "甲", "correct": True},
                    {"text": "乙", "correct": True},
                ],
            },
            "单选题必须有且只有一个正确选项",
        ),
        (
            {
                "kind": "multiple",
                "text": "?",
                "options": [{"text": "甲", "correct": False}, {"text": "乙"}],
            },
            "至少标记一个正确选项",
        ),
        (
            {
                "kind": "single",
                "text": "?",
                "options": [{"text": "甲", "correct": True}],
            },
            "至少提供两个选项",
        ),
        (
            {"kind": "true_false", "text": "?", "options": [], "true_false_answer": ""},
            "正确还是错误",
        ),
    ],
)
def test_a_question_that_cannot_be_answered_is_refused(value, message):
    from django.core.exceptions import ValidationError

    block = QuizQuestionBlock()
    data = block.to_python(value)
    with pytest.raises(ValidationError) as raised:
        block.clean(data)
    assert message in str(raised.value.block_errors)


def test_a_video_needs_a_file_or_an_embed():
    from django.core.exceptions import ValidationError

    block = VideoBlock()
    with pytest.raises(ValidationError) as raised:
        block.clean(block.to_python({"title": "空视频"}))
    assert "请选择视频文件或填写嵌入地址" in str(raised.value.block_errors)
