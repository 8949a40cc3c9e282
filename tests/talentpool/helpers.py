"""Listed experts and the talent search page, for the search page, API and
browser tests."""

from datetime import timedelta

from django.utils import timezone

from portal.models import District, IPType
from talentpool.models import (
    Expert,
    ExpertCategory,
    Industry,
    Language,
    Service,
    TalentSearchPage,
    TalentTier,
)
from talentpool.search import experts_reindex
from tests.talentpool.factories import ExpertFactory, OrganisationFactory

TERMS = {
    "categories": ExpertCategory,
    "ip_types": IPType,
    "services": Service,
    "industries": Industry,
    "languages": Language,
}


def talent_page(home) -> TalentSearchPage:  # type: ignore[no-untyped-def]
    page = TalentSearchPage(title="人才库", slug="talent", show_in_menus=True)
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def listed_expert(
    *,
    organisation: str = "",
    district: str = "",
    tier: str = "",
    confirmed_days_ago: int = 10,
    **fields,
) -> Expert:  # type: ignore[no-untyped-def]
    """A public, verified, consented expert; vocabulary fields take lists of
    codes (categories=["lawyer"]). Reindex before searching."""
    now = timezone.now()
    terms = {key: fields.pop(key) for key in list(fields) if key in TERMS}
    expert = ExpertFactory(
        verification_status=Expert.Verification.VERIFIED,
        verified_at=now - timedelta(days=100),
        publication_consent_at=now - timedelta(days=100),
        last_confirmed_at=now - timedelta(days=confirmed_days_ago),
        organisation=(OrganisationFactory(name=organisation) if organisation else None),
        district=District.objects.get(code=district) if district else None,
        talent_tier=TalentTier.objects.get(code=tier) if tier else None,
        **fields,
    )
    for key, codes in terms.items():
        getattr(expert, key).set(TERMS[key].objects.filter(code__in=codes))
    return expert


def pool() -> dict[str, Expert]:
    """Three listed experts and one withdrawn, indexed."""
    experts = {
        "zeng": listed_expert(
            name="曾伟",
            categories=["patent_attorney"],
            ip_types=["patent", "ic_layout"],
            services=["agency"],
            industries=["integrated_circuits", "electronics"],
            languages=["zh", "en"],
            organisation="重庆某某专利代理事务所",
            district="yuzhong",
            tier="backbone",
            years_of_practice=12,
            biography="从事集成电路领域专利代理十二年。",
            email="zengwei@example.cn",
            phone="13900001111",
            confirmed_days_ago=30,
        ),
        "shan": listed_expert(
            name="单敏",
            categories=["lawyer"],
            ip_types=["trademark"],
            services=["litigation"],
            industries=["automotive"],
            languages=["zh"],
            organisation="重庆某某知识产权律师事务所",
            district="jiangbei",
            years_of_practice=25,
            biography="商标侵权诉讼律师，服务汽车企业。",
            email="shanmin@example.cn",
            phone="023-6300 2222",
            confirmed_days_ago=5,
        ),
        "qiu": listed_expert(
            name="仇磊",
            categories=["lawyer", "mediator"],
            ip_types=["patent"],
            services=["litigation", "legal_advice"],
            industries=["integrated_circuits"],
            languages=["zh"],
            organisation="重庆某某知识产权律师事务所二所",
            district="yuzhong",
            years_of_practice=3,
            biography="专利纠纷调解。",
            email="qiulei@example.cn",
            phone="13900003333",
            confirmed_days_ago=1,
        ),
        "hidden": listed_expert(
            name="解静",
            categories=["patent_attorney"],
            industries=["integrated_circuits"],
            status=Expert.Status.WITHDRAWN,
            email="xiejing@example.cn",
            phone="13900004444",
        ),
    }
    experts_reindex()
    return experts


PRIVATE_VALUES = [
    "zengwei@example.cn",
    "13900001111",
    "shanmin@example.cn",
    "023-6300 2222",
    "qiulei@example.cn",
    "13900003333",
    "@example.cn",
]
