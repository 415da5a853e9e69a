"""The risk pipeline's transforms; `main.py` only wires them."""

from .bigquery import WriteToBigQueryTable
from .exposure import ComputeExposures, ExposureCombineFn, exposure_contributions, summarize
from .parse import (
    DEAD_LETTER,
    MalformedEvent,
    ParseSettlementEvents,
    SettlementEvent,
    dead_letter_row,
    parse_settlement_event,
    settlement_event_row,
)

__all__ = [
    "DEAD_LETTER",
    "ComputeExposures",
    "ExposureCombineFn",
    "MalformedEvent",
    "ParseSettlementEvents",
    "SettlementEvent",
    "WriteToBigQueryTable",
    "dead_letter_row",
    "exposure_contributions",
    "parse_settlement_event",
    "settlement_event_row",
    "summarize",
]
