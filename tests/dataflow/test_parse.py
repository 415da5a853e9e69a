"""The envelope parser: what it accepts, and a specific error for everything it refuses."""

import json

import pytest

from dataflow.risk_pipeline.transforms import MalformedEvent, dead_letter_row, parse_settlement_event
from tests.dataflow.events import eid, envelope, sid


def raw(env: dict) -> bytes:
    return json.dumps(env).encode()


def test_a_published_envelope_parses_to_base_units_and_event_time():
    env = envelope(
        event_id=eid("evt_1"), action="funded", settlement_id=sid("stl_1"), at=12.5, amount="1250.50", sequence=2
    )
    event = parse_settlement_event(raw(env), {"event_id": eid("evt_1")})
    assert (event.event_id, event.type, event.status, event.sequence) == (
        eid("evt_1"),
        "settlement.funded",
        "funded",
        2,
    )
    assert (event.amount_base_units, event.asset_decimals) == (125050, 2)
    assert event.occurred_at.isoformat() == "2026-11-28T10:00:12.500000+00:00"


def test_eighteen_decimal_amounts_stay_exact():
    env = envelope(
        event_id=eid("evt_2"),
        action="created",
        settlement_id=sid("stl_2"),
        at=0,
        asset="ETH",
        amount="1.000000000000000001",
    )
    event = parse_settlement_event(raw(env))
    assert (event.amount_base_units, event.asset_decimals) == (10**18 + 1, 18)


def _mutated(**changes):
    env = envelope(event_id=eid("evt_x"), action="created", settlement_id=sid("stl_x"), at=0)
    for path, value in changes.items():
        target = env
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return raw(env)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (_mutated(type="settlement.exploded"), "unknown event type 'settlement.exploded'"),
        (_mutated(specversion="0.3"), "specversion '0.3' is not 1.0"),
        (_mutated(time=...), "envelope is missing time"),
        (_mutated(time="yesterday"), "not an RFC 3339 timestamp"),
        (_mutated(sequence="7"), "schema: sequence: '7' does not match"),
        (_mutated(data__rail="carrier-pigeon"), "schema: data/rail"),
        (_mutated(sequence=7), "is not a positive zero-padded integer string"),
        (_mutated(data__amount=...), "data is missing amount"),
        (_mutated(data__amount=1250.5), "must be a decimal string"),
        (_mutated(data__amount="-5.00"), "is not a plain decimal amount"),
        (_mutated(data__amount="1e3"), "is not a plain decimal amount"),
        (_mutated(data__amount="0.00"), "must be greater than zero"),
        (_mutated(data__payer_reference=""), "data.payer_reference must be a non-empty string"),
        (_mutated(data__payee_reference="acme"), "are the same party"),
        (_mutated(data__status="settled"), "cannot carry status 'settled'"),
        (_mutated(data="oops"), "data must be an object"),
    ],
)
def test_malformed_envelopes_are_refused_with_a_specific_reason(payload, error):
    with pytest.raises(MalformedEvent, match=error.replace("(", r"\(").replace(".", r"\.")):
        parse_settlement_event(payload)


def test_an_event_id_attribute_that_contradicts_the_envelope_is_refused():
    env = envelope(event_id=eid("evt_a"), action="created", settlement_id=sid("stl_a"), at=0)
    with pytest.raises(MalformedEvent, match="differs from envelope id"):
        parse_settlement_event(raw(env), {"event_id": eid("evt_b")})


def test_a_dead_letter_keeps_undecodable_bytes_readable():
    row = dead_letter_row(payload=b"\xff\xfe{", attributes={"event_id": eid("evt_q")}, error="not JSON")
    assert row["payload"] == "\\xff\\xfe{"
    assert row["event_id"] == eid("evt_q")
    assert json.loads(row["attributes"]) == {"event_id": eid("evt_q")}


def test_the_rows_the_pipeline_writes_have_exactly_the_columns_of_the_json_schemas():
    from datetime import UTC, datetime

    from dataflow.risk_pipeline import schemas
    from dataflow.risk_pipeline.transforms import settlement_event_row

    event = parse_settlement_event(
        raw(envelope(event_id=eid("evt_c"), action="created", settlement_id=sid("stl_c"), at=0))
    )
    assert set(settlement_event_row(event, received_at=datetime.now(UTC))) == set(
        schemas.column_names("settlement_events")
    )
    assert set(dead_letter_row(payload=b"x", attributes={}, error="e")) == set(schemas.column_names("dead_letter"))
