import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from fusionprime.events.models import Event
from tests.factories import SettlementFactory
from tests.webhooks.receiver import CLOSE, Reply, fail, hang
from webhooks.models import DeliveryStatus, EndpointState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_process_due, webhook_endpoint_rotate_secret, webhook_endpoint_send_test

pytestmark = pytest.mark.django_db


def sweep(now=None):
    return deliveries_process_due(now=now, time_budget=10)


def test_a_delivery_is_signed_per_standard_webhooks_and_verifies_with_the_official_library(make_endpoint, receiver):
    # given an endpoint with a custom header
    endpoint = make_endpoint(headers={"X-Tenant": "acme"})
    settlement = SettlementFactory()
    event = Event.objects.get(aggregate_id=settlement.id)

    # when the sweep runs
    result = sweep()

    # then the receiver got the frozen envelope, verifiable with standardwebhooks
    assert result.succeeded == 1
    [request] = receiver.received
    assert request.body == event.to_bytes()
    assert request.headers["webhook-id"] == event.id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tenant"] == "acme"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["id"] == event.id and payload["data"]["id"] == settlement.id
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.trigger, attempt.status_code, attempt.resolved_ip) == (
        1,
        "scheduled",
        200,
        "127.0.0.1",
    )
    assert attempt.succeeded and attempt.response_body == "ok" and attempt.latency_ms is not None


def test_a_tampered_body_does_not_verify(make_endpoint, receiver):
    endpoint = make_endpoint()
    SettlementFactory()
    sweep()
    [request] = receiver.received
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint.secret).verify(request.body.replace(b"1250.50", b"9250.50"), request.headers)


def test_retry_schedule_runs_through_every_step_then_fails_for_good(make_endpoint, receiver, settings):
    # given an endpoint that always fails, and the default schedule
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS
    assert schedule == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    receiver.default = fail(500)
    make_endpoint()
    SettlementFactory()
    now = timezone.now()

    for attempt in range(1, len(schedule) + 1):
        # when the sweep runs at the scheduled time
        result = sweep(now=now)
        delivery = WebhookDelivery.objects.get()
        assert result.claimed == 1, f"attempt {attempt} was not due"
        assert delivery.attempts == attempt
        if attempt == len(schedule):
            break
        # then the next attempt is scheduled after the step's delay, with upward-only jitter
        delay = (delivery.next_attempt_at - now).total_seconds()
        assert schedule[attempt] <= delay <= schedule[attempt] * 1.1 + 0.001
        # and nothing is due a moment before it
        if schedule[attempt]:
            assert sweep(now=delivery.next_attempt_at - timedelta(milliseconds=1)).claimed == 0
        now = delivery.next_attempt_at

    # then after the last step the delivery is in the dead list, every attempt stored
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.finished_at is not None
    assert len(receiver.received) == len(schedule)
    assert list(WebhookAttempt.objects.values_list("number", "error_class")) == [
        (n, "http_5xx") for n in range(1, len(schedule) + 1)
    ]
    assert {r.webhook_id for r in receiver.received} == {delivery.event_id}


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        (fail(500), "http_5xx"),
        (fail(404), "http_4xx"),
        (fail(400), "http_4xx"),
        (Reply(status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"}), "http_3xx"),
        (hang(3), "timeout"),
        (CLOSE, "connection_closed"),
    ],
)
def test_failures_are_classified_and_retried(make_endpoint, receiver, reply, error_class):
    receiver.script.append(reply)
    make_endpoint()
    SettlementFactory()
    sweep()
    delivery = WebhookDelivery.objects.get()
    attempt = WebhookAttempt.objects.get()
    assert attempt.error_class == error_class, attempt.error_message
    assert not attempt.succeeded
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    # and the next attempt (same bytes, same webhook-id) succeeds
    sweep(now=delivery.next_attempt_at)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
    first, second = receiver.received
    assert first.body == second.body and first.webhook_id == second.webhook_id


def test_redirects_are_never_followed(make_endpoint, receiver):
    receiver.script.append(Reply(status=307, headers={"Location": f"{receiver.url}/other"}))
    make_endpoint(path="/hook")
    SettlementFactory()
    sweep()
    assert [r.path for r in receiver.received] == ["/hook"]
    assert WebhookAttempt.objects.get().status_code == 307


def test_a_connection_refused_is_a_connect_error(make_endpoint):
    from tests.support.processes import free_port

    make_endpoint(url=f"http://127.0.0.1:{free_port()}/hook")
    SettlementFactory()
    sweep()
    assert WebhookAttempt.objects.get().error_class == "connect"


