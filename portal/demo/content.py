"""Demo content for `make run`: a home page with news, notices and the policy
library, including the 2015 Chongqing implementation opinions.

Idempotent: each page is found by its slug under its parent and only created
when missing, so running it again changes nothing.
"""

import datetime
import io
import re
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from wagtail.documents.models import Document
from wagtail.models import Page, Site

from portal.models import (
    HomePage,
    NewsIndexPage,
    NewsPage,
    NoticeIndexPage,
    NoticePage,
    PolicyAttachment,
    PolicyDocumentPage,
    PolicyIndexPage,
    SiteSettings,
    StandardPage,
)

OPINIONS_FILE = Path(__file__).with_name("implementation_opinions_2015.txt")
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|\([一二三四五六七八九十]+\))")


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def _heading(text: str, level: str = "h2") -> dict[str, Any]:
    return {"type": "heading", "value": {"text": text, "level": level}}


def opinions_body() -> list[dict[str, Any]]:
    """The implementation opinions as StreamField blocks: 一、 and (一) lines
    become headings, everything else paragraphs."""
    blocks = []
    for line in OPINIONS_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        match = _HEADING.match(line)
        if match and len(line) < 60:
            blocks.append(_heading(line, "h2" if "、" in match.group(1) else "h3"))
        else:
            blocks.append(_paragraph(line))
    return blocks


def _child(parent: Page, model: type[Page], slug: str, **fields: Any) -> Page:
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing is not None:
        return existing
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def _opinions_pdf() -> bytes | None:
    """The opinions as a PDF attachment, rendered by WeasyPrint."""
    from weasyprint import HTML

    from django.template.loader import render_to_string

    lines = [
        line
        for line in OPINIONS_FILE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    html = render_to_string("portal/demo_policy_pdf.html", {"lines": lines})
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


@transaction.atomic
def load_demo_content() -> list[str]:
    """Create what is missing of the demo site; return the titles created."""
    created: list[str] = []
    home = HomePage.objects.first()
    if home is None:
        raise RuntimeError("The home page is missing: run migrate first.")
    site = Site.objects.get(is_default_site=True)
    settings = SiteSettings.for_site(site)
    if not settings.address:
        settings.address = "重庆市渝北区（演示地址）"
        settings.phone = "023-00000000"
        settings.email = "contact@example.org"
        settings.icp_record = "渝ICP备00000000号（演示）"
        settings.save()

    def child(parent: Page, model: type[Page], slug: str, **fields: Any) -> Page:
        before = model.objects.child_of(parent).filter(slug=slug).exists()
        page = _child(parent, model, slug, **fields)
        if not before:
            created.append(page.title)
        return page

    child(
        home,
        StandardPage,
        "about",
        title="关于平台",
        show_in_menus=True,
        summary="本平台依据《重庆市人民政府办公厅关于贯彻落实国家知识产权战略行动计划(2014―2020年)的实施意见》建设。",
        body=[
            _paragraph(
                "平台面向党政领导干部、公务员、企事业单位管理人员、专业技术人员、文学艺术创作人员和教师，"
                "提供知识产权在线培训、学时记录与培训证书；发布知识产权新闻、通知公告和政策文件；"
                "并建设全市知识产权人才库，帮助企业找到经过审核的律师、公证员、专利代理师和评议专家。"
            ),
        ],
    )
    news_index = child(
        home,
        NewsIndexPage,
        "news",
        title="新闻动态",
        show_in_menus=True,
        intro="全市知识产权工作动态。",
    )
    notices = child(
        home, NoticeIndexPage, "notices", title="通知公告", show_in_menus=True
    )
    policies = child(
        home,
        PolicyIndexPage,
        "policies",
        title="政策文件",
        show_in_menus=True,
        intro="知识产权相关的法规、规章和规范性文件。可按关键词、发文机关和年份查找。",
    )

    news_items = [
        # Dated in the past, as news is: a feed leaves out what is dated ahead.
        (
            "world-ip-day-2026",
            datetime.date(2026, 4, 26),
            "“4·26”世界知识产权日宣传周活动启动",
            "全市各区县同步开展知识产权宣传周活动，围绕知识产权保护与运用举办讲座、展览和咨询。",
        ),
        (
            "training-base",
            datetime.date(2026, 10, 15),
            "国家知识产权培训（重庆）基地开展专题培训",
            "面向企业管理人员和专业技术人员的专利布局与运营专题培训班顺利结业。",
        ),
        (
            "talent-pool",
            datetime.date(2026, 9, 1),
            "市知识产权人才库启动入库申报",
            "律师、公证员、专利代理师、知识产权评议专家等可在线申请入库，经审核后向企业公开服务信息。",
        ),
    ]
    for slug, date, title, summary in news_items:
        child(
            news_index,
            NewsPage,
            slug,
            title=title,
            date=date,
            summary=summary,
            source="市知识产权局",
            body=[_paragraph(summary)],
        )

    notice_items = [
        (
            "training-2027-spring",
            datetime.date(2026, 11, 20),
            True,
            "关于举办2027年春季知识产权专题培训班的通知",
            "各区县知识产权管理部门：为深入实施知识产权战略，定于2027年3月举办知识产权专题培训班，请按要求组织报名。",
        ),
        (
            "talent-pool-application",
            datetime.date(2026, 9, 1),
            False,
            "关于开展知识产权人才库入库申报工作的通知",
            "符合条件的专业人员可登录本平台提交入库申请，材料经审核通过后入库。",
        ),
    ]
    for slug, date, important, title, text in notice_items:
        child(
            notices,
            NoticePage,
            slug,
            title=title,
            date=date,
            is_important=important,
            issuer="市知识产权局",
            body=[_paragraph(text)],
        )

    opinions = child(
        policies,
        PolicyDocumentPage,
        "chongqing-implementation-opinions-2015",
        title="重庆市人民政府办公厅关于贯彻落实国家知识产权战略行动计划(2014―2020年)的实施意见",
        document_number="渝府办发〔2015〕83号",
        issuer="重庆市人民政府办公厅",
        issued_date=datetime.date(2015, 5, 22),
        summary="提出到2020年全市知识产权发展目标，部署知识产权创造、运用、保护、国际合作和能力建设等工作重点，"
        "包括知识产权培训、人才库建设和“4·26”世界知识产权日宣传。",
        body=opinions_body(),
    )
    child(
        policies,
        PolicyDocumentPage,
        "state-council-action-plan-2014",
        title="国务院办公厅关于转发知识产权局等单位深入实施国家知识产权战略行动计划(2014—2020年)的通知",
        document_number="国办发〔2014〕64号",
        issuer="国务院办公厅",
        issued_date=datetime.date(2014, 12, 10),
        summary="部署2014—2020年深入实施国家知识产权战略的主要行动和保障措施。",
        body=[_paragraph("本文件全文请见中国政府网。本条为演示内容，仅收录摘要。")],
    )
    if not PolicyAttachment.objects.filter(page=opinions).exists():
        pdf = _opinions_pdf()
        if pdf:
            document = Document(title="实施意见（PDF）")
            document.file.save(
                "chongqing-implementation-opinions-2015.pdf",
                ContentFile(pdf),
                save=False,
            )
            document.save()
            PolicyAttachment.objects.create(
                page=opinions, document=document, title="实施意见全文（PDF）"
            )
            opinions.save_revision().publish()
    return created
