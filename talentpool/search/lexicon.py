"""What the search knows of the words people type: the vocabulary terms
(categories, IP types, services, industries, languages and districts, with
their short forms and pinyin), the functional areas read as places, the
synonyms staff edit (talentpool.models.SearchSynonym), Chinese words that
carry no need (找, 一个, 专家…), and a word segmenter (jieba's Rust port,
rjieba) whose dictionary holds all of them and the organisations' names.

Built once per process and kept LEXICON_SECONDS; a change to a synonym, a
term or an organisation in this process drops it at once (signals.py).
Segmentation runs on the query only: the index keeps its character pairs,
so a new synonym or term needs no reindexing.
"""

import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import connection

from talentpool.search.text import _CJK_RUN, STOP_WORDS, stem, text_normalise

#: How long a process keeps its lexicon before reading it again, in seconds:
#: how long a synonym edited in another process may take to apply here.
LEXICON_SECONDS = 300
#: Most organisation names added to the segmenter's dictionary.
ORGANISATIONS_MAX = 20_000

DATA = Path(__file__).resolve().parent / "data"

#: Chinese words that say who is asking or how, not what is needed.
CHINESE_STOP_WORDS = frozenset(
    [
        "找",
        "寻找",
        "查找",
        "搜索",
        "查",
        "查询",
        "需要",
        "需",
        "想",
        "想要",
        "要",
        "请",
        "请问",
        "麻烦",
        "帮",
        "帮忙",
        "帮我",
        "推荐",
        "介绍",
        "一个",
        "一位",
        "一名",
        "个",
        "位",
        "名",
        "的",
        "地",
        "得",
        "和",
        "与",
        "及",
        "以及",
        "或",
        "或者",
        "跟",
        "同",
        "在",
        "有",
        "有没有",
        "没有",
        "吗",
        "呢",
        "吧",
        "啊",
        "哪些",
        "哪个",
        "哪里",
        "哪儿",
        "谁",
        "什么",
        "怎么",
        "如何",
        "能",
        "能够",
        "可以",
        "会",
        "懂",
        "擅长",
        "专门",
        "做",
        "办",
        "办理",
        "处理",
        "我",
        "我们",
        "我司",
        "本",
        "贵",
        "公司",
        "企业",
        "单位",
        "专家",
        "人才",
        "人员",
        "老师",
        "方面",
        "相关",
        "领域",
        "服务",
        "业务",
        "问题",
        "事情",
        "事",
        "好",
        "靠谱",
        "优秀",
        "资深",
        "专业",
        "经验",
        "附近",
        "本地",
        "当地",
        "重庆",
        "重庆市",
        "市",
        "渝",
        "中国",
        "全国",
    ]
)
#: English words that say who is asking or how, not what is needed.
ENGLISH_STOP_WORDS = STOP_WORDS | frozenset(
    [
        "i",
        "we",
        "our",
        "my",
        "me",
        "need",
        "needs",
        "want",
        "looking",
        "look",
        "find",
        "search",
        "help",
        "who",
        "expert",
        "experts",
        "specialist",
        "specialists",
        "service",
        "services",
        "professional",
        "professionals",
        "good",
        "best",
        "near",
        "chongqing",
        "china",
        "please",
    ]
)

# Parts of a district's name that people leave out: 渝北区 is 渝北,
# 石柱土家族自治县 is 石柱.
_DISTRICT_SUFFIX = re.compile("(?:(?:土家族|苗族|回族|彝族)+自治县|自治县|新区|区|县)$")
_SEPARATORS = re.compile(r"[\s,，、;；/|]+")


def latin_key(text: str) -> str:
    """Latin words as one key: normalised, stemmed, stop words out, joined
    (Patent attorneys → patentattorney)."""
    words = re.findall(r"[a-z0-9]+", text_normalise(text))
    return "".join(stem(w) for w in words if w not in STOP_WORDS)


def chinese_key(text: str) -> str:
    """Chinese text as one key: normalised (Simplified), without spaces."""
    return "".join(_CJK_RUN.findall(text_normalise(text)))


@dataclass
class Lexicon:
    #: A normalised word (Chinese key or Latin key) to the facet keys
    #: (``service=litigation``) of the terms it names.
    terms: dict[str, set[str]] = field(default_factory=dict)
    #: Facet keys that are places (districts), for telling places apart.
    places: set[str] = field(default_factory=set)
    #: A normalised phrase to the words it also finds (as typed in the data:
    #: Chinese or Latin).
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    #: Joined pinyin (zhuanli, shangbiaozhuce) to the Chinese word.
    pinyin: dict[str, str] = field(default_factory=dict)
    #: Chinese words for the segmenter's dictionary.
    words: set[str] = field(default_factory=set)
    segmenter: Any = None
    built_at: float = 0.0

    def cut(self, text: str) -> list[str]:
        """A Chinese run cut into words (no HMM guessing: unknown runs come
        out as single characters, which the query joins again)."""
        return list(self.segmenter.cut(text, False))

    def cut_for_search(self, text: str) -> list[str]:
        """The words of `text` and the shorter words inside its long ones."""
        return list(self.segmenter.cut_for_search(text, False))


