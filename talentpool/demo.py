"""Demo talent pool for `make run`: the talent search page under the home
page, in the menu, and a few hundred varied experts, listed (verified, public,
with consent to publication) so that the search has something to find.

The experts go in through the same import as a staff member's spreadsheet
(talentpool.services.experts_import), from a CSV made here. The data are
generated from a fixed seed, so every run makes the same people; names use
surnames with special readings (曾 zeng, 单 shan, 仇 qiu, 解 xie) for the
pinyin search. Idempotent: the page is found by type, experts by their
DEMO- external ids; what exists is left alone.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.models import District, HomePage, IPType
from talentpool.models import (
    Expert,
    ExpertCategory,
    Industry,
    Service,
    TalentSearchPage,
    TalentTier,
)
from talentpool.search import experts_reindex
from talentpool.services import experts_import

EXPERT_COUNT = 300
EXTERNAL_ID_PREFIX = "DEMO-"

SURNAMES = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曾"
    "单仇解覃冉谭向邓彭袁蒋"
)
# Surnames whose reading differs from the character's common one get more
# people, so that the pinyin search is seen to handle them.
SPECIAL_SURNAMES = "曾单仇解"
GIVEN_NAMES = (
    "伟",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "红梅",
    "国庆",
    "文博",
    "思远",
    "雨桐",
    "子涵",
    "浩然",
    "欣怡",
    "俊杰",
    "嘉怡",
    "宇航",
    "梓萱",
    "一鸣",
    "晨曦",
    "立新",
    "德明",
    "永红",
    "春生",
    "玉兰",
    "振华",
    "家豪",
    "婉清",
    "明轩",
)
FIRMS = (
    "渝信",
    "巴渝",
    "山城",
    "两江",
    "嘉陵",
    "长江",
    "朝天门",
    "缙云",
    "南山",
    "鹅岭",
    "解放碑",
    "沙坪",
)

# (category, organisation pattern, IP types, services)
PROFILES = {
    "lawyer": (
        "重庆{firm}知识产权律师事务所",
        ["patent", "trademark", "copyright", "trade_secret", "unfair_competition"],
        ["litigation", "legal_advice", "overseas_protection", "licensing"],
    ),
    "notary": (
        "重庆市{firm}公证处",
        ["copyright", "trademark", "patent"],
        ["evidence_notarization", "legal_advice"],
    ),
    "patent_attorney": (
        "重庆{firm}专利代理事务所（普通合伙）",
        ["patent", "ic_layout", "software_copyright"],
        ["agency", "search_analysis", "legal_advice", "compliance"],
    ),
    "trademark_attorney": (
        "重庆{firm}商标代理有限公司",
        ["trademark", "geographical_indication"],
        ["agency", "legal_advice", "overseas_protection"],
    ),
    "evaluator": (
        "重庆{firm}知识产权评议中心",
        ["patent", "ic_layout", "trade_secret"],
        ["deliberation", "search_analysis"],
    ),
    "valuer": (
        "重庆{firm}资产评估有限公司",
        ["patent", "trademark", "copyright"],
        ["valuation", "financing", "licensing"],
    ),
    "foreign_advisor": (
        "重庆{firm}知识产权律师事务所",
        ["patent", "trademark", "trade_secret"],
        ["overseas_protection", "legal_advice", "litigation"],
    ),
    "aid_expert": (
        "重庆市{firm}知识产权维权援助中心",
        ["patent", "trademark", "copyright", "unfair_competition"],
        ["overseas_protection", "legal_advice", "training"],
    ),
    "mediator": (
        "重庆{firm}知识产权纠纷人民调解委员会",
        ["patent", "trademark", "copyright"],
        ["legal_advice", "litigation"],
    ),
    "technical_expert": (
        "重庆{university}",
        ["patent", "ic_layout", "plant_variety", "software_copyright"],
        ["search_analysis", "deliberation", "training"],
    ),
}
UNIVERSITIES = ("大学", "邮电大学", "理工大学", "交通大学", "工商大学", "医科大学")
BIOGRAPHY = (
    "{category}，执业{years}年，熟悉{industries}领域，擅长{services}，"
    "曾为多家重庆企业提供{ip_types}方面的服务。"
)


def _terms(model) -> dict[str, object]:
    return {term.code: term for term in model.objects.all()}


def _rows(rng: random.Random) -> list[list[str]]:
    """The demo experts as import rows (codes in the vocabulary cells)."""
    categories = _terms(ExpertCategory)
    industries = _terms(Industry)
    services = _terms(Service)
    ip_types = _terms(IPType)
    districts = list(District.objects.values_list("code", flat=True))
    tiers = list(TalentTier.objects.values_list("code", flat=True))
    category_codes = [code for code in PROFILES if code in categories]
    rows = []
    for n in range(1, EXPERT_COUNT + 1):
        surname = SPECIAL_SURNAMES[n % 4] if n % 7 == 0 else rng.choice(SURNAMES)
        name = surname + rng.choice(GIVEN_NAMES)
        category = category_codes[n % len(category_codes)]
        pattern, ip_choice, service_choice = PROFILES[category]
        extra = [c for c in category_codes if c != category]
        chosen_categories = [category] + (
            [rng.choice(extra)] if rng.random() < 0.15 else []
        )
        chosen_ip = rng.sample(
            [c for c in ip_choice if c in ip_types], k=min(2, len(ip_choice))
        )
        chosen_services = rng.sample(
            [c for c in service_choice if c in services], k=min(2, len(service_choice))
        )
        chosen_industries = rng.sample(sorted(industries), k=rng.choice((1, 2, 3)))
        years = rng.randint(1, 35)
        organisation = pattern.format(
            firm=rng.choice(FIRMS), university=rng.choice(UNIVERSITIES)
        )
        biography = BIOGRAPHY.format(
            category=categories[category].name_zh,  # type: ignore[attr-defined]  # _terms() values are vocabulary terms
            years=years,
            industries="、".join(
                industries[c].name_zh  # type: ignore[attr-defined]  # _terms() values are vocabulary terms
                for c in chosen_industries
            ),
            services="、".join(
                services[c].name_zh  # type: ignore[attr-defined]  # _terms() values are vocabulary terms
                for c in chosen_services
            ),
            ip_types="、".join(
                ip_types[c].name_zh  # type: ignore[attr-defined]  # _terms() values are vocabulary terms
                for c in chosen_ip
            ),
        )
        languages = ["zh"] + (["en"] if rng.random() < 0.4 else [])
        if rng.random() < 0.1:
            languages.append(rng.choice(["ja", "de", "fr", "ko", "ru"]))
        rows.append(
            [
                f"{EXTERNAL_ID_PREFIX}{n:04d}",
                name,
                ";".join(chosen_categories),
                ";".join(chosen_ip),
                ";".join(chosen_services),
                ";".join(chosen_industries),
                rng.choice(districts) if districts else "",
                organisation,
                ";".join(languages),
                str(years),
                tiers[min(len(tiers) - 1, 2 - years // 12)] if tiers else "",
                # Practising-certificate numbers are public in China.
                f"1500{n:013d}",
                biography,
                # Private: never shown; here so that the privacy of the
                # public pages can be seen with real values present.
                f"demo-expert-{n:04d}@example.cn",
                f"023-6{n:03d} {rng.randint(1000, 9999)}",
            ]
        )
    return rows


HEADER = [
    "external_id",
    "name",
    "category",
    "ip_types",
    "services",
    "industries",
    "district",
    "organization",
    "languages",
    "years_of_practice",
    "talent_tier",
    "license_no",
    "bio",
    "email",
    "phone",
]


def _search_page() -> tuple[TalentSearchPage, bool]:
    existing = TalentSearchPage.objects.first()
    if existing is not None:
        return existing, False
    home = HomePage.objects.first()
    page = TalentSearchPage(
        title="人才库",
        slug="talent",
        show_in_menus=True,
        intro=(
            "重庆市知识产权人才库：律师、公证员、专利和商标代理师、评议专家、"
            "资产评估师、涉外保护顾问、维权援助专家、调解员和技术专家。"
            "联系方式仅在专家同意后向已认证的企业公开。"
        ),
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    return page, True


def _experts() -> int:
    """Import the demo experts that are missing and list them all; the
    number imported."""
    if Expert.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).count() >= (
        EXPERT_COUNT
    ):
        return 0
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(_rows(random.Random(2027)))
    result = experts_import(
        file=io.BytesIO(text.getvalue().encode("utf-8")), filename="demo-experts.csv"
    )
    now = timezone.now()
    rng = random.Random(426)
    demo = Expert.objects.filter(
        external_id__startswith=EXTERNAL_ID_PREFIX, verified_at__isnull=True
    )
    # Demo data only: real experts are verified by a reviewer, and consent
    # is given by the expert (talentpool.services).
    with transaction.atomic():
        for expert in demo:
            expert.verification_status = Expert.Verification.VERIFIED
            expert.verified_at = now - timedelta(days=rng.randint(30, 400))
            expert.last_confirmed_at = now - timedelta(days=rng.randint(0, 330))
            expert.publication_consent_at = expert.verified_at
            expert.accepting_requests = rng.random() < 0.85
            expert.status = Expert.Status.PUBLIC
            expert.save(
                update_fields=[
                    "verification_status",
                    "verified_at",
                    "last_confirmed_at",
                    "publication_consent_at",
                    "accepting_requests",
                    "status",
                ]
            )
    return result.created


def load_demo_content() -> list[str]:
    """Create what is missing; the names of what was created."""
    created: list[str] = []
    if not HomePage.objects.exists():
        return created
    page, new = _search_page()
    if new:
        created.append(f"talent search page {page.url_path}")
    count = _experts()
    if count:
        created.append(f"{count} demo experts")
        experts_reindex(
            expert_ids=Expert.objects.filter(
                external_id__startswith=EXTERNAL_ID_PREFIX
            ).values_list("pk", flat=True)
        )
    from talentpool.contacts.demo import load_contacts_demo

    load_contacts_demo(created)
    return created
