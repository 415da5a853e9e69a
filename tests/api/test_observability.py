import json
import logging

import pytest

from fusionprime.observability import JsonFormatter, RequestContextFilter, init_sentry, scrub

pytestmark = pytest.mark.django_db


def test_logs_are_json_with_request_id_and_trace(api, caplog, settings):
    settings.GCP_PROJECT_ID = "fp-prod"
    captured = []
    handler = logging.Handler()
    handler.emit = lambda record: captured.append(handler.format(record))
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        api.get(
            "/v1/settlements/stl_missing",
            HTTP_X_REQUEST_ID="req-42",
            HTTP_X_CLOUD_TRACE_CONTEXT="0123456789abcdef0123456789abcdef/1;o=1",
        )
    finally:
        logger.removeHandler(handler)
    [line] = captured
    record = json.loads(line)
    assert record["request_id"] == "req-42"
    assert record["severity"] == "WARNING"
    assert record["logging.googleapis.com/trace"] == "projects/fp-prod/traces/0123456789abcdef0123456789abcdef"


def test_api_keys_never_reach_the_logs(api, caplog):
    caplog.set_level(logging.DEBUG)
    api.get("/v1/settlements/stl_missing")
    api.get("/v1/settlements", HTTP_AUTHORIZATION="Bearer fpk_000000000000_leaked-secret")
    assert api.api_key.raw_key not in caplog.text
    assert "leaked-secret" not in caplog.text


def test_scrub_redacts_sensitive_keys_recursively():
    assert scrub({"Authorization": "Bearer x", "nested": [{"api_key": "k", "ok": 1}], "secret_value": "s"}) == {
        "Authorization": "[redacted]",
        "nested": [{"api_key": "[redacted]", "ok": 1}],
        "secret_value": "[redacted]",
    }


def test_sentry_is_enabled_only_by_dsn():
    assert init_sentry(dsn="", environment="test", traces_sample_rate=0) is False
    import sentry_sdk

    assert init_sentry(dsn="https://public@127.0.0.1:9/1", environment="test", traces_sample_rate=0) is True
    client = sentry_sdk.get_client()
    assert client.should_send_default_pii() is False
    assert client.options["data_collection"]["user_info"] is False
    event = client.options["before_send"]({"request": {"headers": {"Authorization": "Bearer x"}}}, {})
    assert event["request"]["headers"]["Authorization"] == "[redacted]"
    sentry_sdk.init(dsn=None)
