"""The talent pool's expert search (issue 5, point 4; docs/talentpool-search.md).

- text: one normalisation for index and query (Simplified, bigrams, pinyin);
- index: the per-expert document and weighted tokens, and keeping them;
- facets: the facet codes as bitmaps, checked against the index's changes;
- engine: expert_search for the public page and API, experts_matching for
  the admin.
"""

from talentpool.search.engine import (
    PAGE_SIZE_MAX,
    RESULT_WINDOW,
    ExpertSearch,
    PageOutOfRange,
    expert_search,
    experts_matching,
)
from talentpool.search.index import expert_index_update, experts_reindex
from talentpool.search.text import QUERY_MAX_CHARS, query_normalise

__all__ = [
    "PAGE_SIZE_MAX",
    "QUERY_MAX_CHARS",
    "RESULT_WINDOW",
    "ExpertSearch",
    "PageOutOfRange",
    "expert_index_update",
    "expert_search",
    "experts_matching",
    "experts_reindex",
    "query_normalise",
]
