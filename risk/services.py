"""Exposure limits: setting them, and checking a new settlement against them."""

from decimal import Decimal

from django.db import connection, transaction

from fusionprime.db import raw_instances
from fusionprime.errors import NotFound, ValidationError
from fusionprime.money import format_amount, parse_amount
from risk.errors import RiskLimitExceeded
from risk.models import ExposureLimit, ExposureLimitChange
from risk.selectors import counterparty_open_exposures
from settlements.models import Asset, Settlement


def _limit_value(amount: Decimal | str, *, decimals: int) -> Decimal:
    raw = f"{amount:f}" if isinstance(amount, Decimal) else amount
    if isinstance(raw, str) and raw.strip("0") in ("", "."):  # a zero limit blocks new exposure
        return Decimal(0)
    return parse_amount(raw, decimals=decimals, param="limit_amount")


def exposure_limit_set(
    *, counterparty: str, asset: str, amount: Decimal | str, actor: str, note: str = ""
) -> ExposureLimit:
    """Creates or changes the limit for (counterparty, asset) and records the change."""
    counterparty = (counterparty or "").strip()
    if not counterparty:
        raise ValidationError(
            "A counterparty reference is required.", param="counterparty", code="counterparty_required"
        )
    asset_row = Asset.objects.filter(code=asset).first()
    if asset_row is None:
        raise ValidationError(f"Unknown asset '{asset}'.", param="asset", code="unknown_asset")
    value = _limit_value(amount, decimals=asset_row.decimals)
    with transaction.atomic():
        limit = ExposureLimit.objects.select_for_update().filter(counterparty=counterparty, asset=asset_row).first()
        previous = limit.limit_amount if limit else None
        if limit is None:
            limit = ExposureLimit.objects.create(
                counterparty=counterparty, asset=asset_row, limit_amount=value, note=note[:500], updated_by=actor
            )
        else:
            limit.limit_amount, limit.note, limit.updated_by = value, note[:500], actor
            limit.save(update_fields=["limit_amount", "note", "updated_by", "updated_at"])
        ExposureLimitChange.objects.create(
            counterparty=counterparty,
            asset=asset_row,
            previous_amount=previous,
            new_amount=value,
            actor=actor,
            note=note[:500],
        )
    return limit


def exposure_limit_remove(*, limit_id: int, actor: str) -> None:
    with transaction.atomic():
        limit = ExposureLimit.objects.select_for_update().filter(pk=limit_id).first()
        if limit is None:
            raise NotFound(f"No exposure limit {limit_id}.", param="id", code="exposure_limit_not_found")
        ExposureLimitChange.objects.create(
            counterparty=limit.counterparty,
            asset_id=limit.asset_id,
            previous_amount=limit.limit_amount,
            new_amount=None,
            actor=actor,
            note="removed",
        )
        limit.delete()


# Runs on every create, mostly finding nothing: a fixed statement skips the ORM's query compilation.
_LOCK_LIMITS = (
    f"SELECT id, counterparty, limit_amount FROM {ExposureLimit._meta.db_table}"  # noqa: S608 - a constant
    " WHERE asset_id = %s AND counterparty IN (%s, %s) ORDER BY counterparty"
)


def exposure_limits_check(*, settlement: Settlement) -> None:
    """Refuses a new settlement that would take either party's open exposure over its limit.

    Runs inside the creating transaction, after the settlement row is inserted, so the exposure
    read includes it. Locking the parties' limit rows (in a fixed order: no deadlocks) serialises
    concurrent creates against the same limit; the aggregate that follows the lock runs on a fresh
    READ COMMITTED snapshot and so sees every create that committed before the lock was granted.
    Counterparties without a limit are not locked and not checked.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("exposure_limits_check must run inside the transaction that creates the settlement")
    parties = sorted({settlement.payer_reference, settlement.payee_reference})
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite under make run
    limits = raw_instances(ExposureLimit, _LOCK_LIMITS + lock, [settlement.asset_id, parties[0], parties[-1]])
    if not limits:
        return
    exposures = counterparty_open_exposures(
        asset=settlement.asset_id, counterparties=[lim.counterparty for lim in limits]
    )
    decimals = settlement.asset.decimals
    for limit in limits:
        would_be = exposures[limit.counterparty]
        if would_be > limit.limit_amount:
            fmt = lambda value: format_amount(value, decimals=decimals)  # noqa: E731
            current = would_be - settlement.amount
            raise RiskLimitExceeded(
                f"This settlement would take the open {settlement.asset_id} exposure to '{limit.counterparty}' "
                f"to {fmt(would_be)}, over its limit of {fmt(limit.limit_amount)} "
                f"(open now: {fmt(current)}; this settlement: {fmt(settlement.amount)}).",
                param="amount",
                counterparty=limit.counterparty,
                asset=settlement.asset_id,
                limit=fmt(limit.limit_amount),
                current_exposure=fmt(current),
                amount=fmt(settlement.amount),
                would_be_exposure=fmt(would_be),
            )
