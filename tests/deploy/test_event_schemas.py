"""Every event the settlement services emit matches the published JSON Schemas (the single source)."""

import copy
import json

import pytest

from fusionprime.events import schemas
from fusionprime.events.models import Event
from fusionprime.events.schemas import EventSchemaError, validate_envelope
from settlements import services
from settlements.models import TRANSITIONS, SettlementStatus
from tests.factories import SettlementFactory
from tests.support.envelopes import parse_envelope

pytestmark = pytest.mark.django_db

# Each path walks every allowed transition at least once.
LIFECYCLES = [
    [services.settlement_mark_funded, services.settlement_mark_settled],
    [services.settlement_mark_funded, services.settlement_refund],
    [services.settlement_mark_funded, services.settlement_fail],
    [services.settlement_cancel],
    [services.settlement_fail],
]


def _emitted_envelopes() -> list[dict]:
    ids = []
    for steps in LIFECYCLES:
        settlement = SettlementFactory(metadata={"desk": "emea"})
        ids.append(settlement.id)
        for step in steps:
            step(settlement_id=settlement.id, actor="test:schemas", reason=f"via {step.__name__}")
    escrow = SettlementFactory(asset="USDC", amount="10.5", rail="escrow", chain_id=11155111)
    ids.append(escrow.id)
    # Escrow-driven transitions add fields to `data`; the schema must accept them.
    services.settlement_mark_funded(
        settlement_id=escrow.id, actor="system:relayer", event_data={"escrow": {"tx_hash": "0x" + "ab" * 32}}
    )
    services.settlement_mark_settled(settlement_id=escrow.id, actor="system:relayer")
    return [event.to_envelope() for event in Event.objects.filter(aggregate_id__in=ids)]


def test_every_event_the_settlement_services_emit_matches_its_schema():
    # given every lifecycle path, when the events are read back as published
    envelopes = _emitted_envelopes()

    # then each validates against the envelope and its own type's schema, and by the CloudEvents SDK
    for envelope in envelopes:
        validate_envelope(envelope)
        parse_envelope(json.loads(json.dumps(envelope)))
        assert envelope["subject"] == f"settlement/{envelope['data']['id']}"
    emitted_types = {e["type"] for e in envelopes}
    assert emitted_types == {t for t in schemas.event_types() if t.startswith("settlement.")}


def test_every_reachable_status_has_an_event_schema():
    reachable = {SettlementStatus.PENDING.value} | {str(s) for targets in TRANSITIONS.values() for s in targets}
    expected = {"settlement.created"} | {f"settlement.{s}" for s in reachable - {"pending"}}
    assert expected <= set(schemas.event_types())


@pytest.fixture
def funded_envelope():
    settlement = SettlementFactory()
    services.settlement_mark_funded(settlement_id=settlement.id, actor="test:schemas")
    return Event.objects.get(aggregate_id=settlement.id, type="settlement.funded").to_envelope()


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda e: e["data"].__setitem__("amount", 1250.5), "data/amount"),
        (lambda e: e["data"].__setitem__("amount", "1,250.50"), "data/amount"),
        (lambda e: e["data"].pop("asset"), "data"),
        (lambda e: e["data"].__setitem__("status", "settled"), "data/status"),
        (lambda e: e.__setitem__("sequence", "2"), "sequence"),
        (lambda e: e.__setitem__("sequence", "0" * 20), "sequence"),
        (lambda e: e.__setitem__("time", "2026-11-28 10:00:00"), "time"),
        (lambda e: e.__setitem__("specversion", "0.3"), "specversion"),
        (lambda e: e.__setitem__("unexpected", "x"), "(root)"),
        (lambda e: e.pop("id"), "(root)"),
        (lambda e: e["data"]["metadata"].__setitem__("k", 1), "data/metadata/k"),
        (lambda e: e["data"].__setitem__("chain_id", 1), "data/chain_id"),
    ],
)
def test_a_malformed_event_is_refused_with_the_offending_path(funded_envelope, mutate, where):
    broken = copy.deepcopy(funded_envelope)
    mutate(broken)
    with pytest.raises(EventSchemaError) as excinfo:
        validate_envelope(broken)
    assert any(error.startswith(f"{where}:") for error in excinfo.value.errors), excinfo.value.errors


def test_an_event_type_without_a_schema_is_refused_unless_allowed(funded_envelope):
    other = {**funded_envelope, "type": "escrow.released"}
    with pytest.raises(EventSchemaError, match="No schema for event type 'escrow.released'"):
        validate_envelope(other)
    validate_envelope(other, require_type_schema=False)


def test_a_non_object_is_refused():
    with pytest.raises(EventSchemaError, match="JSON object"):
        validate_envelope(["not", "an", "object"])


def test_every_schema_file_is_valid_json_schema_with_a_unique_id():
    from jsonschema import Draft202012Validator

    ids = [schemas.schema_document(name)["$id"] for name in schemas.schema_names()]
    assert len(ids) == len(set(ids))
    for name in schemas.schema_names():
        Draft202012Validator.check_schema(schemas.schema_document(name))


def test_schemas_are_published_for_integrators_without_an_api_key(client):
    response = client.get("/v1/schemas/settlement.created.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    assert response.json()["$id"] == "https://schemas.fusionprime.dev/events/settlement.created.json"

    index = client.get("/v1/schemas/index.json").json()
    assert index["event_types"]["settlement.refunded"].endswith("/v1/schemas/settlement.refunded.json")

    missing = client.get("/v1/schemas/nope.json")
    assert missing.status_code == 404
