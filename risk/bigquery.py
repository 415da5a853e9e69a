"""The risk dataset in BigQuery (the bqemulator locally): the client, bootstrap and history reads.

Table schemas come from dataflow/risk_pipeline/schemas/ — the one place they are defined.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from dataflow.risk_pipeline import schemas
from dataflow.risk_pipeline.clients import bigquery_client as _client

LOCAL_PROJECT = "fusionprime-local"


class BigQueryUnavailable(Exception):
    """BigQuery is not configured, or could not be read; the text says which."""


def bigquery_project() -> str:
    return settings.BIGQUERY_PROJECT_ID or LOCAL_PROJECT


def bigquery_configured() -> bool:
    return bool(settings.BIGQUERY_EMULATOR_HOST or settings.BIGQUERY_PROJECT_ID)


def bigquery_client():
    if not bigquery_configured():
        raise BigQueryUnavailable("BigQuery is not configured (set BIGQUERY_EMULATOR_HOST or BIGQUERY_PROJECT_ID).")
    return _client(project=bigquery_project(), endpoint=settings.BIGQUERY_EMULATOR_HOST or None, location=None)


def table_id(table: str, *, dataset: str | None = None) -> str:
    return f"{bigquery_project()}.{dataset or settings.BIGQUERY_DATASET}.{table}"


def bigquery_bootstrap(*, dataset: str | None = None) -> list[tuple[str, str]]:
    from google.api_core import exceptions as gexc

    location = None if settings.BIGQUERY_EMULATOR_HOST else settings.BIGQUERY_LOCATION
    try:
        return schemas.bootstrap(
            bigquery_client(),
            dataset=dataset or settings.BIGQUERY_DATASET,
            location=location,
            timeout=settings.BIGQUERY_TIMEOUT_SECONDS,
        )
    except (gexc.GoogleAPIError, OSError) as exc:  # requests' ConnectionError is an OSError
        raise BigQueryUnavailable(f"BigQuery could not be reached: {type(exc).__name__}: {str(exc)[:300]}") from exc


@dataclass(frozen=True)
class ExposurePoint:
    counterparty: str
    asset: str
    window_start: datetime
    window_end: datetime
    exposure: Decimal  # open gross exposure at the window's end, major units
    change: Decimal
    events: int
    pane_timing: str


# The final pane of each window is the one with the highest pane_index (panes accumulate).
_FINAL_PANES = """
    SELECT counterparty, asset, asset_decimals, window_start, window_end, exposure_change_gross,
           event_count, pane_timing
    FROM `{table}`
    QUALIFY ROW_NUMBER() OVER (PARTITION BY counterparty, asset, window_start ORDER BY pane_index DESC) = 1
"""


def exposure_history(*, since: datetime, until: datetime, dataset: str | None = None) -> list[ExposurePoint]:
    """Each counterparty's open gross exposure at the end of every window since `since`.

    Exposure is the running sum of the windows' changes, from the first window BigQuery holds; the
    part before `since` comes from one grouped query. Sums are exact Decimals, scale per row.
    """
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    final = _FINAL_PANES.format(table=table_id(schemas.PORTFOLIO_EXPOSURES, dataset=dataset))
    params = [
        bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
        bigquery.ScalarQueryParameter("until", "TIMESTAMP", until),
    ]
    config = bigquery.QueryJobConfig(query_parameters=params)
    timeout = settings.BIGQUERY_TIMEOUT_SECONDS
    # Short retries: the client's defaults keep trying an unreachable endpoint for ten minutes.
    retry = bigquery.DEFAULT_RETRY.with_deadline(timeout)
    calls = {"retry": retry, "job_retry": None, "timeout": timeout}
    try:
        client = bigquery_client()
        # The table id comes from settings; every value is a query parameter.
        before = "SELECT counterparty, asset, asset_decimals, SUM(exposure_change_gross) AS change FROM final "
        before += "WHERE window_start < @since GROUP BY counterparty, asset, asset_decimals"
        baseline_rows = client.query(
            f"WITH final AS ({final}) {before}",
            job_config=config,
            **calls,
        ).result(timeout=timeout, retry=retry)
        baseline: dict[tuple[str, str], Decimal] = {}
        for row in baseline_rows:
            key = (row["counterparty"], row["asset"])
            baseline[key] = baseline.get(key, Decimal(0)) + Decimal(row["change"]).scaleb(-row["asset_decimals"])
        during = "SELECT * FROM final WHERE window_start >= @since AND window_start < @until "
        during += "ORDER BY asset, counterparty, window_start"
        rows = client.query(
            f"WITH final AS ({final}) {during}",
            job_config=config,
            **calls,
        ).result(timeout=timeout, retry=retry)
        points = []
        running = dict(baseline)
        for row in rows:
            key = (row["counterparty"], row["asset"])
            change = Decimal(row["exposure_change_gross"]).scaleb(-row["asset_decimals"])
            running[key] = running.get(key, Decimal(0)) + change
            points.append(
                ExposurePoint(
                    counterparty=row["counterparty"],
                    asset=row["asset"],
                    window_start=row["window_start"],
                    window_end=row["window_end"],
                    exposure=running[key],
                    change=change,
                    events=row["event_count"],
                    pane_timing=row["pane_timing"],
                )
            )
    except (gexc.GoogleAPIError, OSError) as exc:
        raise BigQueryUnavailable(f"BigQuery could not be read: {type(exc).__name__}: {str(exc)[:300]}") from exc
    return points
