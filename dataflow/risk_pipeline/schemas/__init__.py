"""The BigQuery tables of the `risk` dataset, from the JSON files beside this module.

These files are the single source of the schemas: the pipeline, `manage.py bigquery_bootstrap`,
the tests and the Terraform module all read them. Each `<table>.json` is a plain BigQuery field
list (what `bq mk --schema` and Terraform's `schema = file(...)` take); `tables.json` adds the
table-level settings (partitioning, clustering, descriptions).
"""

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent

PORTFOLIO_EXPOSURES = "portfolio_exposures"
SETTLEMENT_EVENTS = "settlement_events"
DEAD_LETTER = "dead_letter"


@cache
def manifest() -> dict:
    return json.loads((SCHEMA_DIR / "tables.json").read_text())


def table_names() -> list[str]:
    return list(manifest()["tables"])


@cache
def table_fields(table: str) -> list[dict]:
    """The field list of one table, as BigQuery's REST API represents it."""
    spec = manifest()["tables"][table]
    return json.loads((SCHEMA_DIR / spec["schema"]).read_text())


def column_names(table: str) -> list[str]:
    return [field["name"] for field in table_fields(table)]


def required_columns(table: str) -> set[str]:
    return {field["name"] for field in table_fields(table) if field.get("mode") == "REQUIRED"}


def bootstrap(client, *, dataset: str, location: str | None = None, timeout: float = 30.0) -> list[tuple[str, str]]:
    """Creates the dataset and its tables if missing; adds columns a newer schema has.

    Returns (name, outcome) pairs: "created", "exists" or "updated". Columns are only ever added
    (BigQuery allows nothing else in place); anything else needs a migration by hand.
    """
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    # The client's default retry keeps trying an unreachable endpoint for ten minutes.
    calls = {"retry": bigquery.DEFAULT_RETRY.with_deadline(timeout), "timeout": timeout}
    outcomes = []
    dataset_ref = bigquery.DatasetReference(client.project, dataset)
    try:
        client.get_dataset(dataset_ref, **calls)
        outcomes.append((dataset, "exists"))
    except NotFound:
        spec = bigquery.Dataset(dataset_ref)
        spec.description = manifest()["dataset"]["description"]
        if location:
            spec.location = location
        client.create_dataset(spec, exists_ok=True, **calls)
        outcomes.append((dataset, "created"))

    for name, spec in manifest()["tables"].items():
        schema = [bigquery.SchemaField.from_api_repr(field) for field in table_fields(name)]
        ref = dataset_ref.table(name)
        try:
            existing = client.get_table(ref, **calls)
        except NotFound:
            table = bigquery.Table(ref, schema=schema)
            table.description = spec.get("description")
            partitioning = spec.get("time_partitioning")
            if partitioning:
                table.time_partitioning = bigquery.TimePartitioning(
                    type_=partitioning["type"], field=partitioning["field"]
                )
            table.clustering_fields = spec.get("clustering")
            client.create_table(table, exists_ok=True, **calls)
            outcomes.append((f"{dataset}.{name}", "created"))
            continue
        have = {field.name for field in existing.schema}
        missing = [field for field in schema if field.name not in have]
        if missing:
            # New columns must be NULLABLE to be added to a table that has rows.
            existing.schema = [
                *existing.schema,
                *[
                    bigquery.SchemaField(f.name, f.field_type, mode="NULLABLE", description=f.description)
                    for f in missing
                ],
            ]
            client.update_table(existing, ["schema"], **calls)
            outcomes.append((f"{dataset}.{name}", "updated"))
        else:
            outcomes.append((f"{dataset}.{name}", "exists"))
    return outcomes
