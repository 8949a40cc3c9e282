"""A relevance set for the expert search: experts with controlled names,
organisations, biographies and vocabularies, and queries of every kind the
issue names with the experts that should come first, graded 3 (exactly what
was asked), 2 (a good answer) or 1 (acceptable).

Used by tests/talentpool/test_search_quality.py (which asserts the targets)
and benchmarks/talentpool.py (which reports nDCG@10 per kind). The filler
experts share words with the wanted ones (law firms, patents, other
industries, homophone names), so that a search that merely matches some
words scores badly.
"""

import datetime
import math
import random
from collections.abc import Callable

# key: (name, organisation, biography, categories, ip_types, services, industries)
EXPERTS: dict[str, tuple[str, str, str, list[str], list[str], list[str], list[str]]] = {
    "zhang_wei": (
        "张伟",
        "重庆某某知识产权律师事务所",
        "执业十年，代理商标侵权诉讼。",
        ["lawyer"],
        ["trademark"],
        ["litigation"],
        ["ecommerce"],
    ),
    "zhang_wei_2": (
        "章伟",
        "重庆某某专利代理事务所",
        "专利申请代理。",
        ["patent_attorney"],
        ["patent"],
        ["agency"],
        ["automotive"],
    ),
    "zhang_ming": (
        "张明",
        "重庆某某会计师事务所",
        "知识产权资产评估。",
        ["valuer"],
        ["patent"],
        ["valuation"],
        ["new_materials"],
    ),
    "li_wei": (
        "李伟",
        "重庆某某公证处",
        "证据保全公证。",
        ["notary"],
        ["copyright"],
        ["evidence_notarization"],
        ["culture"],
    ),
    "zeng_li": (
        "曾丽",
        "重庆某某专利代理事务所",
        "从事集成电路领域专利申请代理十五年，熟悉布图设计登记。",
        ["patent_attorney"],
        ["patent", "ic_layout"],
        ["agency"],
        ["integrated_circuits"],
    ),
    "shan_xiong": (
        "单雄",
        "重庆某某律师事务所",
        "擅长专利无效与侵权诉讼，集成电路方向。",
        ["lawyer", "patent_attorney"],
        ["patent"],
        ["litigation"],
        ["integrated_circuits"],
    ),
    "qiu_ying": (
        "仇英",
        "重庆大学",
        "集成电路设计教授，技术调查官。",
        ["technical_expert"],
        ["patent"],
        ["search_analysis"],
        ["integrated_circuits"],
    ),
    "xie_jin": (
        "解缙",
        "重庆某某商标事务所",
        "商标注册与异议。",
        ["trademark_attorney"],
        ["trademark"],
        ["agency"],
        ["culture"],
    ),
    "ou_ming": (
        "区明",
        "重庆某某律师事务所",
        "商标与不正当竞争纠纷代理律师。",
        ["lawyer"],
        ["trademark", "unfair_competition"],
        ["litigation"],
        ["ecommerce"],
    ),
    "zha_liang": (
        "查良",
        "重庆某某知识产权服务有限公司",
        "专利导航与检索分析。",
        ["evaluator"],
        ["patent"],
        ["search_analysis"],
        ["automotive"],
    ),
    "piao_zheng": (
        "朴正",
        "重庆某某律师事务所",
        "中韩知识产权纠纷，韩语工作。",
        ["foreign_advisor"],
        ["trademark"],
        ["overseas_protection"],
        ["electronics"],
    ),
    "yuchi_gong": (
        "尉迟恭",
        "重庆某某专利代理事务所",
        "机器人领域专利代理。",
        ["patent_attorney"],
        ["patent"],
        ["agency"],
        ["robotics"],
    ),
    "ouyang_hua": (
        "欧阳明华",
        "重庆某某律师事务所",
        "著作权与软件许可。",
        ["lawyer"],
        ["copyright", "software_copyright"],
        ["licensing"],
        ["software"],
    ),
    "wang_fang": (
        "王芳",
        "重庆某某律师事务所",
        "商标律师，代理驰名商标认定与商标侵权诉讼。",
        ["lawyer"],
        ["trademark"],
        ["litigation", "legal_advice"],
        ["culture"],
    ),
    "chen_jing": (
        "陈静",
        "重庆某某商标代理有限公司",
        "商标代理人，马德里国际注册。",
        ["trademark_attorney"],
        ["trademark"],
        ["agency", "overseas_protection"],
        ["agriculture"],
    ),
    "liu_yang": (
        "刘洋",
        "重庆某某专利代理事务所",
        "专利代理师，汽车与新能源。",
        ["patent_attorney"],
        ["patent"],
        ["agency"],
        ["automotive"],
    ),
    "yang_fan": (
        "杨帆",
        "重庆某某专利代理事务所",
        "专利代理师，集成电路封装与半导体器件。",
        ["patent_attorney"],
        ["patent"],
        ["agency", "search_analysis"],
        ["integrated_circuits", "electronics"],
    ),
    "zhao_lei": (
        "赵磊",
        "重庆某某律师事务所",
        "律师，劳动争议与合同纠纷。",
        ["lawyer"],
        [],
        ["legal_advice"],
        [],
    ),
    "huang_min": (
        "黄敏",
        "重庆某某知识产权调解中心",
        "知识产权调解员，电子商务纠纷调解。",
        ["mediator"],
        ["trademark", "copyright"],
        ["legal_advice"],
        ["ecommerce"],
    ),
    "zhou_qiang": (
        "周强",
        "重庆某某资产评估有限公司",
        "知识产权质押融资评估。",
        ["valuer"],
        ["patent", "trademark"],
        ["valuation", "financing"],
        ["biomedicine"],
    ),
    "wu_jun": (
        "吴军",
        "重庆某某知识产权服务有限公司",
        "企业知识产权管理贯标辅导。",
        ["evaluator"],
        ["patent"],
        ["compliance"],
        ["new_materials"],
    ),
    "xu_hong": (
        "徐红",
        "重庆某某专利代理事务所",
        "生物医药专利代理，熟悉化合物专利。",
        ["patent_attorney"],
        ["patent"],
        ["agency"],
        ["biomedicine"],
    ),
    "sun_li": (
        "孙丽",
        "重庆某某律师事务所",
        "商业秘密与竞业限制纠纷。",
        ["lawyer"],
        ["trade_secret"],
        ["litigation"],
        ["electronics"],
    ),
    "ma_chao": (
        "马超",
        "重庆某某大学",
        "石墨烯材料研究，技术专家。",
        ["technical_expert"],
        ["patent"],
        ["deliberation"],
        ["graphene"],
    ),
    "hu_bo": (
        "胡波",
        "重庆某某知识产权维权援助中心",
        "维权援助，海外展会维权。",
        ["aid_expert"],
        ["patent", "trademark"],
        ["overseas_protection"],
        ["robotics"],
    ),
    "guo_jie": (
        "郭洁",
        "重庆某某律师事务所",
        "植物新品种与地理标志保护律师。",
        ["lawyer"],
        ["plant_variety", "geographical_indication"],
        ["litigation"],
        ["agriculture"],
    ),
    "he_tao": (
        "何涛",
        "重庆某某律师事务所",
        "集成电路企业法律顾问，合同审查。",
        ["lawyer"],
        [],
        ["legal_advice"],
        ["integrated_circuits"],
    ),
    "lin_xue": (
        "林雪",
        "重庆某某专利代理事务所",
        "专利代理师，软件与通信。",
        ["patent_attorney"],
        ["patent", "software_copyright"],
        ["agency"],
        ["software"],
    ),
    "luo_gang": (
        "罗刚",
        "重庆某某知识产权鉴定所",
        "集成电路布图设计鉴定。",
        ["technical_expert"],
        ["ic_layout"],
        ["search_analysis"],
        ["integrated_circuits"],
    ),
    "lv_xin": (
        "吕新",
        "重庆某某商标事务所",
        "商标代理人。",
        ["trademark_attorney"],
        ["trademark"],
        ["agency"],
        ["ecommerce"],
    ),
    "deng_hui": (
        "邓辉",
        "重庆某某律师事务所",
        "专利侵权诉讼与专利无效宣告代理。",
        ["lawyer"],
        ["patent"],
        ["litigation"],
        ["electronics"],
    ),
    "feng_yu": (
        "冯宇",
        "重庆某某公证处",
        "电子数据保全公证，网页与区块链存证。",
        ["notary"],
        ["copyright"],
        ["evidence_notarization"],
        ["ecommerce"],
    ),
}

