"""The risk pipeline: Pub/Sub settlement events → parse → 1-minute exposures → BigQuery.

Wiring only; every step lives in `transforms/`. Run locally with `dataflow/run_local.sh`, on
Dataflow with `--runner DataflowRunner` (see dataflow/QUICKSTART.md).
"""

import logging

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from .schemas import DEAD_LETTER, PORTFOLIO_EXPOSURES, SETTLEMENT_EVENTS
from .transforms import ComputeExposures, ParseSettlementEvents, WriteToBigQueryTable, settlement_event_row
from .transforms.parse import DEAD_LETTER as DEAD_LETTER_TAG


class RiskPipelineOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--input_subscription", help="projects/P/subscriptions/S to read settlement events from.")
        source.add_argument("--input_topic", help="projects/P/topics/T (the runner makes a temporary subscription).")
        parser.add_argument("--output_project", help="BigQuery project of the output dataset (default: --project).")
        parser.add_argument("--output_dataset", default="risk", help="BigQuery dataset with the risk tables.")
        parser.add_argument(
            "--bigquery_endpoint",
            default=None,
            help="BigQuery API endpoint, e.g. http://127.0.0.1:9050 for bqemulator; unset for Google.",
        )
        parser.add_argument("--window_seconds", type=int, default=60, help="Fixed event-time window size.")
        parser.add_argument(
            "--early_firing_seconds",
            type=int,
            default=5,
            help="Emit an early (partial) pane this often while a window is open (0: none).",
        )
        parser.add_argument(
            "--allowed_lateness_seconds",
            type=int,
            default=600,
            help="How long after a window's end late events still update it.",
        )
        parser.add_argument(
            "--id_label",
            default="event_id",
            help="Pub/Sub attribute the runner de-duplicates on (not supported by the local runner: "
            "pass an empty value there; the pipeline de-duplicates by event id anyway).",
        )
        parser.add_argument(
            "--timestamp_attribute",
            default="occurred_at",
            help="Pub/Sub attribute with the event time, so the watermark follows event time.",
        )
        parser.add_argument(
            "--local_pull_timeout_seconds",
            type=float,
            default=0,
            help="Local runner only: pull Pub/Sub with this deadline instead of its blocking 30 s "
            "pulls (0 keeps the runner's own). See local_runner.py.",
        )


def build(pipeline: beam.Pipeline, options: RiskPipelineOptions, *, messages=None) -> dict:
    """Adds the pipeline's steps to `pipeline`; returns its PCollections by name (tests use them)."""
    project = options.output_project or options.view_as(beam.options.pipeline_options.GoogleCloudOptions).project
    if not project:
        raise ValueError("--output_project (or --project) is required")

    def write(table: str, row_id_fields: tuple[str, ...] = ()):
        return WriteToBigQueryTable(
            project=project,
            dataset=options.output_dataset,
            table=table,
            endpoint=options.bigquery_endpoint,
            row_id_fields=row_id_fields,
        )

    if messages is None:
        if not (options.input_subscription or options.input_topic):
            raise ValueError("--input_subscription or --input_topic is required")
        messages = pipeline | "ReadPubSub" >> beam.io.ReadFromPubSub(
            subscription=options.input_subscription,
            topic=options.input_topic,
            with_attributes=True,
            id_label=options.id_label or None,
            timestamp_attribute=options.timestamp_attribute or None,
        )
    parsed = messages | "Parse" >> beam.ParDo(ParseSettlementEvents()).with_outputs(DEAD_LETTER_TAG, main="events")
    events, dead_letters = parsed.events, parsed[DEAD_LETTER_TAG]

    raw_rows = events | "EventRow" >> beam.Map(settlement_event_row)
    exposures = events | "Exposures" >> ComputeExposures(
        window_seconds=options.window_seconds,
        early_firing_seconds=options.early_firing_seconds,
        allowed_lateness_seconds=options.allowed_lateness_seconds,
    )
    raw_rows | "WriteEvents" >> write(SETTLEMENT_EVENTS, ("event_id",))
    exposures | "WriteExposures" >> write(PORTFOLIO_EXPOSURES, ("counterparty", "asset", "window_start", "pane_index"))
    dead_letters | "WriteDeadLetters" >> write(DEAD_LETTER)
    return {"events": events, "exposures": exposures, "dead_letters": dead_letters, "event_rows": raw_rows}


def run(argv: list[str] | None = None) -> None:
    options = PipelineOptions(argv)
    options.view_as(StandardOptions).streaming = True
    risk_options = options.view_as(RiskPipelineOptions)
    if risk_options.local_pull_timeout_seconds:
        from .local_runner import use_short_pubsub_pulls

        use_short_pubsub_pulls(timeout=risk_options.local_pull_timeout_seconds)
    pipeline = beam.Pipeline(options=options)
    build(pipeline, risk_options)
    result = pipeline.run()
    result.wait_until_finish()


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
