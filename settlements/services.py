"""Every write to a settlement. Each service owns its transaction and records its event in it."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from fusionprime.db import insert_unless_conflict, update_rows
from fusionprime.errors import Conflict, IllegalTransition, NotFound, ValidationError
from fusionprime.events.services import EventDraft, event_record, events_record
from fusionprime.ids import new_id
from fusionprime.money import parse_amount
from settlements.models import TRANSITIONS, Rail, Settlement, SettlementStatus
from settlements.selectors import asset_get
from settlements.serializers import settlement_data

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


def _validate_metadata(metadata: dict) -> dict:
    if not isinstance(metadata, dict):
        raise ValidationError("metadata must be an object of string values.", param="metadata")
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationError(f"metadata allows at most {MAX_METADATA_KEYS} keys.", param="metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_METADATA_KEY_LENGTH:
            raise ValidationError(
                f"metadata keys are 1 to {MAX_METADATA_KEY_LENGTH} characters.", param=f"metadata.{key}"
            )
        if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE_LENGTH:
            raise ValidationError(
                f"metadata values are strings of at most {MAX_METADATA_VALUE_LENGTH} characters.",
                param=f"metadata.{key}",
            )
    return metadata


def _existing_reference_conflict(reference: str) -> Conflict:
    existing = Settlement.objects.filter(reference=reference).values_list("id", flat=True).first()
    return Conflict(
        f"A settlement with reference '{reference}' already exists: {existing}.",
        param="reference",
        code="duplicate_reference",
        existing_id=existing,
    )


def settlement_create(
    *,
    reference: str,
    payer_reference: str,
    payee_reference: str,
    amount: Decimal | str,
    asset: str,
    actor: str,
    rail: str = Rail.OFFCHAIN,
    chain_id: int | None = None,
    metadata: dict | None = None,
) -> Settlement:
    asset_row = asset_get(code=asset)
    if asset_row is None or not asset_row.active:
        raise ValidationError(f"Unknown asset '{asset}'.", param="asset", code="unknown_asset")
    # Floats are refused by parse_amount: only Decimals and decimal strings are money here.
    raw = f"{amount:f}" if isinstance(amount, Decimal) else amount
    value = parse_amount(raw, decimals=asset_row.decimals)
    if rail not in Rail.values:
        raise ValidationError(f"rail must be one of {', '.join(Rail.values)}.", param="rail", code="invalid_rail")
    if rail == Rail.ESCROW and chain_id is None:
        raise ValidationError("An escrow settlement needs a chain_id.", param="chain_id", code="chain_id_required")
    if rail == Rail.OFFCHAIN and chain_id is not None:
        raise ValidationError(
            "chain_id applies only to escrow settlements.", param="chain_id", code="chain_id_unexpected"
        )
    if payer_reference == payee_reference:
        raise ValidationError("Payer and payee must differ.", param="payee_reference", code="same_party")
    metadata = _validate_metadata(metadata or {})

    settlement = Settlement(
        id=new_id("stl"),
        reference=reference,
        payer_reference=payer_reference,
        payee_reference=payee_reference,
        amount=value,
        asset=asset_row,
        rail=rail,
        chain_id=chain_id,
        metadata=metadata,
        created_by=actor,
    )
    with transaction.atomic():
        if not insert_unless_conflict(settlement, on=("reference",)):
            raise _existing_reference_conflict(reference)
        _check_risk_limits(settlement)
        event_record(
            aggregate_type="settlement",
            aggregate_id=settlement.id,
            type="settlement.created",
            data=settlement_data(settlement),
            actor=actor,
            first=True,
        )
    return settlement


def _check_risk_limits(settlement: Settlement) -> None:
    """Extension point for exposure limits (the risk app hooks in here)."""
    from risk.services import exposure_limits_check

    exposure_limits_check(settlement=settlement)


@dataclass(frozen=True)
class Move:
    """One requested status change; `event_data` is merged into its event's data."""

    settlement_id: str
    to: SettlementStatus
    reason: str = ""
    event_data: dict | None = None