#: Where the experts work (district codes); the filler goes round FILLER_DISTRICTS.
DISTRICTS = {
    "zhang_wei": "yubei",
    "deng_hui": "yubei",
    "zhao_lei": "yubei",
    "lin_xue": "yubei",
    "xie_jin": "yubei",
    "shan_xiong": "jiulongpo",
    "wang_fang": "yuzhong",
    "li_wei": "yuzhong",
    "feng_yu": "yuzhong",
    "lv_xin": "yuzhong",
    "huang_min": "yuzhong",
    "ou_ming": "jiangbei",
    "chen_jing": "jiangbei",
    "sun_li": "nanan",
    "zhou_qiang": "nanan",
    "guo_jie": "beibei",
    "he_tao": "shapingba",
}
FILLER_DISTRICTS = ["yuzhong", "jiangbei", "nanan", "yubei", "shapingba", "wanzhou"]

#: When each expert last confirmed the profile, in days before "now".
CONFIRMED_DAYS_AGO = {key: 3 + 7 * i for i, key in enumerate(EXPERTS)}

# (kind, query, {expert key: grade})
QUERIES: list[tuple[str, str, dict[str, int]]] = [
    # Chinese words inside running text
    (
        "chinese",
        "律师",
        {
            "zhang_wei": 3,
            "shan_xiong": 3,
            "ou_ming": 3,
            "wang_fang": 3,
            "zhao_lei": 3,
            "sun_li": 3,
            "guo_jie": 3,
            "he_tao": 3,
            "ouyang_hua": 3,
            "deng_hui": 3,
            "piao_zheng": 1,
        },
    ),
    (
        "chinese",
        "专利代理师集成电路",
        {"zeng_li": 3, "yang_fan": 3, "shan_xiong": 3, "qiu_ying": 1, "luo_gang": 1},
    ),
    (
        "chinese",
        "商标律师",
        {
            "wang_fang": 3,
            "ou_ming": 3,
            "zhang_wei": 3,
            "chen_jing": 1,
            "xie_jin": 1,
            "lv_xin": 1,
        },
    ),
    ("chinese", "生物医药专利", {"xu_hong": 3, "zhou_qiang": 2}),
    ("chinese", "调解", {"huang_min": 3}),
    ("chinese", "石墨烯", {"ma_chao": 3}),
    ("chinese", "布图设计", {"luo_gang": 3, "zeng_li": 3}),
    # Traditional characters and Taiwan terms
    (
        "traditional",
        "專利代理師 積體電路",
        {"zeng_li": 3, "yang_fan": 3, "shan_xiong": 3, "qiu_ying": 1, "luo_gang": 1},
    ),
    ("traditional", "智慧財產權調解", {"huang_min": 3}),
    (
        "traditional",
        "商標律師",
        {
            "wang_fang": 3,
            "ou_ming": 3,
            "zhang_wei": 3,
            "chen_jing": 1,
            "xie_jin": 1,
            "lv_xin": 1,
        },
    ),
    ("traditional", "軟體著作權", {"ouyang_hua": 3, "lin_xue": 2}),
    ("traditional", "營業秘密 律師", {"sun_li": 3}),
    # names by pinyin, surnames with special readings
    ("pinyin", "zhangwei", {"zhang_wei": 3, "zhang_wei_2": 3}),
    ("pinyin", "zhang wei", {"zhang_wei": 3, "zhang_wei_2": 3}),
    ("pinyin", "Zeng Li", {"zeng_li": 3}),
    ("pinyin", "shanxiong", {"shan_xiong": 3}),
    ("pinyin", "qiuying", {"qiu_ying": 3}),
    ("pinyin", "xiejin", {"xie_jin": 3}),
    ("pinyin", "ouming", {"ou_ming": 3}),
    ("pinyin", "zhaliang", {"zha_liang": 3}),
    ("pinyin", "piaozheng", {"piao_zheng": 3}),
    ("pinyin", "yuchigong", {"yuchi_gong": 3}),
    ("pinyin", "ouyang minghua", {"ouyang_hua": 3}),
    ("pinyin", "lvxin", {"lv_xin": 3}),
    ("pinyin", "wang fang", {"wang_fang": 3}),
    # names in characters
    ("name", "张伟", {"zhang_wei": 3}),
    ("name", "曾丽", {"zeng_li": 3}),
    ("name", "張偉", {"zhang_wei": 3}),
    ("name", "欧阳明华", {"ouyang_hua": 3}),
    # English, through the vocabulary's English labels
    (
        "english",
        "trademark lawyer",
        {
            "wang_fang": 3,
            "ou_ming": 3,
            "zhang_wei": 3,
            "chen_jing": 1,
            "xie_jin": 1,
            "lv_xin": 1,
            "sun_li": 1,
            "guo_jie": 1,
            "deng_hui": 1,
        },
    ),
    (
        "english",
        "patent attorney integrated circuits",
        {"zeng_li": 3, "yang_fan": 3, "shan_xiong": 3, "qiu_ying": 1, "luo_gang": 1},
    ),
    ("english", "mediator", {"huang_min": 3}),
    ("english", "graphene", {"ma_chao": 3}),
    ("english", "patent attorney biomedicine", {"xu_hong": 3}),
    ("english", "plant varieties", {"guo_jie": 3}),
    # mixed
    ("mixed", "张伟 律师", {"zhang_wei": 3}),
    ("mixed", "lawyer 集成电路", {"shan_xiong": 3, "he_tao": 3}),
    # compounds typed without spaces, as people type them
    (
        "compound",
        "专利侵权诉讼",
        {"shan_xiong": 3, "deng_hui": 3, "zhang_wei": 1, "wang_fang": 1, "ou_ming": 1},
    ),
    ("compound", "商标侵权", {"zhang_wei": 3, "wang_fang": 3, "ou_ming": 2}),
    ("compound", "电子数据存证", {"feng_yu": 3, "li_wei": 2}),
    ("compound", "公证 电子数据 存证", {"feng_yu": 3, "li_wei": 2}),
    # abbreviations
    ("abbreviation", "软著", {"ouyang_hua": 3, "lin_xue": 3}),
    ("abbreviation", "知产调解", {"huang_min": 3}),
    ("abbreviation", "贯标", {"wu_jun": 3}),
    # synonyms: the need in other words than the profile's
    (
        "synonym",
        "芯片专利",
        {"zeng_li": 3, "yang_fan": 3, "shan_xiong": 3, "qiu_ying": 2, "luo_gang": 1},
    ),
    (
        "synonym",
        "侵权",
        {
            "shan_xiong": 3,
            "deng_hui": 3,
            "zhang_wei": 3,
            "wang_fang": 3,
            "ou_ming": 3,
            "sun_li": 3,
            "guo_jie": 3,
        },
    ),
    ("synonym", "仲裁", {"huang_min": 3}),
    ("synonym", "存证", {"feng_yu": 3, "li_wei": 3}),
    ("synonym", "品种权", {"guo_jie": 3}),
    # vocabulary terms in pinyin
    (
        "pinyin_term",
        "zhuanli daili",
        {
            "zhang_wei_2": 3,
            "zeng_li": 3,
            "yuchi_gong": 3,
            "liu_yang": 3,
            "yang_fan": 3,
            "xu_hong": 3,
            "lin_xue": 3,
            "shan_xiong": 2,
        },
    ),
    (
        "pinyin_term",
        "shangbiao",
        dict.fromkeys(
            (
                "zhang_wei",
                "xie_jin",
                "ou_ming",
                "piao_zheng",
                "wang_fang",
                "chen_jing",
                "huang_min",
                "zhou_qiang",
                "hu_bo",
                "lv_xin",
            ),
            3,
        ),
    ),
    ("pinyin_term", "shangbiao zhuce", {"xie_jin": 3, "chen_jing": 3, "lv_xin": 3}),
    ("pinyin_term", "tiaojie", {"huang_min": 3}),
    # English words beyond the labels
    ("english_word", "mediation", {"huang_min": 3}),
    ("english_word", "arbitration", {"huang_min": 3}),
    ("english_word", "notary public", {"li_wei": 3, "feng_yu": 3}),
    ("english_word", "valuation", {"zhang_ming": 3, "zhou_qiang": 3}),
    (
        "english_word",
        "patent litigation",
        {
            "shan_xiong": 3,
            "deng_hui": 3,
            "zhang_wei": 1,
            "wang_fang": 1,
            "ou_ming": 1,
            "sun_li": 1,
            "guo_jie": 1,
        },
    ),
    (
        "english_word",
        "infringement",
        {
            "shan_xiong": 3,
            "deng_hui": 3,
            "zhang_wei": 3,
            "wang_fang": 3,
            "ou_ming": 3,
            "sun_li": 3,
            "guo_jie": 3,
        },
    ),
    # a place, apart or glued to the need
    (
        "place",
        "专利 律师 渝北",
        {"deng_hui": 3, "shan_xiong": 1, "zhang_wei": 1, "zhao_lei": 1},
    ),
    (
        "place",
        "渝北专利律师",
        {"deng_hui": 3, "shan_xiong": 1, "zhang_wei": 1, "zhao_lei": 1},
    ),
    ("place", "两江新区 商标律师", {"zhang_wei": 3, "ou_ming": 3, "wang_fang": 1}),
    ("place", "江北 商标", {"ou_ming": 3, "chen_jing": 3}),
    # Traditional phrasing of the same needs
    (
        "traditional_phrase",
        "專利侵權訴訟",
        {"shan_xiong": 3, "deng_hui": 3, "zhang_wei": 1, "wang_fang": 1, "ou_ming": 1},
    ),
    ("traditional_phrase", "商標侵權", {"zhang_wei": 3, "wang_fang": 3, "ou_ming": 2}),
    ("traditional_phrase", "積體電路 律師", {"shan_xiong": 3, "he_tao": 3}),
    # a name mistyped by one letter
    ("misspelt", "zhangwie", {"zhang_wei": 3, "zhang_wei_2": 3}),
    ("misspelt", "ouyangminhua", {"ouyang_hua": 3}),
    ("misspelt", "piaozhen", {"piao_zheng": 3}),
    # Held out: written before the search was tuned, and not tuned on since.
    ("held_out", "找个懂商标的律师", {"wang_fang": 3, "ou_ming": 3, "zhang_wei": 3}),
    ("held_out", "软件著作权登记", {"ouyang_hua": 3, "lin_xue": 3}),
    ("held_out", "专利无效", {"shan_xiong": 3, "deng_hui": 2}),
    ("held_out", "知识产权质押贷款", {"zhou_qiang": 3}),
    ("held_out", "海外维权", {"hu_bo": 3, "piao_zheng": 3, "chen_jing": 2}),
    (
        "held_out",
        "trademark infringement lawyer",
        {"zhang_wei": 3, "wang_fang": 3, "ou_ming": 3},
    ),
    ("held_out", "patent valuation", {"zhang_ming": 3, "zhou_qiang": 3}),
    ("held_out", "渝北 律师", {"deng_hui": 3, "zhang_wei": 3, "zhao_lei": 3}),
    (
        "held_out",
        "zhuanli shenqing",
        {
            "zhang_wei_2": 3,
            "zeng_li": 3,
            "yuchi_gong": 3,
            "liu_yang": 3,
            "yang_fan": 3,
            "xu_hong": 3,
            "lin_xue": 3,
        },
    ),
    ("held_out", "商標註冊", {"xie_jin": 3, "chen_jing": 2, "lv_xin": 2}),
    ("held_out", "集成电路律师", {"shan_xiong": 3, "he_tao": 3}),
    ("held_out", "机器人专利代理", {"yuchi_gong": 3, "hu_bo": 1}),
]

