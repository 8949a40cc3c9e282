"""Celery task that reindexes the experts a changed label concerns."""

from celery import shared_task


@shared_task(
    name="talentpool.search.tasks.reindex_experts_using",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=3,
)
def reindex_experts_using(model_label: str, pk: int) -> None:
    """Reindex the experts that use one organisation or vocabulary term (its
    name or labels changed). Takes ids; may run twice."""
    from talentpool.search.index import experts_reindex, experts_using

    experts_reindex(expert_ids=experts_using(model_label=model_label, pk=pk))
