"""Keep the search index current when experts are edited one by one.

Handlers only schedule work on commit (docs/decisions.md, convention 6): an
expert's own edit is reindexed in the same process right after the commit,
because it is one expert and the editor expects to find it at once; a renamed
organisation or vocabulary term may concern thousands, so a Celery task does
it. The bulk import calls experts_reindex itself (signals do not fire for bulk
writes).
"""

from functools import partial

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.models import District, IPType
from talentpool.models import (
    Expert,
    ExpertCategory,
    Industry,
    Language,
    Organisation,
    SearchSynonym,
    Service,
)
from talentpool.search.index import expert_index_update
from talentpool.search.lexicon import lexicon_changed
from talentpool.search.tasks import reindex_experts_using

RELATIONS = ("categories", "ip_types", "services", "industries", "languages")


def _expert_saved(sender, instance: Expert, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata
        return
    transaction.on_commit(partial(expert_index_update, expert_id=instance.pk))


def _expert_relations_changed(
    sender, instance, action: str, reverse: bool, pk_set, **kwargs
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        transaction.on_commit(partial(expert_index_update, expert_id=instance.pk))
    else:
        # term.experts.add(...): a term changed for several experts
        for pk in pk_set or ():
            transaction.on_commit(partial(expert_index_update, expert_id=pk))


def _label_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created or raw:  # a new term or organisation has no experts yet
        return
    reindex_experts_using.delay_on_commit(sender._meta.label, instance.pk)


def connect() -> None:
    """Connect the handlers (TalentpoolConfig.ready)."""
    post_save.connect(_expert_saved, sender=Expert, dispatch_uid="search_expert")
    for relation in RELATIONS:
        m2m_changed.connect(
            _expert_relations_changed,
            sender=getattr(Expert, relation).through,
            dispatch_uid=f"search_expert_{relation}",
        )
    for model in (
        Organisation,
        ExpertCategory,
        IPType,
        Service,
        Industry,
        Language,
        District,
    ):
        post_save.connect(
            _label_saved, sender=model, dispatch_uid=f"search_label_{model._meta.label}"
        )
    # The query's lexicon (terms, synonyms, the segmenter's dictionary) is
    # built again at this process's next search; others within
    # LEXICON_SECONDS.
    lexicon_sources: tuple[type[Model], ...] = (
        SearchSynonym,
        Organisation,
        ExpertCategory,
        IPType,
        Service,
        Industry,
        Language,
        District,
    )
    for source in lexicon_sources:
        for signal in (post_save, post_delete):
            signal.connect(
                lexicon_changed,
                sender=source,
                dispatch_uid=f"lexicon_{source._meta.label}_{signal is post_save}",
            )
