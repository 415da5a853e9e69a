import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from fusionprime.api.models import IdempotencyRecord
from webhooks.models import WebhookEndpoint, WebhookSecret
from webhooks.services import deliveries_process_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(make_api_key):
    key = make_api_key(scopes=["webhooks:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    return client


def post(client, url, data=None, key="k1"):
    return client.post(url, data or {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_create_returns_the_secret_once_and_stores_it_encrypted(client, receiver):
    response = post(
        client,
        "/v1/webhook_endpoints",
        {"url": f"{receiver.url}/hook", "description": "ops", "event_types": ["settlement.*"], "headers": {"X-A": "1"}},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("we_") and body["object"] == "webhook_endpoint"
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["settlement.*"] and body["state"] == "active" and body["headers"] == {"X-A": "1"}
    assert response["Location"] == f"/v1/webhook_endpoints/{body['id']}"
    # never readable again, not in the stored idempotent response nor in the secrets table
    assert "secret" not in client.get(f"/v1/webhook_endpoints/{body['id']}").json()
    stored = bytes(IdempotencyRecord.objects.get().response_body)
    assert body["secret"].encode() not in stored
    assert body["secret"] not in WebhookSecret.objects.get().ciphertext
    replay = post(
        client,
        "/v1/webhook_endpoints",
        {"url": f"{receiver.url}/hook", "description": "ops", "event_types": ["settlement.*"], "headers": {"X-A": "1"}},
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true" and "secret" not in replay.json()
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:1/x"}, "event_types"),
        ({"url": "http://127.0.0.1:1/x", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:1/x", "event_types": ["Settlement Created"]}, "event_types"),
        ({"url": "http://127.0.0.1:1/x", "event_types": ["*"], "headers": {"webhook-id": "x"}}, "headers.webhook-id"),
        ({"url": "http://127.0.0.1:1/x", "event_types": ["*"], "state": "disabled"}, "state"),
        ({"url": "http://127.0.0.1:1/x", "event_types": ["*"], "colour": "red"}, "colour"),
        ({"url": "http://169.254.169.254/latest", "event_types": ["*"]}, "url"),
    ],
)
def test_bad_input_is_refused_with_a_problem_and_changes_nothing(client, data, param):
    response = post(client, "/v1/webhook_endpoints", data)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert param in str(problem), problem
    assert not WebhookEndpoint.objects.exists()


def test_list_get_update_delete(client, receiver):
    ids = [
        post(client, "/v1/webhook_endpoints", {"url": f"{receiver.url}/{i}", "event_types": ["*"]}, key=f"c{i}").json()[
            "id"
        ]
        for i in range(3)
    ]
    page = client.get("/v1/webhook_endpoints?limit=2").json()
    assert page["object"] == "list" and page["has_more"] is True and len(page["data"]) == 2
    rest = client.get(f"/v1/webhook_endpoints?limit=2&starting_after={page['data'][-1]['id']}").json()
    assert {e["id"] for e in page["data"] + rest["data"]} == set(ids)

    updated = post(client, f"/v1/webhook_endpoints/{ids[0]}", {"state": "paused", "counterparty": "acme"}, key="u1")
    assert updated.status_code == 200, updated.json()
    assert updated.json()["state"] == "paused" and updated.json()["counterparty"] == "acme"
    assert updated.json()["event_types"] == ["*"]  # untouched fields stay

    assert client.delete(f"/v1/webhook_endpoints/{ids[0]}").json()["deleted"] is True
    assert client.get(f"/v1/webhook_endpoints/{ids[0]}").status_code == 404


def test_rotate_secret_and_send_test_event(client, receiver):
    created = post(client, "/v1/webhook_endpoints", {"url": f"{receiver.url}/hook", "event_types": ["*"]}).json()
    rotated = post(client, f"/v1/webhook_endpoints/{created['id']}/rotate_secret", key="r1")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]

    queued = post(client, f"/v1/webhook_endpoints/{created['id']}/test", key="t1")
    assert queued.status_code == 202 and queued.json()["type"] == "webhook.test"
    deliveries_process_due(time_budget=5)
    [request] = receiver.received
    Webhook(new_secret).verify(request.body, request.headers)
    Webhook(created["secret"]).verify(request.body, request.headers)  # overlap


def test_scope_webhooks_write_is_required(make_api_key, receiver):
    key = make_api_key(scopes=["settlements:read", "settlements:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    assert client.get("/v1/webhook_endpoints").status_code == 403
    assert post(client, "/v1/webhook_endpoints", {"url": f"{receiver.url}/h", "event_types": ["*"]}).status_code == 403


def test_unknown_endpoint_is_404(client):
    assert client.get("/v1/webhook_endpoints/we_01jd0000000000000000000000").status_code == 404
    assert post(client, "/v1/webhook_endpoints/we_01jd0000000000000000000000/rotate_secret").status_code == 404
