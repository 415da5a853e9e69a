import json

import pytest

from fusionprime.events.models import Event
from fusionprime.events.services import events_publish_pending
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_pubsub_events_go_to_the_spool_file(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    settings.GCP_PROJECT_ID = ""
    settings.EVENT_SPOOL_PATH = tmp_path / "spool.jsonl"
    settlement = SettlementFactory()

    events_publish_pending()

    [line] = settings.EVENT_SPOOL_PATH.read_text().splitlines()
    message = json.loads(line)
    assert message["topic"] == "settlement.events.v1"
    assert message["ordering_key"] == settlement.id
    assert message["data"]["type"] == "settlement.created"
    assert message["attributes"]["aggregate_id"] == settlement.id
    assert Event.objects.get(aggregate_id=settlement.id).published_at is not None


def test_commits_share_one_queued_publisher_run_until_it_starts(monkeypatch):
    from fusionprime.events import services, tasks

    queued = []
    monkeypatch.setattr(tasks.publish_events_task, "delay", lambda: queued.append(1))

    services._kick_publisher()
    services._kick_publisher()  # a run is queued and has not started: it will see this commit too
    assert len(queued) == 1

    monkeypatch.setattr(tasks, "events_publish_pending", lambda: services.PublishResult())
    tasks.publish_events_task.run()  # the run starts and clears the mark
    services._kick_publisher()
    assert len(queued) == 2
