"""Celery entry points: beat fans out one relay tick per enabled chain that is due."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from escrow.models import Chain
from escrow.relayer.runner import relay_tick
from escrow.selectors import chains_due


@shared_task(name="escrow.relay_chain", ignore_result=True)
def relay_chain_task(chain_id: int) -> dict:
    chain = Chain.objects.filter(pk=chain_id, enabled=True).first()
    if chain is None:
        return {"status": "disabled"}
    result = relay_tick(chain=chain)
    return {"status": result.status, "events": result.events, "to_block": result.to_block, "error": result.error}


@shared_task(name="escrow.relay_due_chains", ignore_result=True)
def relay_due_chains_task() -> list[int]:
    # Overlapping ticks are harmless (advisory lock); the expiry keeps a backlog from piling up.
    due = [chain.pk for chain in chains_due(now=timezone.now())]
    for chain_id in due:
        relay_chain_task.apply_async(args=[chain_id], expires=timedelta(minutes=5).total_seconds())
    return due
