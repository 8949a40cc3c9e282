"""Keeping the search index of experts: a document and weighted tokens per
expert, built from public fields only.

The index is denormalised on purpose: one row per (expert, token) with the
weight of the most important field the token is found in, so that a query is
a single indexed ``WHERE token IN (...) GROUP BY expert`` on SQLite and
PostgreSQL alike. Whether an expert is listed is not copied here: the query
joins the expert row, so a status change needs no reindexing.
"""

import re
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet

from portal.models import District, IPType, Term
from talentpool.contact_details import without_contact_details
from talentpool.models import (
    Expert,
    ExpertCategory,
    ExpertSearchDocument,
    ExpertToken,
    Industry,
    Language,
    Organisation,
    Service,
)
from talentpool.search.bits import bits_update
from talentpool.search.facets import index_changed
from talentpool.search.text import (
    name_tokens,
    text_normalise,
    text_tokens,
)

# Field weights: a token's weight in an expert is that of the most important
# field it is found in. The order (name > category > other labels >
# organisation > biography) is what the relevance set checks.
WEIGHT_NAME = 12
WEIGHT_CATEGORY = 8
WEIGHT_LABEL = 6
WEIGHT_ORGANISATION = 4
WEIGHT_PLACE = 3
WEIGHT_BIOGRAPHY = 2

#: Facet keys, the expert's relation each is read from, and its vocabulary.
FACETS: dict[str, tuple[str, type[Term]]] = {
    "category": ("categories", ExpertCategory),
    "ip_type": ("ip_types", IPType),
    "service": ("services", Service),
    "industry": ("industries", Industry),
    "district": ("district", District),
    "language": ("languages", Language),
}
_LABEL_WEIGHTS = {
    "categories": WEIGHT_CATEGORY,
    "ip_types": WEIGHT_LABEL,
    "services": WEIGHT_LABEL,
    "industries": WEIGHT_LABEL,
    "languages": WEIGHT_PLACE,
}

#: The weights of the vocabularies' labels.
LABEL_WEIGHTS = frozenset({WEIGHT_CATEGORY, WEIGHT_LABEL, WEIGHT_PLACE})

# Seven or more digits, maybe with +, spaces, dots, dashes or brackets: a
# phone number (or anything that could be one) is never indexed.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")

BATCH_SIZE = 500


def _scrub(text: str, expert: Expert) -> str:
    """Text with the expert's e-mail and phone, any contact detail written
    into it (talentpool.contact_details) and any run of digits that could be
    a phone number taken out (docs/decisions.md, decision 3)."""
    for private in (expert.email, expert.phone):
        if private:
            text = text.replace(private, " ")
    text = without_contact_details(text, replacement=" ")
    return _PHONE.sub(" ", text)


def expert_document(expert: Expert) -> tuple[str, str, dict[str, int]]:
    """(text, facets, {token: weight}) for an expert whose vocabularies and
    organisation are loaded. Only public fields are read."""
    weights: dict[str, int] = {}
    parts: list[str] = []

    def add(tokens: Iterable[str], weight: int) -> None:
        for token in tokens:
            if weights.get(token, 0) < weight:
                weights[token] = weight

    name = _scrub(expert.name, expert)
    add(name_tokens(name), WEIGHT_NAME)
    parts.append(text_normalise(name))
    parts.append(" ".join(sorted({t for t in name_tokens(name) if t.isascii()})))
    if expert.external_id:
        external_id = text_normalise(_scrub(expert.external_id, expert))
        add(text_tokens(external_id), WEIGHT_NAME)
        parts.append(external_id)
    if expert.organisation is not None:
        organisation = text_normalise(_scrub(expert.organisation.name, expert))
        add(text_tokens(organisation), WEIGHT_ORGANISATION)
        parts.append(organisation)
    facets: list[str] = []
    for key, (relation, _model) in FACETS.items():
        if relation == "district":
            terms = [expert.district] if expert.district is not None else []
            weight = WEIGHT_PLACE
        else:
            terms = list(getattr(expert, relation).all())
            weight = _LABEL_WEIGHTS[relation]
        for term in terms:
            facets.append(f"{key}={term.code}")
            for label in (term.name_zh, term.name_en):
                label = text_normalise(label)
                add(text_tokens(label, phrase=True), weight)
                parts.append(label)
    if expert.accepting_requests and (expert.user_id or expert.email):
        # talentpool.models.reachable_q: the "can be contacted" filter.
        facets.append("reachable=yes")
    biography = text_normalise(_scrub(expert.biography, expert))
    add(text_tokens(biography), WEIGHT_BIOGRAPHY)
    parts.append(biography)
    return " ".join(p for p in parts if p), " ".join(facets), weights


