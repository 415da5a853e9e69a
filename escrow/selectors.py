"""Reads of the escrow app (admin status, timelines, filters)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import django_filters
from django.db.models import Q, QuerySet

from escrow.models import (
    CONTRACT_ABI,
    Chain,
    ChainEvent,
    Checkpoint,
    ContractKind,
    CrossChainInstruction,
    Escrow,
    WatchedContract,
)


def chains_due(*, now: datetime) -> list[Chain]:
    """Enabled chains whose poll interval has elapsed since their last tick."""
    due = []
    for chain in Chain.objects.filter(enabled=True).select_related("checkpoint"):
        checkpoint = getattr(chain, "checkpoint", None)
        last = checkpoint.last_tick_at if checkpoint else None
        if last is None or now - last >= timedelta(seconds=chain.poll_interval_seconds):
            due.append(chain)
    return due


@dataclass
class ChainStatus:
    head: int | None
    checkpoint: int | None
    lag_blocks: int | None
    lag_seconds: int | None
    last_error: str


def chain_status(*, chain: Chain) -> ChainStatus:
    checkpoint = Checkpoint.objects.filter(chain=chain).first()
    if checkpoint is None:
        return ChainStatus(None, None, None, None, "never ran")
    lag_blocks = checkpoint.head - checkpoint.block_number if checkpoint.head is not None else None
    lag_seconds = None
    if checkpoint.head_time and checkpoint.block_time:
        lag_seconds = max(0, int((checkpoint.head_time - checkpoint.block_time).total_seconds()))
    return ChainStatus(checkpoint.head, checkpoint.block_number, lag_blocks, lag_seconds, checkpoint.last_error)


def escrow_timeline(*, escrow_id: str) -> QuerySet[ChainEvent]:
    return ChainEvent.objects.filter(escrow_id=escrow_id).order_by("block_number", "log_index", "removed")


def escrow_instructions(*, escrow: Escrow) -> QuerySet[CrossChainInstruction]:
    """Cross-chain instructions a watched handler received for this escrow (by address too: a message
    can name an escrow before its creation is seen)."""
    return (
        CrossChainInstruction.objects.filter(
            Q(escrow=escrow) | Q(chain_id=escrow.chain_id, escrow_address=escrow.address)
        )
        .select_related("chain")
        .order_by("received_block", "block_number", "id")
    )


def escrow_instructions_sent(*, escrow: Escrow) -> QuerySet[ChainEvent]:
    """InstructionSent events (on any watched sender's chain) aimed at this escrow through a handler
    watched on the escrow's own chain."""
    handlers = list(
        WatchedContract.objects.filter(chain_id=escrow.chain_id, kind=ContractKind.INSTRUCTION_HANDLER).values_list(
            "address", flat=True
        )
    )
    if not handlers:
        return ChainEvent.objects.none()
    return (
        ChainEvent.objects.filter(
            contract=CONTRACT_ABI[ContractKind.INSTRUCTION_SENDER],
            event_name="InstructionSent",
            removed=False,
            args__escrow=escrow.address,
            args__handler__in=handlers,
        )
        .select_related("chain")
        .order_by("chain", "block_number", "log_index")
    )


class ChainEventFilter(django_filters.FilterSet):
    chain = django_filters.CharFilter(field_name="chain__name")
    escrow = django_filters.CharFilter(method="filter_escrow")
    type = django_filters.CharFilter(field_name="event_name")
    block_from = django_filters.NumberFilter(field_name="block_number", lookup_expr="gte")
    block_to = django_filters.NumberFilter(field_name="block_number", lookup_expr="lte")
    removed = django_filters.BooleanFilter()

    class Meta:
        model = ChainEvent
        fields = ["chain", "escrow", "type", "block_from", "block_to", "removed"]

    def filter_escrow(self, queryset, name, value):
        return queryset.filter(Q(escrow_id=value) | Q(escrow__address=value.lower()))


def chain_event_list(*, filters: dict | None = None) -> QuerySet[ChainEvent]:
    queryset = ChainEvent.objects.select_related("chain", "escrow")
    return ChainEventFilter(filters or {}, queryset=queryset).qs
