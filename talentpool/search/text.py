"""Text for the expert search: one normalisation for the index and the query.

Both sides go through the same steps, so that what a visitor types meets what
was indexed: full-width forms to half-width (NFKC), Traditional characters and
Taiwan phrases to Simplified (OpenCC's ``tw2sp``: 積體電路 → 集成电路,
智慧財產權 → 知识产权), lower case, accents off Latin letters (zhāng → zhang).

Chinese has no spaces, so Chinese runs become overlapping pairs of characters
(bigrams): 律师 is found inside 重庆某某知识产权律师事务所, and
专利代理师集成电路 typed without a space meets 专利代理师 and 集成电路. Latin
words are kept whole, with a light English stemming (circuits → circuit).
Names also get single characters and their pinyin (pypinyin, with the readings
surnames take: 曾 zeng, 单 shan, 仇 qiu, 解 xie…).
"""

import re
import unicodedata
from functools import lru_cache

import opencc

from django.core.exceptions import ValidationError

from portal.search import CJK, bigrams
from talentpool.validators import MAX_LICENCE_LENGTH, normalise_licence_number

#: Longest query considered, in characters: longer input is cut, not refused.
QUERY_MAX_CHARS = 100
#: Most distinct tokens a query is turned into.
QUERY_MAX_TOKENS = 40
#: Longest token stored; longer Latin words are cut to this.
TOKEN_MAX_CHARS = 64

# Chinese runs, and Latin words of a-z and digits only (in text_normalise's
# output): unlike the site search's words, one never runs on into Chinese.
_WORD = re.compile(rf"[{CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(rf"[{CJK}]+")
_HAS_CJK = re.compile(rf"[{CJK}]")
_SPACES = re.compile(r"\s+")
# Dashes NFKC leaves as they are (hyphen, en and em dashes, minus sign), and
# what separates the parts of a licence number typed by a visitor.
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58]")
_LICENCE_GAPS = re.compile(r"[\s\-]+")
_NOT_LICENCE_CHARACTER = re.compile(r"[^A-Z0-9]")

