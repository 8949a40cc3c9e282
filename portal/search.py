"""Chinese-aware text for Wagtail's search index (docs/decisions.md, decision 4).

Chinese is written without spaces, so a full-text index that splits on spaces
sees a whole sentence as one word. Indexing every overlapping pair of Chinese
characters (bigrams) and turning the query into the same pairs finds words in
running text on SQLite's FTS5 and PostgreSQL's tsvector alike, with no
dictionary to maintain.

CJK and bigrams are shared with the talent search (talentpool.search.text),
which splits its own, further normalised text the same way.
"""

import re

#: The Chinese characters, as a regular expression's character class body:
#: CJK unified ideographs, extension A, compatibility ideographs, and the
#: supplementary ideographic plane (extensions B and later).
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# Other words are any letters and digits, kept whole, lower-cased; one that
# starts with another letter or a digit runs on through the Chinese
# characters after it ("ip知识" is one token).
_TOKEN = re.compile(rf"[{CJK}]+|[^\W_]+", re.UNICODE)
_CJK_RUN = re.compile(rf"^[{CJK}]+$")


def bigrams(run: str) -> list[str]:
    """Overlapping pairs of a Chinese run; a single character stays itself.

    >>> bigrams("知识产权")
    ['知识', '识产', '产权']
    """
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def cjk_terms(text: str) -> list[str]:
    """Split text into index terms: Chinese runs as bigrams, other words whole.

    >>> cjk_terms("知识产权 training")
    ['知识', '识产', '产权', 'training']
    """
    terms: list[str] = []
    for token in _TOKEN.findall(text or ""):
        if _CJK_RUN.match(token):
            terms.extend(bigrams(token))
        else:
            terms.append(token.lower())
    return terms


def cjk_index_text(*parts: str) -> str:
    """The text to index for the given parts, as space-separated terms."""
    return " ".join(cjk_terms(" ".join(p for p in parts if p)))


def cjk_query(query: str) -> str:
    """A user's query turned into the terms the index holds."""
    return " ".join(dict.fromkeys(cjk_terms(query)))
