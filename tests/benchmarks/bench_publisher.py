"""Outbox publisher throughput to the Pub/Sub emulator vs a bare publish loop with the same client."""

import os
import time

from tests.benchmarks.support import bench_env, fresh_database, report
from tests.support.processes import PubSubEmulator

EVENTS = int(os.environ.get("BENCH_PUBLISH_EVENTS", "5000"))
AGGREGATES = int(os.environ.get("BENCH_PUBLISH_AGGREGATES", "1000"))


def run() -> dict:
    db_url = fresh_database("publisher")
    emulator = PubSubEmulator().start()
    os.environ.update(bench_env(db_url, PUBSUB_EMULATOR_HOST=emulator.host, GCP_PROJECT_ID="fp-bench"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone
        from google.cloud import pubsub_v1

        from fusionprime.events.models import Event
        from fusionprime.events.services import events_publish_pending
        from fusionprime.ids import new_id

        call_command("pubsub_bootstrap", stdout=open(os.devnull, "w"))
        now = timezone.now()
        Event.objects.bulk_create(
            Event(
                id=new_id("evt"),
                type="settlement.created",
                source="/fusionprime/settlements",
                aggregate_type="settlement",
                aggregate_id=f"stl_bench{i % AGGREGATES:06d}",
                sequence=i // AGGREGATES + 1,
                occurred_at=now,
                data={"amount": "1250.50", "asset": "USD", "n": i},
                actor="bench",
                topic="settlement.events.v1",
            )
            for i in range(EVENTS)
        )
        events = list(Event.objects.order_by("aggregate_id", "sequence"))

        # baseline: the same messages through the same client, no database
        client = pubsub_v1.PublisherClient(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
        )
        topic = client.topic_path("fp-bench", "settlement.events.v1")
        started = time.monotonic()
        futures = [
            client.publish(topic, e.to_bytes(), ordering_key=e.aggregate_id, **e.pubsub_attributes()) for e in events
        ]
        for future in futures:
            future.result(timeout=120)
        bare_s = time.monotonic() - started

        started = time.monotonic()
        published = 0
        while published < EVENTS and time.monotonic() - started < 300:
            published += events_publish_pending(time_budget=60).published
        outbox_s = time.monotonic() - started
        assert Event.objects.filter(published_at__isnull=True).count() == 0
    finally:
        emulator.stop()
    bare = EVENTS / bare_s
    outbox = EVENTS / outbox_s
    return report(
        "publisher",
        {
            "events": EVENTS,
            "aggregates": AGGREGATES,
            "bare_publish_loop_per_s": round(bare, 1),
            "outbox_publisher_per_s": round(outbox, 1),
            "ratio_outbox_to_bare": round(outbox / bare, 3),
        },
    )


if __name__ == "__main__":
    run()
