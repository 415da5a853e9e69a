"""Google Cloud clients, pointed at an emulator when an endpoint is given.

The same `google-cloud-bigquery` client talks to BigQuery and to the local `bqemulator`; only the
endpoint and the credentials differ (the emulator needs none, and there are none on a dev machine).
"""


def bigquery_client(*, project: str, endpoint: str | None = None, location: str | None = None):
    from google.cloud import bigquery

    if not endpoint:
        return bigquery.Client(project=project, location=location)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(
        project=project,
        location=location,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )
