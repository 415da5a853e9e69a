"""Parsing and validating settlement event envelopes; anything malformed becomes a dead letter.

`parse_settlement_event` is a plain function (the benchmark's plain-Python loop calls it too);
`ParseSettlementEvents` wraps it in a DoFn that never raises on bad input: the message goes to
the `dead_letter` output with the raw payload, attributes, error and time.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import apache_beam as beam
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from fusionprime.events.schemas import EventSchemaError, validate_envelope

DEAD_LETTER = "dead_letter"

# The settlement's status after each event type; any other type is not a settlement event.
STATUS_BY_TYPE = {
    "settlement.created": "pending",
    "settlement.funded": "funded",
    "settlement.settled": "settled",
    "settlement.cancelled": "cancelled",
    "settlement.failed": "failed",
    "settlement.refunded": "refunded",
}
# Amounts are published in their canonical form: exactly the asset's decimals (fusionprime.money).
_AMOUNT_RE = re.compile(r"^(0|[1-9]\d{0,23})(?:\.(\d{1,18}))?$")
_SEQUENCE_RE = re.compile(r"^\d{1,20}$")
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
_REQUIRED_ENVELOPE = ("specversion", "id", "type", "source", "time", "data")
_REQUIRED_DATA = ("id", "payer_reference", "payee_reference", "amount", "asset", "status")


class MalformedEvent(ValueError):
    """The message is not a settlement event we can count; the text says why."""


@dataclass(frozen=True)
class SettlementEvent:
    event_id: str
    type: str
    source: str
    subject: str | None
    sequence: int
    occurred_at: datetime
    settlement_id: str
    status: str
    payer_reference: str
    payee_reference: str
    asset: str
    amount: str
    amount_base_units: int
    asset_decimals: int
    envelope: dict

    @property
    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount)


def _text(mapping: dict, key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{where}.{key} must be a non-empty string")
    return value


def parse_time(raw: str) -> datetime:
    if not isinstance(raw, str) or not _TIME_RE.match(raw):
        raise MalformedEvent(f"time {str(raw)[:40]!r} is not an RFC 3339 timestamp")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)


def parse_amount(raw: object) -> tuple[int, int]:
    """A positive canonical decimal string → (base units, decimals). Never via float."""
    if not isinstance(raw, str):
        raise MalformedEvent("data.amount must be a decimal string (JSON numbers lose precision)")
    match = _AMOUNT_RE.match(raw)
    if not match:
        raise MalformedEvent(f"data.amount {raw[:40]!r} is not a plain decimal amount")
    whole, fraction = match.group(1), match.group(2) or ""
    units = int(whole + fraction)
    if units <= 0:
        raise MalformedEvent("data.amount must be greater than zero")
    return units, len(fraction)


def parse_settlement_event(payload: bytes | str, attributes: dict | None = None) -> SettlementEvent:
    """Validates one Pub/Sub message and returns the event; raises MalformedEvent if it is not one."""
    try:
        envelope = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise MalformedEvent("the envelope must be a JSON object")
    missing = [key for key in _REQUIRED_ENVELOPE if key not in envelope]
    if missing:
        raise MalformedEvent(f"envelope is missing {', '.join(missing)}")
    if envelope["specversion"] != "1.0":
        raise MalformedEvent(f"specversion {envelope['specversion']!r} is not 1.0")
    event_id = _text(envelope, "id", "envelope")
    event_type = _text(envelope, "type", "envelope")
    if event_type not in STATUS_BY_TYPE:
        raise MalformedEvent(f"unknown event type {event_type[:64]!r}")
    attribute_id = (attributes or {}).get("event_id")
    if attribute_id is not None and attribute_id != event_id:
        raise MalformedEvent(f"attribute event_id {attribute_id[:40]!r} differs from envelope id {event_id[:40]!r}")
    sequence = envelope.get("sequence", "")
    if not isinstance(sequence, str) or not _SEQUENCE_RE.match(sequence) or int(sequence) < 1:
        raise MalformedEvent(f"sequence {str(sequence)[:40]!r} is not a positive zero-padded integer string")
    occurred_at = parse_time(envelope["time"])

    data = envelope["data"]
    if not isinstance(data, dict):
        raise MalformedEvent("data must be an object")
    missing = [key for key in _REQUIRED_DATA if key not in data]
    if missing:
        raise MalformedEvent(f"data is missing {', '.join(missing)}")
    payer = _text(data, "payer_reference", "data")
    payee = _text(data, "payee_reference", "data")
    if payer == payee:
        raise MalformedEvent("data.payer_reference and data.payee_reference are the same party")
    status = _text(data, "status", "data")
    if status != STATUS_BY_TYPE[event_type]:
        raise MalformedEvent(f"a {event_type} event cannot carry status {status[:20]!r}")
    units, decimals = parse_amount(data["amount"])
    try:
        # Last, so the specific messages above win; the repo's JSON Schemas are the full contract.
        validate_envelope(envelope)
    except EventSchemaError as exc:
        raise MalformedEvent(f"schema: {'; '.join(exc.errors)[:500]}") from exc
    return SettlementEvent(
        event_id=event_id,
        type=event_type,
        source=_text(envelope, "source", "envelope"),
        subject=envelope.get("subject") if isinstance(envelope.get("subject"), str) else None,
        sequence=int(sequence),
        occurred_at=occurred_at,
        settlement_id=_text(data, "id", "data"),
        status=status,
        payer_reference=payer,
        payee_reference=payee,
        asset=_text(data, "asset", "data"),
        amount=data["amount"],
        amount_base_units=units,
        asset_decimals=decimals,
        envelope=envelope,
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def dead_letter_row(
    *,
    payload: bytes | str,
    attributes: dict | None,
    error: str,
    stage: str = "parse",
    event_id: str | None = None,
    target_table: str | None = None,
) -> dict:
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="backslashreplace")
    return {
        "failed_at": iso(datetime.now(UTC)),
        "stage": stage,
        "error": error[:4000],
        "event_id": event_id or (attributes or {}).get("event_id"),
        "target_table": target_table,
        "payload": payload,
        "attributes": json.dumps(dict(attributes or {}), sort_keys=True),
    }


def settlement_event_row(event: SettlementEvent, *, received_at: datetime | None = None) -> dict:
    return {
        "event_id": event.event_id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "sequence": event.sequence,
        "occurred_at": iso(event.occurred_at),
        "settlement_id": event.settlement_id,
        "status": event.status,
        "payer_reference": event.payer_reference,
        "payee_reference": event.payee_reference,
        "asset": event.asset,
        "amount": event.amount,
        "amount_base_units": str(event.amount_base_units),
        "asset_decimals": event.asset_decimals,
        "envelope": json.dumps(event.envelope, sort_keys=True, separators=(",", ":")),
        "received_at": iso(received_at or datetime.now(UTC)),
    }


class ParseSettlementEvents(beam.DoFn):
    """PubsubMessage (or raw bytes) → SettlementEvent stamped with its event time, or a dead letter.

    The element timestamp becomes the envelope's `time` (occurred_at), so windows are in event
    time whatever the source stamped (publish time on runners without `timestamp_attribute`).
    """

    def process(self, message):
        payload = getattr(message, "data", message)
        attributes = dict(getattr(message, "attributes", None) or {})
        try:
            event = parse_settlement_event(payload, attributes)
        except MalformedEvent as exc:
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, dead_letter_row(payload=payload, attributes=attributes, error=str(exc))
            )
            return
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the stream either
            error = f"unexpected {type(exc).__name__}: {exc}"
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, dead_letter_row(payload=payload, attributes=attributes, error=error)
            )
            return
        yield TimestampedValue(event, Timestamp.from_utc_datetime(event.occurred_at))
