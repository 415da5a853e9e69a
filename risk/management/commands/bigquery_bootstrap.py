from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from risk.bigquery import BigQueryUnavailable, bigquery_bootstrap, bigquery_project


class Command(BaseCommand):
    help = (
        "Creates the risk dataset and its tables (schemas from dataflow/risk_pipeline/schemas/) in BigQuery, "
        "or in the emulator when BIGQUERY_EMULATOR_HOST is set. Safe to run again: adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default=None, help=f"Dataset name (default {settings.BIGQUERY_DATASET}).")

    def handle(self, *args, dataset=None, **options):
        target = settings.BIGQUERY_EMULATOR_HOST or "Google BigQuery"
        self.stdout.write(f"BigQuery project {bigquery_project()} at {target}")
        try:
            outcomes = bigquery_bootstrap(dataset=dataset)
        except BigQueryUnavailable as exc:
            raise CommandError(str(exc)) from exc
        for name, outcome in outcomes:
            self.stdout.write(f"{outcome:8} {name}")
