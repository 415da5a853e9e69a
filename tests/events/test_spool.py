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
