"""Where published events go: Google Pub/Sub (or its emulator), or a local spool file.

Both backends take a batch of events in order and return, per event id, the message id the
destination acknowledged or the exception that stopped it.
"""

import json
import os
import threading
from concurrent import futures
from pathlib import Path

from django.conf import settings

from fusionprime.events.models import Event

LOCAL_PROJECT = "fusionprime-local"


def pubsub_project() -> str:
    return settings.GCP_PROJECT_ID or LOCAL_PROJECT


class PubSubBackend:
    def __init__(self, project: str):
        from google.cloud import pubsub_v1

        self.project = project
        self.client = pubsub_v1.PublisherClient(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        )

    def topic_path(self, topic: str) -> str:
        return self.client.topic_path(self.project, topic)

    def publish(self, events: list[Event]) -> dict[str, object]:
        from google.api_core import retry as retries

        timeout = settings.EVENT_PUBLISH_TIMEOUT_SECONDS
        # Bounded: the client would otherwise retry for up to 10 minutes while rows stay locked.
        retry = retries.Retry(initial=0.1, maximum=2.0, multiplier=2, timeout=timeout)
        pending = {}
        for event in events:
            pending[event.id] = (
                event,
                self.client.publish(
                    self.topic_path(event.topic),
                    event.to_bytes(),
                    ordering_key=event.aggregate_id,
                    retry=retry,
                    timeout=timeout,
                    **event.pubsub_attributes(),
                ),
            )
        outcomes: dict[str, object] = {}
        for event_id, (event, future) in pending.items():
            try:
                outcomes[event_id] = future.result(timeout=timeout + 5)
            except (Exception, futures.TimeoutError) as exc:  # noqa: BLE001 - every failure is recorded
                outcomes[event_id] = exc
                self._resume(event)
        return outcomes

    def _resume(self, event: Event) -> None:
        # The client pauses an ordering key after an error until told to resume.
        try:
            self.client.resume_publish(self.topic_path(event.topic), event.aggregate_id)
        except RuntimeError:
            pass  # not paused (the failure was ours, e.g. a timeout): nothing to resume


class SpoolBackend:
    """Appends one JSON line per message and fsyncs: the stand-in when no Pub/Sub is configured."""

    _lock = threading.Lock()

    def __init__(self, path: Path):
        self.path = Path(path)

    def publish(self, events: list[Event]) -> dict[str, object]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            json.dumps(
                {
                    "topic": event.topic,
                    "ordering_key": event.aggregate_id,
                    "attributes": event.pubsub_attributes(),
                    "data": event.to_envelope(),
                },
                separators=(",", ":"),
            )
            for event in events
        ]
        with self._lock, open(self.path, "a", encoding="utf-8") as spool:
            spool.write("".join(line + "\n" for line in lines))
            spool.flush()
            os.fsync(spool.fileno())
        return {event.id: f"spool:{event.id}" for event in events}


_backend = None
_backend_key = None


def get_backend():
    """One client per process (the Pub/Sub client is thread-safe and costly to build)."""
    global _backend, _backend_key
    use_pubsub = bool(settings.GCP_PROJECT_ID or os.environ.get("PUBSUB_EMULATOR_HOST"))
    key = (use_pubsub, pubsub_project(), os.environ.get("PUBSUB_EMULATOR_HOST"), str(settings.EVENT_SPOOL_PATH))
    if _backend is None or key != _backend_key:
        _backend = PubSubBackend(pubsub_project()) if use_pubsub else SpoolBackend(settings.EVENT_SPOOL_PATH)
        _backend_key = key
    return _backend
