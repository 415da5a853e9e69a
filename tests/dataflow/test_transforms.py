"""The pipeline's timing logic on Beam's own test harness: TestPipeline + TestStream + assert_that.

One stream walks a window through its whole life: on-time events, an early pane, a duplicate
delivery, the on-time pane, a late event, then one too late, and malformed messages beside them.
"""

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

# Aliased so pytest does not take Beam's classes for test classes.
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.testing.util import assert_that, equal_to

from dataflow.risk_pipeline import schemas
from dataflow.risk_pipeline.main import RiskPipelineOptions, build
from dataflow.risk_pipeline.transforms import ComputeExposures, ParseSettlementEvents
from tests.dataflow.events import T0, eid, envelope, message

WINDOW, EARLY, LATENESS = 60, 5, 120
START = T0.timestamp()
W0 = "2026-11-28T10:00:00.000000Z"
W1 = "2026-11-28T10:01:00.000000Z"


def evt(event_id, action, settlement_id, at, *, payer="A", payee="B", amount="100.00", sequence=1, asset="USD"):
    return message(
        envelope(
            event_id=event_id,
            action=action,
            settlement_id=settlement_id,
            at=at,
            payer=payer,
            payee=payee,
            amount=amount,
            sequence=sequence,
            asset=asset,
        )
    )


def streaming_pipeline():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return BeamTestPipeline(runner=BundleBasedDirectRunner(), options=options)


def window_stream():
    s1 = evt("e1", "created", "s1", 10, payee="B", amount="100.00")
    return (
        BeamTestStream(coder=beam.coders.PickleCoder())
        .advance_watermark_to(START)
        # on time: two settlements opened by A
        .add_elements([s1, evt("e2", "created", "s2", 20, payee="C", amount="50.00")])
        # 6 s of processing time pass: the early pane fires
        .advance_processing_time(EARLY + 1)
        # the same event delivered again, s1 funded, and malformed messages
        .add_elements(
            [
                s1,
                evt("e3", "funded", "s1", 30, payee="B", amount="100.00", sequence=2),
                message(b"{not json"),
                message(
                    json.dumps(
                        {
                            **envelope(event_id="e9", action="created", settlement_id="s9", at=5),
                            "type": "settlement.teleported",
                        }
                    ).encode()
                ),
                evt("e6", "created", "s6", 70, payer="D", payee="E", amount="0.000001", asset="USDC"),
            ]
        )
        # the watermark passes the first window's end: its on-time pane
        .advance_watermark_to(START + WINDOW)
        # late, but within the allowed lateness: s2 cancelled at 10:00:40
        .add_elements([evt("e4", "cancelled", "s2", 40, payee="C", amount="50.00", sequence=2)])
        # past the allowed lateness: the window is closed for good
        .advance_watermark_to(START + WINDOW + LATENESS + 1)
        .add_elements([evt("e5", "created", "s5", 45, payee="B", amount="1.00")])
        .advance_watermark_to_infinity()
    )


def project(row):
    """The row without its processing-time stamp, as a comparable tuple."""
    return (
        row["counterparty"],
        row["asset"],
        row["window_start"],
        row["pane_timing"],
        row["pane_index"],
        row["event_count"],
        row["settlement_count"],
        row["asset_decimals"],
        row["pending_gross"],
        row["pending_net"],
        row["funded_gross"],
        row["funded_net"],
        row["released_gross"],
        row["released_net"],
        row["exposure_change_gross"],
        row["exposure_change_net"],
    )