def _terms(model: type[Term]) -> Callable[[], QuerySet[Term]]:
    return lambda: model._default_manager.only("pk", "code", "name_zh", "name_en")


_TERMS = {relation: _terms(model) for relation, model in FACETS.values()}


def _experts(ids: Iterable[int]) -> Iterator[Expert]:
    relations = [relation for relation, _ in FACETS.values() if relation != "district"]
    yield from (
        Expert.objects.filter(pk__in=list(ids))
        .select_related("organisation", "district")
        .prefetch_related(
            *(Prefetch(relation, queryset=_TERMS[relation]()) for relation in relations)
        )
        .order_by()
    )


def _write(experts: list[Expert]) -> int:
    """Replace the documents, tokens and token bitmaps of these experts, and
    record the change (for the facet bitmaps); returns how many tokens were
    written.
    Raw, parameterised SQL through Django's cursor: the same statements on
    SQLite and PostgreSQL, several times faster than building a model
    instance per token."""
    if not experts:
        return 0
    ids = [expert.pk for expert in experts]
    table = connection.ops.quote_name(ExpertToken._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT expert_id, token, weight FROM {table}"
            f" WHERE expert_id IN ({marks})",
            ids,
        )
        old = cursor.fetchall()
    ExpertToken.objects.filter(expert_id__in=ids).delete()
    ExpertSearchDocument.objects.filter(expert_id__in=ids).delete()
    documents = []
    rows: list[tuple[int, str, int]] = []
    for expert in experts:
        text, facets, weights = expert_document(expert)
        documents.append(ExpertSearchDocument(expert=expert, text=text, facets=facets))
        rows.extend((expert.pk, token, weight) for token, weight in weights.items())
    ExpertSearchDocument.objects.bulk_create(documents)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (expert_id, token, weight) VALUES (%s, %s, %s)",
            rows,
        )
    bits_update(ids=ids, old=old, new=rows)
    index_changed()
    return len(rows)


def expert_index_update(*, expert_id: int) -> None:
    """Rebuild one expert's search document and tokens from the database.

    Before: any state; the expert may not exist (then its rows are gone by
    cascade and nothing happens). After: the index says what the expert's
    public fields say. May run twice."""
    experts_reindex(expert_ids=[expert_id])


def experts_reindex(
    *,
    expert_ids: Iterable[int] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the search index of the given experts, or of every expert.

    Works a batch at a time, each in its own transaction (or inside the
    caller's), so memory stays flat whatever the number of experts. Returns
    how many experts were indexed; `progress` is called with the running
    count after each batch. May run twice: the second run writes the same."""
    if expert_ids is None:
        ids: list[int] = list(
            Expert.objects.order_by("pk").values_list("pk", flat=True)
        )
    else:
        ids = sorted(set(expert_ids))
    done = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            experts = list(_experts(chunk))
            _write(experts)
            # Experts deleted meanwhile: their rows went by cascade. Bits
            # of theirs left in a bitmap never show: every search keeps
            # only experts that exist and are listed, and ids are not reused.
        done += len(experts)
        if progress:
            progress(done)
    return done


def experts_using(*, model_label: str, pk: int) -> list[int]:
    """Ids of the experts that use an organisation or vocabulary term, given
    as its model label (``talentpool.Organisation``, ``portal.IPType``…)."""
    from django.apps import apps

    model = apps.get_model(model_label)
    if model is Organisation:
        field = "organisation"
    elif model is District:
        field = "district"
    else:
        field = next(relation for relation, term in FACETS.values() if term is model)
    return list(Expert.objects.filter(**{field: pk}).values_list("pk", flat=True))