def test_response_bodies_are_stored_truncated(make_endpoint, receiver, settings):
    settings.WEBHOOKS_RESPONSE_BODY_LIMIT = 1000
    receiver.script.append(Reply(body=b"x" * 5000))
    make_endpoint()
    SettlementFactory()
    sweep()
    attempt = WebhookAttempt.objects.get()
    assert attempt.succeeded and attempt.response_body == "x" * 1000


def test_410_gone_disables_the_endpoint_and_holds_its_deliveries(
    make_endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.default = fail(410)
    endpoint = make_endpoint()
    SettlementFactory()
    SettlementFactory()
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
    endpoint.refresh_from_db()
    assert endpoint.state == EndpointState.DISABLED and "410" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.HELD}
    assert any("disabled" in m.subject for m in mail.outbox)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"), [(429, "120", 120), (503, "90", 90), (429, "999999", 3600)]
)
def test_retry_after_is_honoured_and_bounded(make_endpoint, receiver, status, retry_after, expected):
    receiver.script.append(fail(status, **{"Retry-After": retry_after}))
    make_endpoint()
    SettlementFactory()
    now = timezone.now()
    sweep(now=now)
    delivery = WebhookDelivery.objects.get()
    # the schedule says 5 s after attempt 1; Retry-After asks for more and wins, up to the bound
    assert (delivery.next_attempt_at - now).total_seconds() == pytest.approx(expected, abs=0.01)


def test_rotation_signs_with_both_secrets_during_the_overlap_then_only_the_new(make_endpoint, receiver):
    endpoint = make_endpoint()
    old_secret = endpoint.secret
    new_secret = webhook_endpoint_rotate_secret(endpoint_id=endpoint.id, actor="test", overlap=timedelta(hours=24))
    assert new_secret != old_secret and new_secret.startswith("whsec_")

    SettlementFactory()
    sweep()
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(new_secret).verify(request.body, request.headers)

    # after the overlap only the new secret signs
    webhook_endpoint_rotate_secret(endpoint_id=endpoint.id, actor="test", overlap=timedelta(0))
    newest = endpoint.secrets.order_by("-created_at", "-id").first()
    SettlementFactory()
    sweep()
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(Exception, match="signature"):
        Webhook(old_secret).verify(request.body, request.headers)
    assert newest.expires_at is None


def test_secrets_are_encrypted_at_rest(make_endpoint):
    endpoint = make_endpoint()
    ciphertext = endpoint.secrets.get().ciphertext
    raw = endpoint.secret.removeprefix("whsec_")
    assert raw not in ciphertext and endpoint.secret not in ciphertext
    from webhooks.crypto import secret_decrypt

    assert secret_decrypt(ciphertext) == endpoint.secret


def test_ordering_per_aggregate_under_failures(make_endpoint, receiver):
    # given settlement A whose first event keeps failing and settlement B that flows
    a = SettlementFactory()
    b = SettlementFactory()
    make_endpoint()
    # (the endpoint subscribed after creation; make new events on both)
    from settlements.services import settlement_cancel, settlement_mark_funded, settlement_mark_settled

    receiver.respond = lambda r: fail(500) if json.loads(r.body)["subject"] == f"settlement/{a.id}" else None
    settlement_mark_funded(settlement_id=a.id, actor="test")
    settlement_cancel(settlement_id=b.id, actor="test")

    settlement_mark_settled(settlement_id=a.id, actor="test")
    now = timezone.now()

    # when the sweep runs twice (the failed one is not due again yet)
    sweep(now=now)
    sweep(now=now)

    # then A's second event waits behind its failing first; B's went out
    sent = [(json.loads(r.body)["subject"], json.loads(r.body)["type"]) for r in receiver.received]
    assert (f"settlement/{b.id}", "settlement.cancelled") in sent
    assert sent.count((f"settlement/{a.id}", "settlement.funded")) == 1
    assert (f"settlement/{a.id}", "settlement.settled") not in sent

    # when A's head finally succeeds, the next goes right after it, in order
    receiver.respond = None
    head = WebhookDelivery.objects.get(aggregate_id=a.id, event_type="settlement.funded")
    sweep(now=head.next_attempt_at)
    a_types = [json.loads(r.body)["type"] for r in receiver.received if json.loads(r.body)["subject"].endswith(a.id)]
    assert a_types == ["settlement.funded", "settlement.funded", "settlement.settled"]


