"""Exposure per (counterparty, asset) in fixed event-time windows.

Definitions (the risk app's limit check uses the same ones against PostgreSQL):
- A settlement counts for both of its parties: its payer and its payee are each a counterparty.
  `*_gross` adds the amount for either side; `*_net` adds it as payee and subtracts it as payer.
- Open exposure is what is pending or funded. `settlement.created` opens it; `settled`,
  `cancelled`, `failed` and `refunded` close it; `funded` moves it between open states.
  `exposure_change_*` is the window's change of open exposure, so a running sum over a key's
  final rows is its exposure.
- Amounts are summed exactly (integers in base units; mixed scales are brought to the larger one).

Windows and panes: early panes every `early_firing_seconds` of processing time, an on-time pane
when the watermark passes the window end, then a late pane for each late event within
`allowed_lateness`. Panes ACCUMULATE: every pane is the window's whole total so far, so the row
with the highest `pane_index` per (counterparty, asset, window_start) is exact — consumers pick that
one and never add panes up. Events later than the allowed lateness are dropped by the window
(they are still in `risk.settlement_events`).

Duplicates (a re-published event) are removed inside each window's accumulator by event id: a
duplicate carries the same envelope time, so it always lands in the same window as the original.
"""

from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.transforms import trigger, window
from apache_beam.utils.windowed_value import PaneInfoTiming

from .parse import SettlementEvent, iso

OPEN = "pending"
BUCKET_BY_STATUS = {
    "pending": "pending",
    "funded": "funded",
    "settled": "settled",
    "cancelled": "released",
    "failed": "released",
    "refunded": "released",
}
BUCKETS = ("pending", "funded", "settled", "released")
# How each bucket moves open exposure (pending and funded are both open).
EXPOSURE_SIGN = {"pending": 1, "funded": 0, "settled": -1, "released": -1}

PAYER, PAYEE = -1, 1


def exposure_contributions(event: SettlementEvent):
    """((counterparty, asset), contribution) for each side of the settlement."""
    bucket = BUCKET_BY_STATUS[event.status]
    for counterparty, side in ((event.payer_reference, PAYER), (event.payee_reference, PAYEE)):
        yield (
            (counterparty, event.asset),
            (event.event_id, event.settlement_id, bucket, side, event.amount_base_units, event.asset_decimals),
        )


def _rescale(units: int, from_decimals: int, to_decimals: int) -> int:
    return units * 10 ** (to_decimals - from_decimals)


def summarize(contributions) -> dict:
    """Totals of de-duplicated contributions (one key, one window). Plain Python, exact."""
    contributions = list(contributions)
    decimals = max((c[5] for c in contributions), default=0)
    totals = {f"{bucket}_{kind}": 0 for bucket in BUCKETS for kind in ("gross", "net")}
    settlements = set()
    for _event_id, settlement_id, bucket, side, units, scale in contributions:
        units = _rescale(units, scale, decimals)
        totals[f"{bucket}_gross"] += units
        totals[f"{bucket}_net"] += side * units
        settlements.add(settlement_id)
    totals["exposure_change_gross"] = sum(EXPOSURE_SIGN[b] * totals[f"{b}_gross"] for b in BUCKETS)
    totals["exposure_change_net"] = sum(EXPOSURE_SIGN[b] * totals[f"{b}_net"] for b in BUCKETS)
    totals["asset_decimals"] = decimals
    totals["event_count"] = len(contributions)
    totals["settlement_count"] = len(settlements)
    return totals


class ExposureCombineFn(beam.CombineFn):
    """Accumulates contributions keyed by event id, which is what de-duplicates re-deliveries."""

    def create_accumulator(self):
        return {}

    def add_input(self, accumulator, contribution):
        accumulator.setdefault(contribution[0], contribution)
        return accumulator

    def merge_accumulators(self, accumulators):
        merged = {}
        for accumulator in accumulators:
            for event_id, contribution in accumulator.items():
                merged.setdefault(event_id, contribution)
        return merged

    def extract_output(self, accumulator):
        return summarize(accumulator.values())


class FormatExposureRow(beam.DoFn):
    def process(self, element, win=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        (counterparty, asset), totals = element
        row = {
            "counterparty": counterparty,
            "asset": asset,
            "window_start": iso(win.start.to_utc_datetime(has_tz=True)),
            "window_end": iso(win.end.to_utc_datetime(has_tz=True)),
            **{key: (str(value) if key.endswith(("_gross", "_net")) else value) for key, value in totals.items()},
            "pane_timing": _TIMING_NAMES.get(pane.timing, "UNKNOWN"),
            "pane_index": pane.index,
            "emitted_at": iso(datetime.now(UTC)),
        }
        yield row


_TIMING_NAMES = {
    PaneInfoTiming.EARLY: "EARLY",
    PaneInfoTiming.ON_TIME: "ON_TIME",
    PaneInfoTiming.LATE: "LATE",
    PaneInfoTiming.UNKNOWN: "UNKNOWN",
}


class ComputeExposures(beam.PTransform):
    def __init__(self, *, window_seconds: int = 60, early_firing_seconds: int = 5, allowed_lateness_seconds: int = 600):
        super().__init__()
        self.window_seconds = window_seconds
        self.early_firing_seconds = early_firing_seconds
        self.allowed_lateness_seconds = allowed_lateness_seconds

    def expand(self, events):
        return (
            events
            | "Window"
            >> beam.WindowInto(
                window.FixedWindows(self.window_seconds),
                trigger=trigger.AfterWatermark(
                    # 0 turns early panes off (batch runs have no processing-time clock)
                    early=trigger.AfterProcessingTime(self.early_firing_seconds) if self.early_firing_seconds else None,
                    late=trigger.AfterCount(1),
                ),
                accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
                allowed_lateness=self.allowed_lateness_seconds,
            )
            | "BothSides" >> beam.FlatMap(exposure_contributions)
            | "SumPerKey" >> beam.CombinePerKey(ExposureCombineFn())
            | "ToRow" >> beam.ParDo(FormatExposureRow())
        )
