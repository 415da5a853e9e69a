from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.factories import SettlementFactory
from tests.webhooks.receiver import fail
from webhooks.models import DeliveryStatus, EndpointState, WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_process_due, webhook_endpoint_disable

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    user = User.objects.create_superuser("root", password="pw-root-123456")
    client.force_login(user)
    return client


def _action(client, model, action, ids, **extra):
    return client.post(
        f"/admin/webhooks/{model}/",
        {"action": action, "_selected_action": ids, "index": 0, **extra},
        follow=True,
    )


def test_ops_group_is_installed_with_webhook_permissions():
    from django.contrib.auth.models import Group

    perms = set(Group.objects.get(name="ops").permissions.values_list("codename", flat=True))
    assert {"add_webhookendpoint", "change_webhookendpoint", "view_webhookdelivery", "change_webhookdelivery"} <= perms


def test_changelist_health_columns_and_delivery_filters(ops_client, make_endpoint, receiver, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS = [0]
    endpoint = make_endpoint()
    receiver.script.append(fail(500))
    SettlementFactory()
    SettlementFactory()
    deliveries_process_due(time_budget=5)
    page = ops_client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "50.0%" in page  # one of two attempts succeeded
    assert " ms" in page
    listing = ops_client.get(
        f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoint.id}&status__exact=failed&event_type=settlement.created"
    )
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    failed = WebhookDelivery.objects.get(status=DeliveryStatus.FAILED)
    detail = ops_client.get(f"/admin/webhooks/webhookdelivery/{failed.pk}/change/")
    assert detail.status_code == 200 and b"http_5xx" in detail.content


def test_resend_recover_and_re_enable_actions(ops_client, make_endpoint, receiver, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS = [0]
    receiver.default = fail(500)
    endpoint = make_endpoint()
    SettlementFactory()
    SettlementFactory()
    deliveries_process_due(time_budget=5)
    failed = list(WebhookDelivery.objects.values_list("pk", flat=True))
    receiver.default = fail(200)

    response = _action(ops_client, "webhookdelivery", "resend", failed[:1])
    assert b"Queued for resend: 1." in response.content
    since = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    response = _action(ops_client, "webhookendpoint", "recover_failed_since", [endpoint.id], since=since)
    assert b"Recovered 1 failed deliveries" in response.content
    response = _action(ops_client, "webhookendpoint", "recover_failed_since", [endpoint.id], since="")
    assert b"Give a valid" in response.content
    deliveries_process_due(time_budget=5)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}

    webhook_endpoint_disable(endpoint_id=endpoint.id, reason="test", actor="test")
    response = _action(ops_client, "webhookendpoint", "resume", [endpoint.id])
    assert b"Resumed: 1." in response.content
    assert WebhookEndpoint.objects.get().state == EndpointState.ACTIVE
    response = _action(ops_client, "webhookendpoint", "rotate_secret", [endpoint.id])
    assert b"webhook-secret" in response.content and b"whsec_" in response.content


def test_admin_refuses_a_blocked_url(ops_client, settings):
    settings.WEBHOOKS_ALLOWLIST = []
    response = ops_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://169.254.169.254/x", "event_types": '["*"]', "headers": "{}", "max_in_flight": 10},
    )
    assert response.status_code == 200 and b"169.254.169.254" in response.content
    assert not WebhookEndpoint.objects.exists()