def settlements_move(*, moves: list[Move], actor: str) -> dict[str, Settlement]:
    """Applies status changes in order, in one transaction; returns the settlements they touched.

    The rules are `_transition`'s, move by move (a settlement may move twice: funded, then settled),
    but the rows are locked in one query (in id order, so two batches cannot deadlock), written in
    one UPDATE and their events recorded in one batch: a relayer range moves hundreds at once. Any
    illegal move raises and nothing is written.
    """
    with transaction.atomic():
        # The row locks serialise transitions of one settlement, which keeps event sequences gap-free.
        locked = {
            s.id: s
            for s in Settlement.objects.select_for_update()
            .select_related("asset")
            .filter(pk__in={m.settlement_id for m in moves})
            .order_by("pk")
        }
        drafts = []
        for move in moves:
            settlement = locked.get(move.settlement_id)
            if settlement is None:
                raise NotFound(f"No settlement '{move.settlement_id}'.", param="id", code="settlement_not_found")
            if move.to not in TRANSITIONS.get(settlement.status, frozenset()):
                raise IllegalTransition(
                    f"A {settlement.status} settlement cannot become {move.to}.",
                    code="illegal_transition",
                    current_status=settlement.status,
                    requested_status=str(move.to),
                )
            settlement.status = move.to
            settlement.status_reason = move.reason[:500]
            drafts.append(
                EventDraft(
                    aggregate_type="settlement",
                    aggregate_id=settlement.id,
                    type=f"settlement.{move.to}",
                    data={**settlement_data(settlement), **(move.event_data or {})},
                    actor=actor,
                )
            )
        update_rows(list(locked.values()), ["status", "status_reason", "updated_at"])
        events_record(drafts)
    return locked


def _transition(
    *, settlement_id: str, to: SettlementStatus, actor: str, reason: str = "", event_data: dict | None = None
) -> Settlement:
    return settlements_move(moves=[Move(settlement_id, to, reason, event_data)], actor=actor)[settlement_id]


def settlement_mark_funded(*, settlement_id: str, actor: str, reason: str = "", event_data: dict | None = None):
    return _transition(
        settlement_id=settlement_id, to=SettlementStatus.FUNDED, actor=actor, reason=reason, event_data=event_data
    )


def settlement_mark_settled(*, settlement_id: str, actor: str, reason: str = "", event_data: dict | None = None):
    return _transition(
        settlement_id=settlement_id, to=SettlementStatus.SETTLED, actor=actor, reason=reason, event_data=event_data
    )


def settlement_cancel(*, settlement_id: str, actor: str, reason: str = "") -> Settlement:
    return _transition(settlement_id=settlement_id, to=SettlementStatus.CANCELLED, actor=actor, reason=reason)


def settlement_fail(*, settlement_id: str, actor: str, reason: str = "", event_data: dict | None = None):
    return _transition(
        settlement_id=settlement_id, to=SettlementStatus.FAILED, actor=actor, reason=reason, event_data=event_data
    )


def settlement_refund(*, settlement_id: str, actor: str, reason: str = "", event_data: dict | None = None):
    return _transition(
        settlement_id=settlement_id, to=SettlementStatus.REFUNDED, actor=actor, reason=reason, event_data=event_data
    )


# A reorg may only undo a move that left the settlement non-terminal; terminal states are never
# rewritten automatically (the escrow relayer flags those for treasury instead).
REORG_REVERSALS: dict[str, frozenset[str]] = {
    SettlementStatus.FUNDED: frozenset({SettlementStatus.PENDING}),
}


def settlement_revert_for_reorg(
    *, settlement_id: str, to_status: str, actor: str, reason: str, event_data: dict | None = None
) -> Settlement:
    """Undoes a transition whose on-chain cause a chain reorganisation removed.

    Records `settlement.reverted` (data: the representation after the change plus `reverted_from`
    and the chain facts), so consumers see an explicit reversal rather than a silent rewrite.
    """
    with transaction.atomic():
        settlement = Settlement.objects.select_for_update().select_related("asset").filter(pk=settlement_id).first()
        if settlement is None:
            raise NotFound(f"No settlement '{settlement_id}'.", param="id", code="settlement_not_found")
        if to_status not in REORG_REVERSALS.get(settlement.status, frozenset()):
            raise IllegalTransition(
                f"A reorg cannot move a {settlement.status} settlement back to {to_status}.",
                code="illegal_reorg_reversal",
                current_status=settlement.status,
                requested_status=str(to_status),
            )
        previous = settlement.status
        settlement.status = to_status
        settlement.status_reason = reason[:500]
        settlement.save(update_fields=["status", "status_reason", "updated_at"])
        data = {**settlement_data(settlement), "reverted_from": previous, **(event_data or {})}
        event_record(
            aggregate_type="settlement", aggregate_id=settlement.id, type="settlement.reverted", data=data, actor=actor
        )
    return settlement