#: Kinds written before the search was tuned and never tuned on since.
HELD_OUT_KINDS = {"held_out"}

FILLER_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
FILLER_GIVEN = ["红", "军", "华", "平", "东", "霞", "鹏", "建国", "志强", "海燕", "文"]
FILLER_ORGS = [
    "重庆某某科技有限公司",
    "重庆某某汽车有限公司",
    "重庆某某大学",
    "重庆某某专利代理事务所",
    "重庆某某研究院",
]
FILLER_BIOS = [
    "长期从事企业法律事务。",
    "汽车零部件研发工程师，参与多项专利。",
    "电子商务平台合规顾问。",
    "企业合规与合同管理。",
    "新材料研发，发表论文多篇。",
    "软件开发与信息服务。",
]
FILLER_TERMS = [
    (["evaluator"], [], ["legal_advice"], ["automotive"]),
    (["technical_expert"], ["patent"], ["deliberation"], ["new_materials"]),
    (["evaluator"], ["patent"], ["search_analysis"], ["automotive"]),
    (["evaluator"], [], ["training"], ["ecommerce"]),
    (["aid_expert"], [], ["training"], ["culture"]),
]


def filler(
    count: int,
) -> list[tuple[str, str, str, list[str], list[str], list[str], list[str]]]:
    """`count` experts that are no query's answer."""
    experts = []
    for i in range(count):
        categories, ip_types, services, industries = FILLER_TERMS[i % len(FILLER_TERMS)]
        name = (
            FILLER_SURNAMES[i % len(FILLER_SURNAMES)]
            + FILLER_GIVEN[i % len(FILLER_GIVEN)]
        )
        experts.append(
            (
                name,
                FILLER_ORGS[i % len(FILLER_ORGS)],
                FILLER_BIOS[i % len(FILLER_BIOS)],
                categories,
                ip_types,
                services,
                industries,
            )
        )
    return experts


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    """Normalised discounted cumulative gain of the first ten results, with
    gain 2^grade - 1."""

    def dcg(values: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(values[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(key, 0) for key in ranked]) / ideal if ideal else 0.0


def relevance_load(
    *, filler_count: int = 120, now: datetime.datetime
) -> dict[int, str]:
    """Create the relevance set's experts (listed) and the filler; returns
    {expert id: key} for the keyed ones. Indexes them."""
    from portal.models import District, IPType
    from talentpool.models import (
        Expert,
        ExpertCategory,
        Industry,
        Organisation,
        Service,
    )
    from talentpool.search import experts_reindex

    vocab = {
        "categories": {t.code: t for t in ExpertCategory.objects.all()},
        "ip_types": {t.code: t for t in IPType.objects.all()},
        "services": {t.code: t for t in Service.objects.all()},
        "industries": {t.code: t for t in Industry.objects.all()},
    }
    districts = {d.code: d for d in District.objects.all()}
    keys: dict[int, str] = {}
    rows: list = list(EXPERTS.items())
    rows += [(None, spec) for spec in filler(filler_count)]
    # Judged experts among the filler, not first: ids then say nothing.
    random.Random(4).shuffle(rows)
    for n, (
        key,
        (name, org, bio, categories, ip_types, services, industries),
    ) in enumerate(rows):
        organisation, _ = Organisation.objects.get_or_create(name=org)
        days = CONFIRMED_DAYS_AGO.get(key, 1 + n % 400) if key else 1 + n % 400
        expert = Expert.objects.create(
            name=name,
            external_id=f"R{n:04d}",
            organisation=organisation,
            biography=bio,
            email=f"r{n}@example.cn",
            phone=f"139{n:08d}",
            verification_status=Expert.Verification.VERIFIED,
            verified_at=now,
            publication_consent_at=now,
            last_confirmed_at=now - datetime.timedelta(days=days),
            years_of_practice=5 + n % 20,
            district=districts.get(
                DISTRICTS.get(key, "")
                if key
                else FILLER_DISTRICTS[n % len(FILLER_DISTRICTS)]
            ),
        )
        for relation, codes in (
            ("categories", categories),
            ("ip_types", ip_types),
            ("services", services),
            ("industries", industries),
        ):
            getattr(expert, relation).set([vocab[relation][code] for code in codes])
        if key:
            keys[expert.pk] = key
    experts_reindex()
    return keys


def relevance_scores(
    search: Callable[[str], list[int]], keys: dict[int, str]
) -> dict[str, list[float]]:
    """nDCG@10 of each query, by kind; `search` returns ranked expert ids."""
    scores: dict[str, list[float]] = {}
    for kind, query, grades in QUERIES:
        ranked = [keys.get(pk, "") for pk in search(query)[:10]]
        scores.setdefault(kind, []).append(ndcg_at_10(ranked, grades))
    return scores