def _term_rows() -> list[tuple[str, str, str, str]]:
    """(facet key, code, label zh, label en) of every term the search
    filters on."""
    from talentpool.search.index import FACETS

    rows = []
    for key, (_relation, model) in FACETS.items():
        for code, zh, en in model._default_manager.values_list(
            "code", "name_zh", "name_en"
        ):
            rows.append((key, code, zh, en))
    return rows


def _data_lines(name: str) -> list[list[str]]:
    lines = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lines.append(line.split("\t"))
    return lines


def word_key(text: str) -> str:
    """A word as the lexicon keys it: Chinese characters, or else Latin
    words joined."""
    return chinese_key(text) or latin_key(text)


def synonym_words(alternatives: str) -> list[str]:
    """The words of a synonym's "also finds" text."""
    return [word for word in _SEPARATORS.split(alternatives) if word_key(word)]


def _pinyin_of(word: str) -> str:
    # Imported here: pypinyin's dictionaries are large, and only a process
    # that builds a lexicon needs them (docs/talentpool-search.md).
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore")).replace(
        "ü", "v"
    )


@lru_cache(maxsize=2)
def _segmenter(words: frozenset[str]) -> Any:
    """jieba's dictionary with `words` added (loading it takes about 0.3 s:
    kept while the words stay the same)."""
    import rjieba

    segmenter = rjieba.Jieba()
    for word in sorted(words):
        segmenter.add_word(word, None, None)
    return segmenter


def _build() -> Lexicon:

    from talentpool.models import Organisation, SearchSynonym

    lexicon = Lexicon()
    terms = lexicon.terms

    def term(word: str, facet: str) -> None:
        key = word_key(word)
        if key:
            terms.setdefault(key, set()).add(facet)

    for key, code, zh, en in _term_rows():
        facet = f"{key}={code}"
        term(zh, facet)
        term(en, facet)
        # "Technical expert (assessor, adviser, litigation assistant)" is
        # also typed "technical expert".
        term(en.split("(")[0], facet)
        if key == "district":
            lexicon.places.add(facet)
            short = _DISTRICT_SUFFIX.sub("", chinese_key(zh))
            if len(short) >= 2:
                term(short, facet)
            term(code, facet)
    for area, codes in _data_lines("areas.tsv"):
        for code in codes.split():
            facet = f"district={code}"
            term(area, facet)
            lexicon.places.add(facet)

    for phrase, alternatives, mutual in SearchSynonym.objects.values_list(
        "phrase", "alternatives", "mutual"
    ):
        words = synonym_words(alternatives)
        group = [phrase, *words]
        pairs = [(phrase, words)]
        if mutual:
            pairs += [(w, [o for o in group if o != w]) for w in words]
        for source, targets in pairs:
            key = word_key(source)
            if key:
                known = lexicon.synonyms.setdefault(key, [])
                known.extend(t for t in targets if t not in known)

    chinese = {key for key in terms if _CJK_RUN.fullmatch(key)}
    for key, targets in lexicon.synonyms.items():
        for word in (key, *targets):
            word = chinese_key(word)
            if word:
                chinese.add(word)
    lexicon.words = set(chinese)
    organisations = (
        Organisation.objects.order_by("pk").values_list("name", flat=True)
    )[:ORGANISATIONS_MAX]
    dictionary = {word for word in chinese if len(word) > 1}
    dictionary |= {
        word for word in map(chinese_key, organisations) if 2 < len(word) <= 30
    }
    lexicon.segmenter = _segmenter(frozenset(dictionary))
    segmenter = lexicon.segmenter

    # Pinyin for every Chinese word the lexicon knows, and for the words of
    # the labels (专利代理师 → zhuanli, daili, zhuanlidailishi).
    pinyin = lexicon.pinyin
    for word in sorted(chinese, key=lambda w: (len(w), w)):
        for part in {word, *segmenter.cut(word, False)}:
            if len(part) > 1:
                pinyin.setdefault(_pinyin_of(part), part)
    lexicon.built_at = time.monotonic()
    return lexicon


_lock = threading.Lock()
_state: dict[str, Lexicon] = {}


def lexicon() -> Lexicon:
    """This process's lexicon, built at first use and again after
    LEXICON_SECONDS or a change (lexicon_changed)."""
    database = str(connection.settings_dict["NAME"])
    current = _state.get(database)
    if current is not None and time.monotonic() - current.built_at < LEXICON_SECONDS:
        return current
    with _lock:
        current = _state.get(database)
        if current is None or time.monotonic() - current.built_at >= LEXICON_SECONDS:
            current = _build()
            _state[database] = current
        return current


def lexicon_changed(**_kwargs: Any) -> None:
    """Drop this process's lexicon: the next search builds it again."""
    _state.clear()


@lru_cache(maxsize=1)
def seed_synonyms() -> list[tuple[str, str, bool]]:
    """The synonyms the portal starts with (data/synonyms.tsv): (phrase,
    alternatives, both ways)."""
    rows = []
    for parts in _data_lines("synonyms.tsv"):
        phrase, alternatives = parts[0].strip(), parts[1].strip()
        mutual = len(parts) > 2 and parts[2].strip() == "both"
        rows.append((phrase, alternatives, mutual))
    return rows
