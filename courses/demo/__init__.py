"""Demo courses for `make run`: three complete Chinese courses drawn from the
seed's themes, each with reading, video, document and quiz lessons; a
training class; and a demo trainee (README gives the login).

Idempotent: what exists is found by slug, code or e-mail and left alone.
"""

import io
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from wagtail.documents import get_document_model

from courses import media
from courses.demo.certificates import load_certificate_demo
from courses.models import (
    CourseIndexPage,
    CoursePage,
    Instructor,
    LessonPage,
    TrainingClass,
)
from courses.services import training_class_add_member
from portal.models import Audience, District, HomePage, IPType, User

HERE = Path(__file__).resolve().parent
TRAINEE_EMAIL = "trainee@example.org"
TRAINEE_PASSWORD = "Xuexi-2027-demo"


def _id() -> str:
    return str(uuid.uuid4())


def _p(text: str) -> dict:
    return {"type": "paragraph", "value": f"<p>{text}</p>", "id": _id()}


def _h(text: str) -> dict:
    return {"type": "heading", "value": {"text": text, "level": "h2"}, "id": _id()}


def _option(text: str, correct: bool = False) -> dict:
    return {"type": "item", "value": {"text": text, "correct": correct}, "id": _id()}


def _question(
    kind: str, text: str, options=(), answer: str = "", explanation: str = ""
) -> dict:
    return {
        "type": "item",
        "id": _id(),
        "value": {
            "kind": kind,
            "text": text,
            "options": list(options),
            "true_false_answer": answer,
            "explanation": explanation,
        },
    }


def _document(title: str, filename: str, content: bytes):
    Document = get_document_model()
    document = Document.objects.filter(title=title).first()
    if document is None:
        document = Document(title=title)
        document.file.save(filename, ContentFile(content), save=False)
        document.save()
    # Measured now, not by the worker: the demo's video lessons work at once,
    # and a demo loaded before videos were measured gets its lengths too.
    media.media_facts_measure(document_id=document.pk)
    return document


def _handout(spec: dict):
    """The course's handout PDF, rendered by WeasyPrint the first time."""
    title = f"{spec['title']}（讲义）"
    existing = get_document_model().objects.filter(title=title).first()
    if existing:
        return existing
    paragraphs = [b["value"][3:-4] for b in spec["reading"] if b["type"] == "paragraph"]
    return _document(
        title, f"{spec['slug']}-handout.pdf", _handout_pdf(spec["title"], paragraphs)
    )


def _handout_pdf(title: str, paragraphs: list[str]) -> bytes:
    from weasyprint import HTML

    from django.template.loader import render_to_string

    html = render_to_string(
        "portal/demo_policy_pdf.html", {"lines": paragraphs}
    ).replace(
        "重庆市人民政府办公厅关于贯彻落实国家知识产权战略行动计划(2014―2020年)的实施意见",
        title,
    )
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


