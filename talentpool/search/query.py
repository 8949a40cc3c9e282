"""A visitor's query as concepts: each thing asked for, with the ways an
expert's profile may say it.

专利侵权诉讼 is three concepts (专利, 侵权, 诉讼), not five character pairs.
A concept is met by any of its alternatives: the word itself (all its
character pairs in one expert), a synonym (侵权 → 诉讼, 维权), a term of the
vocabularies the word names (诉讼 → the Litigation service; 渝北 → the
district), in Chinese, pinyin (zhuanli daili) or English (mediation). The
engine (talentpool.search.engine) ranks experts by how many concepts they
meet, then by how well.
"""

import re
from dataclasses import dataclass, field

from portal.search import bigrams
from talentpool.search.lexicon import (
    CHINESE_STOP_WORDS,
    ENGLISH_STOP_WORDS,
    Lexicon,
    chinese_key,
    latin_key,
    lexicon,
)
from talentpool.search.text import (
    _CJK_RUN,
    _WORD,
    QUERY_MAX_TOKENS,
    TOKEN_MAX_CHARS,
    query_normalise,
    stem,
)

#: Most concepts a query is read as; the rest of a long query is ignored.
CONCEPTS_MAX = 8
#: Longest run of Latin words read as one phrase (patent attorney, notary
#: public, zhuanli daili).
PHRASE_WORDS_MAX = 4

# How much a match is worth, by how the concept was met. The expert's field
# weight (talentpool.search.index) is multiplied by the factor; a term the
# expert has (a service offered, the district) is worth TERM or SYNONYM_TERM
# whatever the field. A term named outranks the same word inside another
# label (Litigation, the service, over "litigation assistant" in a category).
FACTOR_WORD = 3
FACTOR_SYNONYM = 2
TERM = 40
SYNONYM_TERM = 32


@dataclass
class Concept:
    """One thing asked for. `alternatives` are (tokens, factor): an expert
    having every token of one meets the concept; `facets` are (facet key,
    worth): an expert having the term meets it. A concept that does not
    `count` only adds to the score (words typed apart also tried joined)."""

    text: str
    alternatives: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    facets: list[tuple[str, int]] = field(default_factory=list)
    count: bool = True
    #: A Latin word nobody may have as typed: the engine then tries names
    #: one letter away.
    fuzzy: str = ""

    def add_tokens(self, tokens: tuple[str, ...], factor: int) -> None:
        tokens = tuple(t[:TOKEN_MAX_CHARS] for t in tokens if t)
        if tokens and all(tokens != known for known, _ in self.alternatives):
            self.alternatives.append((tokens, factor))

    def add_facet(self, facet: str, worth: int) -> None:
        if all(facet != known for known, _ in self.facets):
            self.facets.append((facet, worth))

    def tokens(self) -> list[str]:
        return [t for tokens, _ in self.alternatives for t in tokens]

    @property
    def is_place(self) -> bool:
        return bool(self.facets) and all(
            facet.startswith("district=") for facet, _ in self.facets
        )


def _chinese_tokens(word: str) -> tuple[str, ...]:
    return tuple(bigrams(word)) if len(word) > 1 else (word,)


def _add_chinese(
    concept: Concept, lex: Lexicon, word: str, *, synonym: bool = False
) -> None:
    factor = FACTOR_SYNONYM if synonym else FACTOR_WORD
    concept.add_tokens(_chinese_tokens(word), factor)
    if len(word) > 3:
        # A long word of the dictionary (电子数据存证) also met by its
        # words found apart (电子数据, 存证), without the pair across them.
        parts = [p for p in lex.cut_for_search(word) if p != word and len(p) > 1]
        if parts:
            concept.add_tokens(
                tuple(dict.fromkeys(t for p in parts for t in bigrams(p))), factor
            )
    for facet in lex.terms.get(word, ()):
        concept.add_facet(facet, SYNONYM_TERM if synonym else TERM)


def _add_latin(
    concept: Concept, lex: Lexicon, words: list[str], *, synonym: bool
) -> None:
    stems = [stem(w) for w in words if w not in ENGLISH_STOP_WORDS]
    if not stems:
        return
    factor = FACTOR_SYNONYM if synonym else FACTOR_WORD
    concept.add_tokens(tuple(stems), factor)
    if len(stems) > 1:
        concept.add_tokens(("".join(stems),), factor)
    for facet in lex.terms.get("".join(stems), ()):
        concept.add_facet(facet, SYNONYM_TERM if synonym else TERM)