# (counterparty, asset, window, timing, index, events, settlements, decimals,
#  pending gross/net, funded gross/net, released gross/net, exposure change gross/net) in base units
EXPECTED_EXPOSURES = [
    # early pane: A paid out 100.00 to B and 50.00 to C, all still pending
    ("A", "USD", W0, "EARLY", 0, 2, 2, 2, "15000", "-15000", "0", "0", "0", "0", "15000", "-15000"),
    ("B", "USD", W0, "EARLY", 0, 1, 1, 2, "10000", "10000", "0", "0", "0", "0", "10000", "10000"),
    ("C", "USD", W0, "EARLY", 0, 1, 1, 2, "5000", "5000", "0", "0", "0", "0", "5000", "5000"),
    # on time: the duplicate of e1 is not counted again; funding keeps the exposure open
    ("A", "USD", W0, "ON_TIME", 1, 3, 2, 2, "15000", "-15000", "10000", "-10000", "0", "0", "15000", "-15000"),
    ("B", "USD", W0, "ON_TIME", 1, 2, 1, 2, "10000", "10000", "10000", "10000", "0", "0", "10000", "10000"),
    ("C", "USD", W0, "ON_TIME", 1, 1, 1, 2, "5000", "5000", "0", "0", "0", "0", "5000", "5000"),
    # late: the cancellation releases C's 50.00; panes accumulate, so this row is the window's total
    ("A", "USD", W0, "LATE", 2, 4, 2, 2, "15000", "-15000", "10000", "-10000", "5000", "-5000", "10000", "-10000"),
    ("C", "USD", W0, "LATE", 2, 2, 1, 2, "5000", "5000", "0", "0", "5000", "5000", "0", "0"),
    # the next window, one USDC millionth (six decimals), on time; e5 (too late) appears nowhere
    ("D", "USDC", W1, "ON_TIME", 0, 1, 1, 6, "1", "-1", "0", "0", "0", "0", "1", "-1"),
    ("E", "USDC", W1, "ON_TIME", 0, 1, 1, 6, "1", "1", "0", "0", "0", "0", "1", "1"),
]


def test_exposure_panes_are_exact_per_window_early_on_time_late_and_too_late():
    with streaming_pipeline() as p:
        parsed = p | window_stream() | beam.ParDo(ParseSettlementEvents()).with_outputs("dead_letter", main="events")
        exposures = parsed.events | ComputeExposures(
            window_seconds=WINDOW, early_firing_seconds=EARLY, allowed_lateness_seconds=LATENESS
        )
        assert_that(exposures | beam.Map(project), equal_to(EXPECTED_EXPOSURES), label="exposures")
        columns = sorted(schemas.column_names("portfolio_exposures"))
        assert_that(exposures | beam.Map(sorted), equal_to([columns] * len(EXPECTED_EXPOSURES)), label="schema columns")
        assert_that(
            parsed.dead_letter | beam.Map(lambda r: (r["stage"], r["payload"][:9], r["error"])),
            equal_to(
                [
                    (
                        "parse",
                        "{not json",
                        "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
                    ),
                    ("parse", '{"specver', "unknown event type 'settlement.teleported'"),
                ]
            ),
            label="dead letters",
        )


def test_every_delivery_reaches_the_raw_event_rows_even_duplicates_and_too_late_ones():
    with streaming_pipeline() as p:
        outputs = build(
            p,
            RiskPipelineOptions(["--output_project", "unused", "--bigquery_endpoint", "http://127.0.0.1:9"]),
            messages=p | window_stream(),
        )
        assert_that(
            outputs["event_rows"] | beam.Map(lambda r: (r["event_id"], r["type"], r["amount_base_units"])),
            equal_to(
                [
                    (eid("e1"), "settlement.created", "10000"),
                    (eid("e2"), "settlement.created", "5000"),
                    (eid("e1"), "settlement.created", "10000"),
                    (eid("e3"), "settlement.funded", "10000"),
                    (eid("e6"), "settlement.created", "1"),
                    (eid("e4"), "settlement.cancelled", "5000"),
                    (eid("e5"), "settlement.created", "100"),
                ]
            ),
        )


@pytest.fixture(autouse=True)
def _no_bigquery_writes(monkeypatch):
    """These tests check the transforms' outputs; the BigQuery writer is tested against the emulator."""
    from dataflow.risk_pipeline.transforms import bigquery

    monkeypatch.setattr(bigquery.InsertRows, "setup", lambda self: None)
    monkeypatch.setattr(bigquery.InsertRows, "_flush", lambda self: setattr(self, "rows", []))
