import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fusionprime.api.models import IdempotencyRecord
from fusionprime.api.services import api_key_revoke
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db

BODY = {
    "reference": "INV-1001",
    "payer_reference": "acme-treasury",
    "payee_reference": "globex-ap",
    "amount": "1250.50",
    "asset": "USD",
}


def post(api, path, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4()), **extra}
    return api.post(path, data=json.dumps(body), content_type="application/json", **headers)


def assert_problem(response, status, code, param=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= set(body)
    if param:
        assert body["param"] == param
    return body


def test_create_returns_the_settlement_with_amount_as_string(api):
    response = post(api, "/v1/settlements", BODY)

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("stl_")
    assert body["amount"] == "1250.50"
    assert body["asset"] == "USD"
    assert body["status"] == "pending"
    assert response["Location"] == f"/v1/settlements/{body['id']}"
    assert Event.objects.filter(aggregate_id=body["id"], type="settlement.created").exists()


def test_escrow_settlement_carries_chain_id(api):
    response = post(
        api, "/v1/settlements", {**BODY, "rail": "escrow", "chain_id": 11155111, "asset": "USDC", "amount": "10.000001"}
    )
    assert response.status_code == 201
    assert response.json()["chain_id"] == 11155111
    assert response.json()["amount"] == "10.000001"


@pytest.mark.parametrize(
    ("patch", "status", "code", "param"),
    [
        ({"amount": 1250.5}, 400, "not_string", "amount"),
        ({"amount": "1250.505"}, 400, "amount_too_precise", "amount"),
        ({"amount": "-1"}, 400, "amount_invalid", "amount"),
        ({"amount": "0"}, 400, "amount_not_positive", "amount"),
        ({"asset": "DOGE"}, 400, "unknown_asset", "asset"),
        ({"surprise": "x"}, 400, "unknown_field", "surprise"),
        ({"reference": 17}, 400, "invalid_type", "reference"),
        ({"asset": ["USD"]}, 400, "invalid_type", "asset"),
        ({"reference": None}, 400, "null", "reference"),
        ({"rail": "wire"}, 400, "invalid_choice", "rail"),
        ({"metadata": {"k": {"nested": 1}}}, 400, "invalid_type", "metadata.k"),
        ({"chain_id": "abc"}, 400, "validation_error", "chain_id"),
    ],
)
def test_bad_input_gets_a_specific_problem_and_changes_nothing(api, patch, status, code, param):
    response = post(api, "/v1/settlements", {**BODY, **patch})
    assert_problem(response, status, code, param)
    assert not Settlement.objects.exists()
    assert not Event.objects.exists()


def test_missing_fields_are_named(api):
    body = assert_problem(post(api, "/v1/settlements", {"asset": "USD"}), 400, "required")
    assert {e["param"] for e in body["errors"]} == {"reference", "payer_reference", "payee_reference", "amount"}


def test_malformed_json_wrong_type_and_huge_body_are_4xx(api):
    key = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    assert_problem(
        api.post("/v1/settlements", data="{not json", content_type="application/json", **key), 400, "malformed_json"
    )
    assert_problem(
        api.post("/v1/settlements", data="[1,2]", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k2"),
        400,
        "validation_error",
    )
    assert_problem(
        api.post("/v1/settlements", data="a=b", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="k3"),
        415,
        "unsupported_media_type",
    )
    # Non-finite numbers are not JSON: they would reach the event log's COPY as null.
    nan = json.dumps({**BODY, "reference": "nan-1", "metadata": {"x": float("nan")}})
    assert_problem(
        api.post("/v1/settlements", data=nan, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k5"),
        400,
        "malformed_json",
    )
    huge = json.dumps({**BODY, "metadata": {"x": "y" * 400_000}})
    assert_problem(
        api.post("/v1/settlements", data=huge, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k4"),
        413,
        "payload_too_large",
    )


def test_missing_idempotency_key_is_400(api):
    response = api.post("/v1/settlements", data=json.dumps(BODY), content_type="application/json")
    assert_problem(response, 400, "idempotency_key_missing", "Idempotency-Key")
    assert not Settlement.objects.exists()


def test_same_key_same_body_replays_the_stored_response(api):
    first = post(api, "/v1/settlements", BODY, key="abc")
    second = post(api, "/v1/settlements", BODY, key="abc")

    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Settlement.objects.count() == 1


def test_same_key_different_body_is_422(api):
    post(api, "/v1/settlements", BODY, key="abc")
    response = post(api, "/v1/settlements", {**BODY, "amount": "1.00"}, key="abc")
    assert_problem(response, 422, "idempotency_key_reused", "Idempotency-Key")
    assert Settlement.objects.count() == 1


def test_same_key_while_first_is_running_is_409(api):
    IdempotencyRecord.objects.create(
        api_key=api.api_key.api_key,
        key="busy",
        request_hash=_hash_of(api, BODY),
        state="in_progress",
        locked_at=_now(),
        expires_at=_now() + _ttl(),
    )
    assert_problem(post(api, "/v1/settlements", BODY, key="busy"), 409, "idempotency_key_in_use")


def test_a_key_abandoned_by_a_dead_request_is_taken_over(api, settings):
    from datetime import timedelta

    IdempotencyRecord.objects.create(
        api_key=api.api_key.api_key,
        key="dead",
        request_hash=_hash_of(api, BODY),
        state="in_progress",
        locked_at=_now() - settings.IDEMPOTENCY_LOCK_TIMEOUT - timedelta(seconds=1),
        expires_at=_now() + _ttl(),
    )
    assert post(api, "/v1/settlements", BODY, key="dead").status_code == 201


def test_idempotency_keys_are_scoped_to_the_api_key(api, make_api_key):
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(name='other').raw_key}")
    assert post(api, "/v1/settlements", BODY, key="shared").status_code == 201
    response = post(other, "/v1/settlements", {**BODY, "reference": "INV-2"}, key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_client_errors_are_stored_but_server_errors_are_not(api, monkeypatch):
    assert post(api, "/v1/settlements", {**BODY, "asset": "DOGE"}, key="bad").status_code == 400
    replay = post(api, "/v1/settlements", {**BODY, "asset": "DOGE"}, key="bad")
    assert replay.status_code == 400 and replay["Idempotent-Replayed"] == "true"

    from settlements import services

    def boom(**kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(services, "settlement_create", boom)
    api.raise_request_exception = False
    assert_problem(post(api, "/v1/settlements", BODY, key="boom"), 500, "internal_error")
    assert not IdempotencyRecord.objects.filter(key="boom").exists()
    monkeypatch.undo()
    assert post(api, "/v1/settlements", BODY, key="boom").status_code == 201


def test_duplicate_reference_with_new_key_is_409_naming_existing(api):
    first = post(api, "/v1/settlements", BODY).json()
    body = assert_problem(post(api, "/v1/settlements", BODY), 409, "duplicate_reference", "reference")
    assert body["existing_id"] == first["id"]
    assert first["id"] in body["detail"]


def test_get_and_404(api):
    settlement = SettlementFactory()
    assert api.get(f"/v1/settlements/{settlement.id}").json()["reference"] == settlement.reference
    assert_problem(api.get("/v1/settlements/stl_nope"), 404, "settlement_not_found")
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")


def test_method_not_allowed_is_a_problem(api):
    assert_problem(api.delete("/v1/settlements"), 405, "method_not_allowed")


def test_cancel_then_illegal_transition_is_409(api):
    settlement = SettlementFactory()
    response = post(api, f"/v1/settlements/{settlement.id}/cancel", {"reason": "duplicate invoice"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["status_reason"] == "duplicate invoice"
    body = assert_problem(post(api, f"/v1/settlements/{settlement.id}/cancel", {}), 409, "illegal_transition")
    assert body["current_status"] == "cancelled"


def test_cancel_without_body(api):
    settlement = SettlementFactory()
    response = api.post(f"/v1/settlements/{settlement.id}/cancel", HTTP_IDEMPOTENCY_KEY="c1")
    assert response.status_code == 200


def test_events_endpoint_lists_envelopes_in_order(api):
    settlement = SettlementFactory()
    post(api, f"/v1/settlements/{settlement.id}/cancel", {})
    body = api.get(f"/v1/settlements/{settlement.id}/events").json()
    assert body["object"] == "list"
    assert [e["type"] for e in body["data"]] == ["settlement.created", "settlement.cancelled"]
    assert [e["sequence"] for e in body["data"]] == ["00000000000000000001", "00000000000000000002"]
    assert body["data"][1]["data"]["status"] == "cancelled"
    assert_problem(api.get("/v1/settlements/stl_nope/events"), 404, "settlement_not_found")


def test_list_paginates_with_cursor_and_has_more(api):
    made = [SettlementFactory() for _ in range(5)]
    newest_first = [s.id for s in reversed(made)]

    page1 = api.get("/v1/settlements?limit=2").json()
    assert page1["object"] == "list" and page1["has_more"] is True
    assert [s["id"] for s in page1["data"]] == newest_first[:2]
    page2 = api.get(f"/v1/settlements?limit=2&starting_after={page1['data'][-1]['id']}").json()
    assert [s["id"] for s in page2["data"]] == newest_first[2:4]
    page3 = api.get(f"/v1/settlements?limit=2&starting_after={page2['data'][-1]['id']}").json()
    assert [s["id"] for s in page3["data"]] == newest_first[4:] and page3["has_more"] is False


def test_list_filters(api):
    usd = SettlementFactory(asset="USD")
    eur = SettlementFactory(asset="EUR", amount="5.00")
    api_post_cancel = post(api, f"/v1/settlements/{eur.id}/cancel", {})
    assert api_post_cancel.status_code == 200

    assert [s["id"] for s in api.get("/v1/settlements?asset=USD").json()["data"]] == [usd.id]
    assert [s["id"] for s in api.get("/v1/settlements?status=cancelled").json()["data"]] == [eur.id]
    assert [s["id"] for s in api.get(f"/v1/settlements?reference={usd.reference}").json()["data"]] == [usd.id]
    assert len(api.get("/v1/settlements?created_gte=2000-01-01T00:00:00Z").json()["data"]) == 2
    assert api.get("/v1/settlements?created_lte=2000-01-01T00:00:00Z").json()["data"] == []


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("limit=0", "invalid_limit", "limit"),
        ("limit=101", "invalid_limit", "limit"),
        ("limit=abc", "invalid_limit", "limit"),
        ("starting_after=garbage", "invalid_cursor", "starting_after"),
        ("starting_after=evt_01jd0000000000000000000000", "invalid_cursor", "starting_after"),
        ("status=lost", "invalid_filter", "status"),
        ("created_gte=yesterday", "invalid_filter", "created_gte"),
        ("colour=blue", "unknown_parameter", "colour"),
    ],
)
def test_bad_list_parameters_are_400(api, query, code, param):
    assert_problem(api.get(f"/v1/settlements?{query}"), 400, code, param)


def test_list_runs_a_constant_number_of_queries(api):
    for _ in range(3):
        SettlementFactory()
    api.get("/v1/settlements")  # warm-up: the key's last-use stamp is written once a minute
    with CaptureQueriesContext(connection) as few:
        api.get("/v1/settlements?limit=100")
    for _ in range(20):
        SettlementFactory()
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/v1/settlements?limit=100").json()["data"]) == 23
    assert len(many) == len(few)


def test_auth_missing_invalid_revoked_and_scope(api, make_api_key):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    body = assert_problem(anonymous.get("/v1/settlements"), 401, "authentication_required")
    assert "WWW-Authenticate" in anonymous.get("/v1/settlements")
    assert body["detail"]

    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer fpk_000000000000_nope")
    assert_problem(forged.get("/v1/settlements"), 401, "invalid_api_key")
    forged.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_problem(forged.get("/v1/settlements"), 401, "invalid_authorization")

    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(scopes=['settlements:read']).raw_key}")
    assert reader.get("/v1/settlements").status_code == 200
    assert_problem(post(reader, "/v1/settlements", BODY), 403, "insufficient_scope")

    api_key_revoke(api_key=api.api_key.api_key)
    assert_problem(api.get("/v1/settlements"), 401, "api_key_revoked")


def test_rate_limit_per_key_is_a_429_problem(api, make_api_key, monkeypatch):
    from rest_framework.test import APIClient

    from fusionprime.api.throttling import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "rate", "3/min", raising=False)
    for _ in range(3):
        assert api.get("/v1/settlements").status_code == 200
    response = api.get("/v1/settlements")
    assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    # the limit is per key: another key is not affected
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(name='other').raw_key}")
    assert fresh.get("/v1/settlements").status_code == 200


def test_openapi_and_docs_are_served(client):
    schema = client.get("/v1/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/v1/settlements",
        "/v1/settlements/{settlement_id}",
        "/v1/settlements/{settlement_id}/cancel",
        "/v1/settlements/{settlement_id}/events",
    } <= set(spec["paths"])
    create = spec["paths"]["/v1/settlements"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    docs = client.get("/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_health_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_request_id_is_echoed_or_generated(api):
    assert api.get("/v1/settlements", HTTP_X_REQUEST_ID="req-123")["X-Request-ID"] == "req-123"
    generated = api.get("/v1/settlements", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def _now():
    from django.utils import timezone

    return timezone.now()


def _ttl():
    from django.conf import settings

    return settings.IDEMPOTENCY_KEY_TTL


def _hash_of(api, body):
    import hashlib

    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"POST /v1/settlements\n{canonical}".encode()).hexdigest()


def test_a_client_error_raised_after_writes_is_stored_and_replayed_and_its_writes_rolled_back(api):
    from fusionprime.events.models import Event
    from risk.services import exposure_limit_set

    # the refusal comes after the settlement row is inserted (the limit check reads it)
    exposure_limit_set(counterparty=BODY["payer_reference"], asset="USD", amount="100.00", actor="user:alice")
    body = {**BODY, "amount": "100.01"}
    events_before = Event.objects.count()

    first = post(api, "/v1/settlements", body, key="over")
    replay = post(api, "/v1/settlements", body, key="over")

    assert_problem(first, 422, "risk_limit_exceeded", "amount")
    assert (replay.status_code, replay.json(), replay["Idempotent-Replayed"]) == (422, first.json(), "true")
    record = IdempotencyRecord.objects.get(key="over")
    assert (record.state, record.response_status) == ("completed", 422)
    assert not Settlement.objects.exists() and Event.objects.count() == events_before
