"""Settlement event envelopes as the event log publishes them, built by hand for pipeline tests."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from apache_beam.io.gcp.pubsub import PubsubMessage
from ulid import ULID

from fusionprime.ids import is_id

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
STATUS = {
    "created": "pending",
    "funded": "funded",
    "settled": "settled",
    "cancelled": "cancelled",
    "failed": "failed",
    "refunded": "refunded",
}


def _canonical(raw: str, prefix: str) -> str:
    """A readable test name such as "evt_1" → a well-formed id, the same every time."""
    if is_id(raw, prefix):
        return raw
    return f"{prefix}_{str(ULID.from_bytes(hashlib.sha256(raw.encode()).digest()[:16])).lower()}"


def eid(name: str) -> str:
    return _canonical(name, "evt")


def sid(name: str) -> str:
    return _canonical(name, "stl")


def envelope(
    *,
    event_id: str,
    action: str,
    settlement_id: str,
    at: float,
    amount: str = "100.00",
    payer: str = "acme",
    payee: str = "globex",
    asset: str = "USD",
    sequence: int = 1,
) -> dict:
    event_id, settlement_id = eid(event_id), sid(settlement_id)
    time = (T0 + timedelta(seconds=at)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "specversion": "1.0",
        "id": event_id,
        "type": f"settlement.{action}",
        "source": "/fusionprime/settlements",
        "subject": f"settlement/{settlement_id}",
        "time": time,
        "sequence": f"{sequence:020d}",
        "datacontenttype": "application/json",
        "dataschema": "https://schemas.fusionprime.dev/settlement/v1",
        "data": {
            "id": settlement_id,
            "object": "settlement",
            "reference": f"REF-{settlement_id}",
            "payer_reference": payer,
            "payee_reference": payee,
            "amount": amount,
            "asset": asset,
            "rail": "offchain",
            "chain_id": None,
            "status": STATUS[action],
            "status_reason": "",
            "metadata": {},
            "created_at": time,
            "updated_at": time,
        },
    }


def message(env: dict | bytes) -> PubsubMessage:
    if isinstance(env, bytes):
        return PubsubMessage(env, {})
    data = json.dumps(env, separators=(",", ":"), sort_keys=True).encode()
    return PubsubMessage(
        data,
        {
            "event_id": env["id"],
            "event_type": env["type"],
            "occurred_at": env["time"],
            "aggregate_id": env["data"]["id"],
        },
    )
