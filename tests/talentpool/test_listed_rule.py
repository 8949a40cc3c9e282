"""Who is a listed expert has one definition, talentpool.models.LISTED:
ExpertQuerySet.listed() filters on it, and the search's SQL is written from
it. Every way the portal selects listed experts picks exactly the ORM's
set, here on a pool with an expert failing each condition of the rule (and
CI runs this on SQLite and PostgreSQL alike)."""

import datetime
import importlib

import pytest

from django.db import connection
from django.utils import timezone

from talentpool import statistics
from talentpool.models import LISTED, Expert
from talentpool.search import engine, expert_search, experts_reindex
from tests.talentpool.factories import ExpertFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
#: Every expert of the pool has these words, so a search for them finds all.
QUERY = "专利 商标"

LISTED_CASE = {
    "verification_status": Expert.Verification.VERIFIED,
    "verified_at": NOW,
    "publication_consent_at": NOW,
    "last_confirmed_at": NOW - datetime.timedelta(days=3),
    "biography": "专利代理与商标诉讼。",
}
#: name: how the expert differs from a listed one.
CASES: dict[str, dict] = {
    "listed": {},
    "listed, confirmed long ago": {
        "last_confirmed_at": NOW - datetime.timedelta(days=300)
    },
    "listed, never confirmed": {"last_confirmed_at": None},
    "not yet verified": {
        "verification_status": Expert.Verification.UNVERIFIED,
        "verified_at": None,
    },
    "changes requested": {"verification_status": Expert.Verification.CHANGES_REQUESTED},
    "verification rejected": {"verification_status": Expert.Verification.REJECTED},
    "no consent": {"publication_consent_at": None},
    "withdrawn": {"status": Expert.Status.WITHDRAWN},
    "suspended": {"status": Expert.Status.SUSPENDED, "status_reason": "投诉核查中。"},
    "removed": {"status": Expert.Status.REMOVED, "status_reason": "执业证吊销。"},
    "lapsed": {"lapsed_at": NOW - datetime.timedelta(days=1)},
    "lapsed, no consent": {
        "lapsed_at": NOW - datetime.timedelta(days=1),
        "publication_consent_at": None,
    },
}
EXPECTED_LISTED = {"listed", "listed, confirmed long ago", "listed, never confirmed"}


@pytest.fixture
def pool() -> dict[str, int]:
    """{case name: expert id}, indexed for the search."""
    ids = {
        name: ExpertFactory(name=name, **{**LISTED_CASE, **changes}).pk
        for name, changes in CASES.items()
    }
    experts_reindex()
    return ids


def _ids(rows) -> set[int]:
    return {row[0] for row in rows}


def _listed_sql() -> set[int]:
    table = connection.ops.quote_name(Expert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {engine.LISTED_SQL}")
        return _ids(cursor.fetchall())


def _searched(**search) -> set[int]:
    found = expert_search(**search)
    ids = found.ids(1, 50)
    assert found.total == len(ids)
    return set(ids)


#: Every path that selects the listed experts, as a set of ids.
PATHS = {
    "engine._listed_order, years": lambda: _ids(
        engine._listed_order(with_dates=False, with_years=True)
    ),
    "engine._listed_order": lambda: _ids(engine._listed_order(with_dates=False)),
    "engine._listed_order, dates": lambda: _ids(engine._listed_order(with_dates=True)),
    "engine.LISTED_SQL": _listed_sql,
    "expert_search, everyone": lambda: _searched(),
    "expert_search, relevance": lambda: _searched(query=QUERY),
    "expert_search, confirmed": lambda: _searched(query=QUERY, sort="confirmed"),
    "expert_search, years": lambda: _searched(query=QUERY, sort="years"),
    "expert_search, everyone by years": lambda: _searched(sort="years"),
    "statistics": lambda: set(
        Expert.objects.filter(statistics._listed_q()).values_list("pk", flat=True)
    ),
}


def test_the_pool_fails_each_condition_of_the_rule(pool):
    """The ORM's listed() is the reference: the pool has an expert listed
    and experts failing each condition, and the rule is the one described."""
    listed = set(Expert.objects.listed().values_list("pk", flat=True))
    assert listed == {pool[name] for name in EXPECTED_LISTED}
    assert Expert.objects.listed().query.where == (
        Expert.objects.filter(**LISTED).query.where
    )


@pytest.mark.parametrize("path", PATHS)
def test_every_path_selects_the_orms_listed_experts(pool, path):
    listed = set(Expert.objects.listed().values_list("pk", flat=True))
    assert PATHS[path]() == listed, connection.vendor


def test_the_search_sql_is_the_partial_index_word_for_word():
    """The ordered listing reads a partial index only when its WHERE is the
    index's own (migration 0007): a change to the rule needs a new index."""
    migration = importlib.import_module("talentpool.migrations.0007_search_bits")
    assert migration.LISTED == engine.LISTED_SQL


def test_the_sql_is_written_from_the_rule():
    condition, params = engine.listed_where("e.")
    assert condition.count(" AND ") == len(LISTED) - 1
    assert all(term.startswith("e.") for term in condition.split(" AND "))
    assert params == [value for value in LISTED.values() if not isinstance(value, bool)]
    literal, no_params = engine.listed_where(literal=True)
    assert no_params == []
    assert "%s" not in literal


def test_a_lookup_the_sql_cannot_spell_is_refused(monkeypatch):
    monkeypatch.setitem(LISTED, "years_of_practice__gte", 1)
    with pytest.raises(ValueError):
        engine.listed_where()