COURSES: list[dict[str, Any]] = [
    {
        "slug": "ip-basics",
        "title": "知识产权基础",
        "summary": "面向党政领导干部和公务员的知识产权入门课程：知识产权的种类、保护和运用，以及我市知识产权战略的主要任务。",
        "hours": Decimal("2.0"),
        "level": "introductory",
        "ip_types": ["patent", "trademark", "copyright"],
        "audiences": [],
        "reading": [
            _h("什么是知识产权"),
            _p(
                "知识产权是权利人依法就其智力劳动成果享有的专有权利，主要包括专利权、商标权、著作权、植物新品种权、地理标志和集成电路布图设计等。"
            ),
            _h("我市知识产权战略"),
            _p(
                "《重庆市人民政府办公厅关于贯彻落实国家知识产权战略行动计划(2014―2020年)的实施意见》提出，要加快建设知识产权强市，促进知识产权创造、运用、保护、管理和服务。"
            ),
            _p(
                "意见要求加强知识产权人才培养，将知识产权内容纳入干部培训，并建立知识产权人才库。"
            ),
        ],
        "questions": [
            _question(
                "single",
                "以下哪一项不属于知识产权？",
                [
                    _option("专利权", False),
                    _option("商标权", False),
                    _option("房屋所有权", True),
                ],
                explanation="房屋所有权是物权，不属于知识产权。",
            ),
            _question(
                "multiple",
                "知识产权包括哪些？",
                [
                    _option("专利权", True),
                    _option("著作权", True),
                    _option("地理标志", True),
                    _option("债权", False),
                ],
                explanation="专利权、著作权和地理标志都属于知识产权。",
            ),
            _question(
                "true_false",
                "世界知识产权日是每年的4月26日。",
                answer="true",
                explanation="每年4月26日为世界知识产权日。",
            ),
        ],
    },
    {
        "slug": "patent-navigation",
        "title": "专利信息利用与专利导航",
        "summary": "面向企业管理人员和专业技术人员：专利检索、专利分析和专利导航在产业决策中的运用。",
        "hours": Decimal("3.0"),
        "level": "intermediate",
        "ip_types": ["patent", "ic_layout"],
        "audiences": ["enterprise_manager", "technical_staff"],
        "reading": [
            _h("专利信息的价值"),
            _p(
                "专利文献包含了世界上大部分的技术信息。利用专利信息，可以了解技术发展趋势、竞争对手布局和潜在的侵权风险。"
            ),
            _h("专利导航"),
            _p(
                "专利导航以专利信息资源利用和专利分析为基础，把专利运用嵌入产业技术创新、产品创新、组织创新和商业模式创新，引导和支撑产业科学发展。"
            ),
        ],
        "questions": [
            _question(
                "single",
                "专利导航的基础是什么？",
                [
                    _option("专利信息资源利用和专利分析", True),
                    _option("商标注册", False),
                    _option("广告宣传", False),
                ],
                explanation="专利导航以专利信息资源利用和专利分析为基础。",
            ),
            _question(
                "true_false",
                "专利文献只包含法律信息，不包含技术信息。",
                answer="false",
                explanation="专利文献同时包含技术信息和法律信息。",
            ),
            _question(
                "multiple",
                "利用专利信息可以了解：",
                [
                    _option("技术发展趋势", True),
                    _option("竞争对手布局", True),
                    _option("企业员工工资", False),
                ],
                explanation="工资信息不在专利文献中。",
            ),
        ],
    },
    {
        "slug": "enterprise-ip-management",
        "title": "企业知识产权管理规范",
        "summary": "面向企事业单位管理人员：依据《企业知识产权管理规范》建立管理体系，开展贯标认证。",
        "hours": Decimal("2.5"),
        "level": "intermediate",
        "ip_types": ["patent", "trademark", "trade_secret"],
        "audiences": [],
        "reading": [
            _h("为什么要规范管理"),
            _p(
                "企业知识产权管理规范帮助企业将知识产权管理融入研发、采购、生产、销售等各个环节，防范风险，提升竞争力。"
            ),
            _h("贯标的主要步骤"),
            _p(
                "包括调查诊断、体系构建、文件编写、宣贯培训、实施运行、内部审核和管理评审。"
            ),
        ],
        "questions": [
            _question(
                "single",
                "内部审核属于贯标的哪个阶段？",
                [
                    _option("实施运行之后的检查", True),
                    _option("调查诊断之前", False),
                    _option("与贯标无关", False),
                ],
                explanation="内部审核在体系实施运行之后进行。",
            ),
            _question(
                "true_false",
                "商业秘密也是企业知识产权管理的对象。",
                answer="true",
                explanation="商业秘密属于企业知识产权管理的范围。",
            ),
            _question(
                "multiple",
                "知识产权管理应融入哪些环节？",
                [_option("研发", True), _option("采购", True), _option("销售", True)],
                explanation="知识产权管理贯穿企业经营的各个环节。",
            ),
        ],
    },
]


def _lesson(
    course: CoursePage,
    slug: str,
    title: str,
    minutes: int,
    body: list[dict],
    created: list[str],
) -> None:
    if LessonPage.objects.child_of(course).filter(slug=slug).exists():
        return
    lesson = LessonPage(slug=slug, title=title, duration_minutes=minutes, body=body)
    course.add_child(instance=lesson)
    lesson.save_revision().publish()
    created.append(title)