#: English words that carry no meaning in a query or a label.
STOP_WORDS = frozenset(
    [
        "a",
        "and",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)

#: Surnames whose reading differs from the characters' everyday one, and the
#: compound (two-character) surnames, which are read together.
SURNAME_READINGS: dict[str, list[str]] = {
    # compound surnames
    "尉迟": ["yu", "chi"],
    "万俟": ["mo", "qi"],
    "单于": ["chan", "yu"],
    "长孙": ["zhang", "sun"],
    "澹台": ["tan", "tai"],
    "欧阳": ["ou", "yang"],
    "司马": ["si", "ma"],
    "上官": ["shang", "guan"],
    "诸葛": ["zhu", "ge"],
    "东方": ["dong", "fang"],
    "皇甫": ["huang", "fu"],
    "令狐": ["ling", "hu"],
    "慕容": ["mu", "rong"],
    "宇文": ["yu", "wen"],
    "司徒": ["si", "tu"],
    "司空": ["si", "kong"],
    "夏侯": ["xia", "hou"],
    "公孙": ["gong", "sun"],
    "轩辕": ["xuan", "yuan"],
    "呼延": ["hu", "yan"],
    "端木": ["duan", "mu"],
    "独孤": ["du", "gu"],
    "南宫": ["nan", "gong"],
    "西门": ["xi", "men"],
    "申屠": ["shen", "tu"],
    "赫连": ["he", "lian"],
    "百里": ["bai", "li"],
    "闻人": ["wen", "ren"],
    "钟离": ["zhong", "li"],
    "宗政": ["zong", "zheng"],
    "濮阳": ["pu", "yang"],
    "公冶": ["gong", "ye"],
    "太叔": ["tai", "shu"],
    # single characters read differently as a surname
    "曾": ["zeng"],
    "单": ["shan"],
    "仇": ["qiu"],
    "解": ["xie"],
    "区": ["ou"],
    "查": ["zha"],
    "朴": ["piao"],
    "盖": ["ge"],
    "乐": ["yue"],
    "覃": ["qin"],
    "翟": ["zhai"],
    "缪": ["miao"],
    "秘": ["bi"],
    "种": ["chong"],
    "召": ["shao"],
    "尉": ["wei"],
    "车": ["che"],
    "重": ["chong"],
    "华": ["hua"],
    "那": ["na"],
    "柏": ["bai"],
    "任": ["ren"],
    "员": ["yun"],
    "句": ["gou"],
    "宓": ["mi"],
    "冼": ["xian"],
    "隗": ["wei"],
    "逄": ["pang"],
    "訾": ["zi"],
    "折": ["she"],
    "阚": ["kan"],
    "眭": ["sui"],
    "蔺": ["lin"],
    "贲": ["ben"],
    "繁": ["po"],
    "黑": ["he"],
    "牟": ["mou"],
    "能": ["nai"],
    "沈": ["shen"],
    "石": ["shi"],
    "褚": ["chu"],
    "臧": ["zang"],
    "薄": ["bo"],
    "卜": ["bu"],
    "奇": ["ji"],
    "哈": ["ha"],
    "粘": ["nian"],
    "蕃": ["pi"],
    "莘": ["shen"],
    "洗": ["xian"],
    "过": ["guo"],
    "藏": ["zang"],
    "弗": ["fu"],
    "谌": ["chen"],
    "燕": ["yan"],
    "纪": ["ji"],
}


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    # tw2sp: Traditional (Taiwan standard) to Simplified, with Taiwan phrases
    # (積體電路, 軟體, 智慧財產權) turned into the mainland ones.
    return opencc.OpenCC("tw2sp")


def text_normalise(text: str) -> str:
    """Any text in the form the index holds: half-width, Simplified, lower
    case, Latin letters without accents, single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if _HAS_CJK.search(text):
        text = _converter().convert(text)
    text = text.lower()
    if not text.isascii():
        # Strip accents from Latin letters only: NFKD leaves Chinese alone.
        text = "".join(
            ch
            for ch in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(ch)
        )
        text = text.replace("ü", "v")
    return _SPACES.sub(" ", text).strip()


def query_normalise(text: str) -> str:
    """A visitor's query in the form the index holds, at most
    QUERY_MAX_CHARS characters long (an enormous query is cut, not refused),
    with everything that is neither a letter nor a digit turned into a space.

    >>> query_normalise("  專利代理師　積體電路！ ")
    '专利代理师 集成电路'
    """
    text = text_normalise((text or "")[: QUERY_MAX_CHARS * 2])
    text = " ".join(_WORD.findall(text))
    return text[:QUERY_MAX_CHARS].strip()


def stem(word: str) -> str:
    """A light English stemmer, enough for vocabulary labels: plural -s."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        return word[:-1]
    return word


def text_tokens(normalised: str, *, phrase: bool = False) -> list[str]:
    """The tokens of normalised text: Chinese bigrams and Latin words; with
    `phrase` (a label), its Latin words also joined (integratedcircuit), so
    that the phrase typed whole is worth more than its words apart."""
    tokens: list[str] = []
    latin: list[str] = []
    for word in _WORD.findall(normalised):
        if _HAS_CJK.match(word):
            tokens.extend(bigrams(word))
            continue
        if word in STOP_WORDS:
            continue
        latin.append(stem(word)[:TOKEN_MAX_CHARS])
    tokens.extend(latin)
    if phrase and len(latin) > 1:
        tokens.append("".join(latin)[:TOKEN_MAX_CHARS])
    return tokens


def name_readings(name: str) -> list[list[str]]:
    """The ways a Chinese name is read in pinyin, each a list of syllables:
    with the surname's reading as a surname first, then the everyday one
    when it differs."""
    # Imported here, not at the top: pypinyin loads ~55 MiB of dictionaries,
    # which every process (the Celery worker's too) would otherwise carry
    # although only indexing a name needs them.
    from pypinyin import Style, lazy_pinyin

    name = "".join(_CJK_RUN.findall(name))
    if not name:
        return []
    everyday = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    readings = [everyday]
    for surname in (name[:2], name[:1]):
        if surname in SURNAME_READINGS and len(name) > len(surname):
            given = lazy_pinyin(name[len(surname) :], style=Style.NORMAL)
            readings.insert(0, SURNAME_READINGS[surname] + given)
            break
    unique: list[list[str]] = []
    for reading in readings:
        reading = [syllable.replace("ü", "v") for syllable in reading]
        if reading not in unique:
            unique.append(reading)
        if any("v" in syllable for syllable in reading):
            # lü is typed lv or lu
            plain = [syllable.replace("v", "u") for syllable in reading]
            if plain not in unique:
                unique.append(plain)
    return unique


def name_tokens(name: str) -> list[str]:
    """The tokens of a person's name: its Chinese bigrams and characters,
    and in pinyin the whole name (zhangwei), its syllables, surname and
    given name apart (ouyang, minghua), and given name first (weizhang)."""
    normalised = text_normalise(name)
    tokens = text_tokens(normalised)
    cjk = "".join(_CJK_RUN.findall(normalised))
    tokens.extend(cjk)
    surname_length = 2 if cjk[:2] in SURNAME_READINGS and len(cjk) > 2 else 1
    for reading in name_readings(cjk):
        tokens.append("".join(reading))
        tokens.extend(reading)
        surname = "".join(reading[:surname_length])
        given = "".join(reading[surname_length:])
        if given:
            tokens.extend([surname, given, given + surname])
    return [token[:TOKEN_MAX_CHARS] for token in tokens if token]


def query_tokens(normalised: str) -> tuple[list[str], list[str]]:
    """A normalised query as (required, bonus) tokens.

    Required tokens are the bigrams and words: a result must have most of
    them. Bonus tokens only add to the score: Latin words typed apart are
    also tried joined, every adjacent pair and the whole run, so "zhang wei"
    meets the name zhangwei and "patent attorney" the label's phrase.
    """
    required: list[str] = []
    latin: list[str] = []
    for word in normalised.split():
        for part in _WORD.findall(word):
            if _HAS_CJK.match(part):
                required.extend(bigrams(part))
            elif part not in STOP_WORDS:
                latin.append(stem(part)[:TOKEN_MAX_CHARS])
    required.extend(latin)
    bonus: list[str] = []
    if len(latin) > 1:
        bonus.extend(a + b for a, b in zip(latin, latin[1:], strict=False))
        if len(latin) > 2:
            bonus.append("".join(latin))
    required = list(dict.fromkeys(required))[:QUERY_MAX_TOKENS]
    bonus = [
        token[:TOKEN_MAX_CHARS]
        for token in dict.fromkeys(bonus)
        if token not in required
    ][: QUERY_MAX_TOKENS - len(required)]
    return required, bonus


def licence_number_forms(query: str) -> list[str]:
    """The forms in which a licence number typed as the whole query may be
    stored, or none when the query is not a well-formed licence number
    (talentpool.validators.normalise_licence_number: full-width to ASCII, no
    spaces, upper case).

    The number as typed; without its spaces, dashes, slashes and brackets
    (5001-2019-0001 meets 500120190001); and, when it was typed with spaces,
    with a hyphen in each gap ("zl 2020 0001" meets ZL-2020-0001). Only
    whole numbers: a part of one is another number, which nobody holds.

    >>> licence_number_forms("５００１２０１９ ０００１")
    ['500120190001', '50012019-0001']
    >>> licence_number_forms("专利代理师")
    []
    """
    text = _DASHES.sub("-", unicodedata.normalize("NFKC", query or ""))
    if len(text) > MAX_LICENCE_LENGTH * 2:
        return []
    try:
        compact = normalise_licence_number(text)
    except ValidationError:
        return []
    hyphenated = _LICENCE_GAPS.sub("-", text.strip().upper())
    forms = [compact, _NOT_LICENCE_CHARACTER.sub("", compact), hyphenated]
    return [form for form in dict.fromkeys(forms) if form]