def test_a_skipped_head_unblocks_its_aggregate(make_endpoint, receiver):
    from webhooks.services import delivery_skip

    make_endpoint()
    receiver.default = fail(500)
    settlement = SettlementFactory()
    from settlements.services import settlement_cancel

    settlement_cancel(settlement_id=settlement.id, actor="test")
    sweep()
    head = WebhookDelivery.objects.get(event_type="settlement.created")
    assert len(receiver.received) == 1
    receiver.default = Reply()
    delivery_skip(delivery_id=head.id, actor="user:ops")
    sweep()
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["settlement.created", "settlement.cancelled"]
    assert WebhookDelivery.objects.get(pk=head.pk).status == DeliveryStatus.SKIPPED


def test_a_test_event_goes_to_one_endpoint_and_verifies(make_endpoint, receiver):
    endpoint = make_endpoint(event_types=["settlement.created"])
    make_endpoint(path="/other")
    delivery = webhook_endpoint_send_test(endpoint_id=endpoint.id, actor="user:ops")
    sweep()
    [request] = receiver.received
    assert request.path == "/hook"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test" and payload["id"] == delivery.event_id
    assert WebhookAttempt.objects.get().trigger == "test"


def test_max_in_flight_caps_parallel_attempts(make_endpoint, receiver, settings):
    settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS = 5.0
    make_endpoint(max_in_flight=2)
    for _ in range(5):
        SettlementFactory()
    result = deliveries_process_due(time_budget=10, max_batches=1)
    assert result.claimed == 2
    assert deliveries_process_due(time_budget=10).claimed == 3


def test_rate_limit_caps_attempts_per_second(make_endpoint, receiver):
    make_endpoint(rate_limit=2)
    for _ in range(5):
        SettlementFactory()
    now = timezone.now()
    assert deliveries_process_due(now=now, time_budget=10).claimed == 2


def test_an_expired_lease_is_redriven_and_the_lost_attempt_recorded(make_endpoint, receiver):
    make_endpoint()
    SettlementFactory()
    now = timezone.now()
    # given a worker that claimed the delivery and died before recording anything
    from webhooks.services import _claim

    [claimed] = _claim(now=now, limit=10)
    assert sweep(now=now).claimed == 0  # leased: nobody else takes it
    # when the lease has expired
    later = now + timedelta(seconds=61)
    assert sweep(now=later).succeeded == 1
    # then it was delivered once more under the same webhook-id, and the lost attempt is on record
    assert [r.webhook_id for r in receiver.received] == [claimed.event_id]
    assert list(WebhookAttempt.objects.values_list("number", "error_class")) == [(1, "lease_expired"), (2, "")]