@transaction.atomic
def load_demo_content() -> list[str]:
    created: list[str] = []
    home = HomePage.objects.first()
    catalogue = CourseIndexPage.objects.child_of(home).first()
    if catalogue is None:
        catalogue = CourseIndexPage(
            slug="courses",
            title="课程中心",
            show_in_menus=True,
            intro="知识产权在线课程：学完全部课时并通过测验即可获得学时和培训证书。",
        )
        home.add_child(instance=catalogue)
        catalogue.save_revision().publish()
        created.append(catalogue.title)

    teacher, _ = Instructor.objects.get_or_create(
        name="李明",
        defaults={
            "title": "教授",
            "organisation": "西南政法大学（演示）",
            "biography": "长期从事知识产权法教学与研究。",
        },
    )
    video = _document(
        "演示视频：专利导航概述", "demo-intro.webm", (HERE / "intro.webm").read_bytes()
    )
    captions = _document(
        "演示视频字幕", "demo-intro.vtt", (HERE / "intro.vtt").read_bytes()
    )

    courses = []
    for spec in COURSES:
        course = (
            CoursePage.objects.child_of(catalogue).filter(slug=spec["slug"]).first()
        )
        if course is None:
            course = CoursePage(
                slug=spec["slug"],
                title=spec["title"],
                summary=spec["summary"],
                credit_hours=spec["hours"],
                level=spec["level"],
                pass_mark=60,
                max_attempts=3,
            )
            catalogue.add_child(instance=course)
            course.ip_types.set(IPType.objects.filter(code__in=spec["ip_types"]))
            course.audiences.set(Audience.objects.filter(code__in=spec["audiences"]))
            course.instructors.set([teacher])
            course.save_revision().publish()
            created.append(course.title)
        courses.append(course)
        handout = _handout(spec)
        _lesson(course, "reading", "第一课 课程导读", 15, spec["reading"], created)
        _lesson(
            course,
            "video",
            "第二课 视频讲解",
            5,
            [
                _p("请观看下面的视频。观看达到 90% 即完成本课时。"),
                {
                    "type": "video",
                    "id": _id(),
                    "value": {
                        "title": "专利导航概述（演示）",
                        "video": video.pk,
                        "captions": captions.pk,
                        "embed": None,
                        "transcript": "欢迎学习本课程。专利导航以专利信息为基础，服务产业发展决策。",
                    },
                },
            ],
            created,
        )
        _lesson(
            course,
            "handout",
            "第三课 讲义阅读",
            20,
            [
                _p("请阅读讲义，可以在线查看，也可以下载。"),
                {
                    "type": "pdf",
                    "id": _id(),
                    "value": {"document": handout.pk, "title": ""},
                },
            ],
            created,
        )
        _lesson(
            course,
            "quiz",
            "第四课 课程测验",
            10,
            [
                _p("共三题，得分达到 60 分即为通过，最多可作答三次。"),
                {
                    "type": "quiz",
                    "id": _id(),
                    "value": {
                        "title": "课程测验",
                        "intro": "",
                        "questions": spec["questions"],
                    },
                },
            ],
            created,
        )

    trainee = User.objects.filter(email=TRAINEE_EMAIL).first()
    if trainee is None:
        from allauth.account.models import EmailAddress

        trainee = User.objects.create_user(
            email=TRAINEE_EMAIL,
            password=TRAINEE_PASSWORD,
            real_name="张伟",
            audience=Audience.objects.get(code="enterprise_manager"),
            district=District.objects.get(code="yubei"),
            organisation="重庆某科技有限公司（演示）",
            job_title="知识产权专员",
        )
        EmailAddress.objects.create(
            user=trainee, email=TRAINEE_EMAIL, primary=True, verified=True
        )
        created.append(TRAINEE_EMAIL)
    today = timezone.localdate()
    training_class, made = TrainingClass.objects.get_or_create(
        code="2027-spring-ip",
        defaults={
            "name": "2027年春季知识产权专题培训班",
            "starts_on": today,
            "ends_on": today.replace(year=today.year + 1),
            "description": "面向企业管理人员的知识产权专题培训（演示）。",
        },
    )
    if made:
        training_class.courses.set(courses)
        created.append(training_class.name)
    training_class_add_member(training_class=training_class, user=trainee)
    load_certificate_demo(created)
    return created
