from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from fusionprime.errors import Conflict
from tests.factories import SettlementFactory
from tests.webhooks.receiver import fail
from webhooks.models import DeliveryStatus, EndpointState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    deliveries_process_due,
    deliveries_purge_payloads,
    deliveries_recover_failed,
    delivery_resend,
    endpoints_check_health,
    webhook_endpoint_pause,
    webhook_endpoint_resume,
)

pytestmark = pytest.mark.django_db


def _fail_for_good(n: int, settings):
    settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS = [0]
    for _ in range(n):
        SettlementFactory()
    deliveries_process_due(time_budget=10)


def test_ops_are_told_when_an_endpoint_starts_failing(
    make_endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_NOTIFY_FAILING_AFTER = 3
    receiver.default = fail(500)
    make_endpoint()
    with django_capture_on_commit_callbacks(execute=True):
        _fail_for_good(5, settings)
    failing = [m for m in mail.outbox if "is failing" in m.subject]
    assert len(failing) == 1  # once, not per attempt
    assert failing[0].to == ["ops@fusionprime.test"]


def test_auto_disable_warns_first_then_disables_and_keeps_deliveries(
    make_endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    # given an endpoint with no success and 3 deliveries failed for good
    receiver.default = fail(500)
    endpoint = make_endpoint()
    with django_capture_on_commit_callbacks(execute=True):
        _fail_for_good(3, settings)
    failing_since = WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since

    # when 50 h have passed: a warning (disable at 72 h, warning 24 h before)
    with django_capture_on_commit_callbacks(execute=True):
        assert endpoints_check_health(now=failing_since + timedelta(hours=50)) == {"warned": 1, "disabled": 0}
        assert endpoints_check_health(now=failing_since + timedelta(hours=51)) == {"warned": 0, "disabled": 0}
    assert [m.subject for m in mail.outbox if "will be disabled" in m.subject]
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == EndpointState.ACTIVE

    # when a new event arrives and 72 h have passed
    settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS = [0, 5]
    SettlementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert endpoints_check_health(now=failing_since + timedelta(hours=73)) == {"warned": 0, "disabled": 1}

    # then it is disabled with the reason, ops are told, and the open delivery is held, not dropped
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert endpoint.state == EndpointState.DISABLED and "No successful delivery" in endpoint.disabled_reason
    assert [m for m in mail.outbox if "disabled" in m.subject and "will be" not in m.subject]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.HELD).count() == 1


def test_too_few_failed_deliveries_do_not_disable(make_endpoint, receiver, settings):
    receiver.default = fail(500)
    endpoint = make_endpoint()
    _fail_for_good(2, settings)
    failing_since = WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since
    assert endpoints_check_health(now=failing_since + timedelta(hours=100)) == {"warned": 0, "disabled": 0}


def test_held_deliveries_are_delivered_in_order_on_resume(make_endpoint, receiver):
    endpoint = make_endpoint()
    webhook_endpoint_pause(endpoint_id=endpoint.id, actor="user:ops")
    settlement = SettlementFactory()
    from settlements.services import settlement_cancel

    settlement_cancel(settlement_id=settlement.id, actor="test")
    assert deliveries_process_due(time_budget=5).claimed == 0
    assert receiver.received == []

    webhook_endpoint_resume(endpoint_id=endpoint.id, actor="user:ops", held="deliver")
    deliveries_process_due(time_budget=5)
    import json

    assert [json.loads(r.body)["type"] for r in receiver.received] == ["settlement.created", "settlement.cancelled"]


def test_held_deliveries_can_be_skipped_on_re_enable(make_endpoint, receiver):
    endpoint = make_endpoint()
    webhook_endpoint_pause(endpoint_id=endpoint.id, actor="user:ops")
    SettlementFactory()
    webhook_endpoint_resume(endpoint_id=endpoint.id, actor="user:ops", held="skip")
    deliveries_process_due(time_budget=5)
    assert receiver.received == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SKIPPED
    with pytest.raises(Conflict):
        webhook_endpoint_resume(endpoint_id=endpoint.id, actor="user:ops")


def test_resend_and_recover_failed_since(make_endpoint, receiver, settings):
    receiver.default = fail(500)
    make_endpoint()
    _fail_for_good(2, settings)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).count() == 2
    receiver.default = fail(200)

    # one resend
    first = WebhookDelivery.objects.order_by("created_at").first()
    delivery_resend(delivery_id=first.id, actor="user:ops")
    deliveries_process_due(time_budget=5)
    assert WebhookDelivery.objects.get(pk=first.pk).status == DeliveryStatus.SUCCEEDED
    assert WebhookAttempt.objects.filter(delivery=first).last().trigger == "manual"

    # recover all failed since a time
    count = deliveries_recover_failed(since=timezone.now() - timedelta(hours=1), actor="user:ops")
    assert count == 1
    deliveries_process_due(time_budget=5)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    # nothing failed after "now"
    assert deliveries_recover_failed(since=timezone.now(), actor="user:ops") == 0


def test_payloads_are_purged_after_retention_in_batches_and_metadata_kept(make_endpoint, receiver):
    make_endpoint()
    for _ in range(3):
        SettlementFactory()
    deliveries_process_due(time_budget=5)
    SettlementFactory()  # still pending: keeps its body
    later = timezone.now() + timedelta(days=31)
    assert deliveries_purge_payloads(now=later, batch_size=2) == 3
    purged = WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED)
    assert all(d.body is None and d.body_purged_at for d in purged)
    assert WebhookDelivery.objects.get(status=DeliveryStatus.PENDING).body is not None
    assert not WebhookAttempt.objects.exclude(response_body="").exists()
    with pytest.raises(Conflict, match="purged"):
        delivery_resend(delivery_id=purged[0].id, actor="user:ops")
    assert deliveries_purge_payloads(now=timezone.now()) == 0


def test_deliver_webhooks_command_runs_one_sweep(make_endpoint, receiver, capsys):
    make_endpoint()
    SettlementFactory()
    call_command("deliver_webhooks", "--once")
    assert "succeeded=1" in capsys.readouterr().out
    assert len(receiver.received) == 1