def test_health_bookkeeping_on_success_and_failure(make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.script.append(fail(500))
    SettlementFactory()
    sweep()
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert endpoint.failing_since is not None and endpoint.consecutive_failures == 1
    sweep(now=WebhookDelivery.objects.get().next_attempt_at)
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert endpoint.failing_since is None and endpoint.consecutive_failures == 0 and endpoint.last_success_at


def test_each_success_and_failure_is_logged_for_the_slo(make_endpoint, receiver, caplog):
    # the webhook-success SLO in Cloud Monitoring counts these two log lines
    make_endpoint()
    SettlementFactory()
    with caplog.at_level("INFO", logger="webhooks.services"):
        sweep()
    [record] = [r for r in caplog.records if r.getMessage() == "webhook.delivery_succeeded"]
    assert record.attempt == 1 and record.latency_ms is not None


def test_the_claim_reads_heads_in_one_pass_without_a_join_even_on_stale_statistics(make_endpoint):
    # given a burst of deliveries the planner's statistics have not seen (the table was never analyzed):
    # 300 aggregates with two open deliveries each, every 3rd held at its head
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fusionprime.db import copy_insert
    from fusionprime.ids import new_id
    from webhooks.services import _due_heads

    endpoint = make_endpoint()
    now = timezone.now()
    rows, expected = [], []
    for i in range(300):
        for sequence in (1, 2):
            held = sequence == 1 and i % 3 == 0
            rows.append(
                WebhookDelivery(
                    id=f"whd_{i:04d}_{sequence}",
                    endpoint=endpoint,
                    event_id=new_id("evt"),
                    event_type="settlement.created",
                    aggregate_type="settlement",
                    aggregate_id=f"stl_{i:04d}",
                    sequence=sequence,
                    body=b"{}",
                    status=DeliveryStatus.HELD if held else DeliveryStatus.PENDING,
                    next_attempt_at=now - timedelta(seconds=600 - i),
                )
            )
            if sequence == 1 and not held:
                expected.append(rows[-1].id)
    copy_insert(rows)

    # when the heads are read
    with CaptureQueriesContext(connection) as queries:
        heads = _due_heads(now, [endpoint.id], limit=150)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {queries[-1]['sql']}")
        plan = "\n".join(line for (line,) in cursor.fetchall())

    # then they are the first due heads, none behind a held one, from one pass with no per-row re-scan
    assert heads == expected[:150]
    assert "Loop" not in plan and "SubPlan" not in plan, plan


def _recorded(make_endpoint, outcomes: list[int]):
    """Claims one delivery per outcome (HTTP status) for one endpoint and records them in that order."""
    import time as _time

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from webhooks import transport
    from webhooks.services import SweepResult, _claim, _record

    endpoint = make_endpoint()
    for _ in outcomes:
        SettlementFactory()
    now = timezone.now()
    claimed = sorted(_claim(now=now, limit=len(outcomes)), key=lambda c: c.delivery_id)
    responses = [
        transport.Response(
            started_at=_time.time(),
            status_code=status,
            error_class="" if status < 300 else "http_5xx",
            error_message="" if status < 300 else f"HTTP {status}",
        )
        for status in outcomes
    ]
    result = SweepResult()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        _record(list(zip(claimed, responses, strict=True)), now=now, result=result)
    return WebhookEndpoint.objects.get(pk=endpoint.pk), claimed, result, len(queries)


def test_a_batch_of_successes_is_recorded_in_a_fixed_number_of_statements(make_endpoint):
    endpoint, claimed, result, statements = _recorded(make_endpoint, [200, 201, 200, 204, 200, 200])

    assert result.succeeded == 6
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert sorted(WebhookDelivery.objects.values_list("last_status_code", flat=True)) == [200, 200, 200, 200, 201, 204]
    assert WebhookAttempt.objects.filter(succeeded=True).count() == 6 and endpoint.last_success_at is not None
    # attempts (id reservation and COPY), one UPDATE per (attempt number, status code), the health stamp,
    # and the savepoint pair; not three statements a delivery
    assert statements <= 8


@pytest.mark.parametrize(("outcomes", "failures"), [([200, 500], 1), ([500, 200], 0)])
def test_an_endpoints_health_ends_as_the_attempts_order_leaves_it(make_endpoint, outcomes, failures):
    endpoint, _, result, _ = _recorded(make_endpoint, outcomes)

    assert (result.succeeded, result.retrying) == (1, 1)
    assert endpoint.consecutive_failures == failures
    assert (endpoint.failing_since is not None) == bool(failures)


def test_a_late_success_leaves_a_delivery_another_worker_took_over_alone(make_endpoint):
    # given the delivery's lease was taken over (its attempt number moved on) before this write
    from webhooks import transport
    from webhooks.services import SweepResult, _claim, _record

    make_endpoint()
    SettlementFactory()
    now = timezone.now()
    [claimed] = _claim(now=now, limit=1)
    WebhookDelivery.objects.filter(pk=claimed.delivery_id).update(attempts=claimed.number + 1)

    _record([(claimed, transport.Response(started_at=now.timestamp(), status_code=200))], now=now, result=SweepResult())

    # then its attempt is on record, and the delivery is not marked succeeded by the late writer
    assert WebhookDelivery.objects.get(pk=claimed.delivery_id).status == DeliveryStatus.PENDING
    assert WebhookAttempt.objects.filter(delivery_id=claimed.delivery_id, succeeded=True).count() == 1


def test_a_sweep_out_of_time_hands_what_is_left_to_a_new_sweep_at_once(
    make_endpoint, receiver, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from webhooks.tasks import deliver_due_task

    # three deliveries, created without a kick of their own
    settings.WEBHOOKS_KICK_ON_COMMIT = False
    make_endpoint()
    for _ in range(3):
        SettlementFactory()
    settings.WEBHOOKS_KICK_ON_COMMIT = True
    kicks = []
    run_now = deliver_due_task.delay  # eager in tests: the kicked sweep runs here
    monkeypatch.setattr(deliver_due_task, "delay", lambda: kicks.append(1) or run_now())

    # a sweep whose time is up before its first batch (outside the test's transaction its kick runs at once)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_process_due(time_budget=0).claimed == 0

    # kicked one more sweep, which delivered all three and, finding nothing more, kicked none
    assert kicks == [1]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3
    assert len(receiver.received) == 3
