"""Webhook delivery: sustained deliveries/s and p95 commit → first attempt, each as a ratio to a bare
loop of signed POSTs through the same HTTP client (webhooks.transport.post) in the same run.

Real pieces: PostgreSQL, our own redis-server, Celery workers (prefork) triggered by the on-commit
kick, and a threaded HTTP receiver on loopback.
"""

import os
import threading
import time
from pathlib import Path

from tests.benchmarks.support import bench_env, fresh_database, percentile, report, summary_ms
from tests.support.processes import free_port, stop
from tests.webhooks.processes import Redis, start_worker
from tests.webhooks.receiver import Receiver

BACKLOG = int(os.environ.get("BENCH_WEBHOOK_BACKLOG", "1500"))
STEADY_RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "25"))  # events/s during the latency run
STEADY_SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("BENCH_WEBHOOK_CONCURRENCY", "8"))
WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "2"))


def _bare_loop(url: str, secret: str, n: int, threads: int) -> tuple[list[float], float]:
    """n signed POSTs with the delivery client, no database; per-request latency and requests/s."""
    from webhooks import crypto, transport

    body = b'{"specversion":"1.0","id":"evt_bench","data":{"amount":"1250.50","asset":"USD"}}'
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def loop():
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "webhook-id": "evt_bench",
                "webhook-timestamp": str(ts),
                "webhook-signature": crypto.signature_header(
                    secrets_=[secret], msg_id="evt_bench", timestamp=ts, body=body
                ),
            }
            started = time.monotonic()
            response = transport.post(
                url, body=body, headers=headers, connect_timeout=5, total_timeout=15, body_limit=65536
            )
            assert response.ok, response.error_message
            with lock:
                latencies.append(time.monotonic() - started)

    started = time.monotonic()
    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, n / (time.monotonic() - started)


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def run() -> dict:
    db_url = fresh_database("webhooks")
    redis = Redis(free_port()).start()
    receiver = Receiver().start()
    env = bench_env(
        db_url,
        CELERY_BROKER_URL=redis.url,
        WEBHOOKS_ALLOWLIST="127.0.0.1",
        WEBHOOKS_SWEEP_CONCURRENCY=str(CONCURRENCY),
        # beat is not started here: the kick on commit is the only trigger being measured
    )
    os.environ.update(env)
    workers = []
    try:
        import django

        django.setup()
        from django.db import transaction
        from django.test.utils import override_settings

        from fusionprime.celery import app  # binds shared tasks to the configured app
        from fusionprime.events.models import Event
        from settlements.services import settlement_create
        from webhooks.models import DeliveryStatus, WebhookDelivery
        from webhooks.services import webhook_endpoint_create

        endpoint, secret = webhook_endpoint_create(
            url=f"{receiver.url}/bench", actor="bench", event_types=["*"], max_in_flight=CONCURRENCY * WORKERS
        )

        # 1. the bare loop: sequential latency, then parallel throughput at the sweep's concurrency
        _bare_loop(f"{receiver.url}/warmup", secret, 50, 1)
        bare_latencies, _ = _bare_loop(f"{receiver.url}/bare", secret, 500, 1)
        _, bare_rps = _bare_loop(f"{receiver.url}/bare", secret, 2000, CONCURRENCY * WORKERS)

        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-webhooks-{redis.port}.log"
        workers = [start_worker(env, log, beat=False, pool="prefork", concurrency=1) for _ in range(WORKERS)]
        time.sleep(4)  # workers connect to Redis and PostgreSQL

        counter = iter(range(10**9))

        def make_settlement():
            return settlement_create(
                reference=f"BENCH-{next(counter):08d}",
                payer_reference="acme",
                payee_reference="globex",
                amount="1250.50",
                asset="USD",
                actor="bench",
            )

        # 2. sustained throughput: a backlog written without kicks, then one kick per worker
        with override_settings(WEBHOOKS_KICK_ON_COMMIT=False):
            for _ in range(BACKLOG):
                make_settlement()
        # the backlog's events also queued one outbox-publisher kick each: drop them so the run
        # measures delivery, not a queue of publisher no-ops
        app.control.purge()
        receiver.received.clear()
        from webhooks.tasks import deliver_due_task

        started = time.monotonic()
        for _ in range(WORKERS):
            deliver_due_task.delay()
        beat = {"next": time.monotonic() + 2}

        def drained_or_tick():
            # stands in for beat's 2 s sweep: a task that found its endpoint at max_in_flight ends early
            if time.monotonic() >= beat["next"]:
                beat["next"] += 2
                for _ in range(WORKERS):
                    deliver_due_task.delay()
            return len(receiver.received) >= BACKLOG

        drained = _wait(drained_or_tick, timeout=300)
        sustained_s = time.monotonic() - started
        delivered = len({r.webhook_id for r in receiver.received})
        sustained_rps = delivered / sustained_s

        # 3. steady load: events at a fixed rate; commit → first attempt at the receiver
        receiver.received.clear()
        commits: dict[str, float] = {}
        interval = 1 / STEADY_RATE
        next_at = time.monotonic()
        deadline = next_at + STEADY_SECONDS
        while time.monotonic() < deadline:
            stamp: list[float] = []
            with transaction.atomic():
                transaction.on_commit(lambda s=stamp: s.append(time.monotonic()))  # runs before the kick
                settlement = make_settlement()
                event_id = Event.objects.filter(aggregate_id=settlement.id).values_list("id", flat=True).get()
            commits[event_id] = stamp[0]
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        _wait(lambda: len({r.webhook_id for r in receiver.received}) >= len(commits), timeout=60)
        first_seen: dict[str, float] = {}
        for request in receiver.received:
            first_seen.setdefault(request.webhook_id, request.at)
        latencies = [first_seen[e] - commits[e] for e in commits if e in first_seen]
        missing = len(commits) - len(latencies)
        open_left = WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).count()
    finally:
        for worker in workers:
            stop(worker)
        receiver.stop()
        redis.stop()

    bare = summary_ms(bare_latencies)
    p95_ms = round(percentile(latencies, 95) * 1000, 2)
    return report(
        "bench_webhooks",
        {
            "workers": WORKERS,
            "http_concurrency_per_worker": CONCURRENCY,
            "bare_signed_post_sequential": bare,
            "bare_signed_post_parallel_rps": round(bare_rps, 1),
            "backlog": BACKLOG,
            "backlog_drained": drained,
            "sustained_deliveries_per_s": round(sustained_rps, 1),
            "sustained_vs_bare_rps_ratio": round(sustained_rps / bare_rps, 3),
            "steady_rate_events_per_s": STEADY_RATE,
            "steady_events": len(commits),
            "steady_missing": missing,
            "commit_to_first_attempt": {**summary_ms(latencies), "max_ms": round(max(latencies) * 1000, 2)},
            "p95_commit_to_first_attempt_ms": p95_ms,
            "p95_ratio_to_bare_post_p95": round(p95_ms / bare["p95_ms"], 2) if bare["p95_ms"] else None,
            "target_p95_ms": 150,
            "target_met": p95_ms < 150,
            "deliveries_not_succeeded_at_end": open_left,
        },
    )


if __name__ == "__main__":
    run()