def _add_word(concept: Concept, lex: Lexicon, word: str, *, synonym: bool) -> None:
    """A word as typed or a synonym's word, Chinese or Latin."""
    chinese = chinese_key(word)
    if chinese:
        _add_chinese(concept, lex, chinese, synonym=synonym)
    else:
        _add_latin(
            concept, lex, re.findall(r"[a-z0-9]+", word.lower()), synonym=synonym
        )


def _expand(concept: Concept, lex: Lexicon, key: str) -> None:
    """The synonyms of a word (by its key) into the concept."""
    for target in lex.synonyms.get(key, ()):
        _add_word(concept, lex, target, synonym=True)


def _chinese_concepts(run: str, lex: Lexicon) -> list[Concept]:
    words: list[str] = []
    pending = ""
    for word in lex.cut(run):
        if word in CHINESE_STOP_WORDS:
            if pending:
                words.append(pending)
                pending = ""
            continue
        if len(word) == 1 and word not in lex.terms:
            # Unknown runs (a name, a rare word) come out as single
            # characters: joined again, they are searched as typed.
            pending += word
            continue
        if pending:
            words.append(pending)
            pending = ""
        words.append(word)
    if pending:
        words.append(pending)
    concepts = []
    for word in words:
        concept = Concept(word)
        _add_chinese(concept, lex, word)
        _expand(concept, lex, word)
        concepts.append(concept)
    return concepts


def _pinyin_split(word: str, lex: Lexicon) -> list[str]:
    """A Latin word that is pinyin of known words typed together
    (zhuanlidaili → 专利, 代理), or nothing."""
    best: dict[int, list[str]] = {0: []}
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 24), end):
            if start in best and word[start:end] in lex.pinyin:
                candidate = [*best[start], lex.pinyin[word[start:end]]]
                if end not in best or len(candidate) < len(best[end]):
                    best[end] = candidate
    parts = best.get(len(word), [])
    return parts if len(parts) > 1 else []


def _latin_concepts(words: list[str], lex: Lexicon) -> list[Concept]:
    concepts: list[Concept] = []
    plain: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in ENGLISH_STOP_WORDS:
            i += 1
            continue
        for length in range(min(PHRASE_WORDS_MAX, len(words) - i), 0, -1):
            span = words[i : i + length]
            key = latin_key(" ".join(span))
            if not key:
                if length == 1:
                    i += 1
                    break
                continue
            known = key in lex.terms or key in lex.synonyms or key in lex.pinyin
            if not known and length > 1:
                continue
            concept = Concept(" ".join(span))
            _add_latin(concept, lex, span, synonym=False)
            if key in lex.pinyin:
                _add_chinese(concept, lex, lex.pinyin[key])
                _expand(concept, lex, lex.pinyin[key])
            _expand(concept, lex, key)
            if not known:
                split = _pinyin_split(key, lex)
                if split:
                    for word in split:
                        part = Concept(word)
                        _add_chinese(part, lex, word)
                        _expand(part, lex, word)
                        part.add_tokens((key,), FACTOR_WORD)
                        concepts.append(part)
                    i += length
                    break
                if key.isalpha() and len(key) > 3:
                    concept.fuzzy = key
                plain.append(key)
            concepts.append(concept)
            i += length
            break
    # Words typed apart also tried joined: "zhang wei" meets the name
    # zhangwei, "ouyang ming hua" ouyangminghua.
    if len(plain) > 1:
        bonus = Concept(" ".join(plain), count=False)
        for a, b in zip(plain, plain[1:], strict=False):
            bonus.add_tokens((a + b,), FACTOR_WORD)
        if len(plain) > 2:
            bonus.add_tokens(("".join(plain),), FACTOR_WORD)
        concepts.append(bonus)
    return concepts


def query_concepts(query: str) -> list[Concept]:
    """The concepts of a visitor's query, in the order typed; the same
    concept typed twice is one. Empty for an empty query or one of stop
    words only."""
    normalised = query_normalise(query)
    if not normalised:
        return []
    lex = lexicon()
    concepts: list[Concept] = []
    latin: list[str] = []
    for part in _WORD.findall(normalised):
        if _CJK_RUN.fullmatch(part):
            if latin:
                concepts += _latin_concepts(latin, lex)
                latin = []
            concepts += _chinese_concepts(part, lex)
        else:
            latin.append(part)
    if latin:
        concepts += _latin_concepts(latin, lex)
    unique: list[Concept] = []
    seen: set[tuple] = set()
    tokens = 0
    for concept in concepts:
        key = (tuple(concept.alternatives), tuple(concept.facets))
        if key in seen or not (concept.alternatives or concept.facets):
            continue
        tokens += len(concept.tokens())
        if tokens > QUERY_MAX_TOKENS * 2 or len(unique) >= CONCEPTS_MAX:
            break
        seen.add(key)
        unique.append(concept)
    return unique
