"""Reads of live exposure from PostgreSQL (the system of record; BigQuery is for history)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from risk.models import ExposureLimit
from settlements.models import Settlement, SettlementStatus

# Open exposure: money committed but not yet settled or released. The pipeline uses the same rule.
EXPOSURE_STATUSES = (SettlementStatus.PENDING, SettlementStatus.FUNDED)


def _party(counterparty: str) -> Q:
    # A settlement counts for both of its parties.
    return Q(payer_reference=counterparty) | Q(payee_reference=counterparty)


def counterparty_open_exposures(*, asset: str, counterparties: list[str]) -> dict[str, Decimal]:
    """Open exposure of each counterparty in one asset, in major units, in one aggregate query."""
    if not counterparties:
        return {}
    sums = Settlement.objects.filter(asset_id=asset, status__in=EXPOSURE_STATUSES).aggregate(
        **{f"c{i}": Sum("amount", filter=_party(cp)) for i, cp in enumerate(counterparties)}
    )
    return {cp: sums[f"c{i}"] or Decimal(0) for i, cp in enumerate(counterparties)}


@dataclass(frozen=True)
class ExposureLine:
    counterparty: str
    asset: str
    decimals: int
    exposure: Decimal
    pending: Decimal
    funded: Decimal
    settlements: int
    limit: Decimal | None

    @property
    def utilisation(self) -> Decimal | None:
        if self.limit is None:
            return None
        if self.limit == 0:
            return Decimal(100) if self.exposure else Decimal(0)
        return self.exposure * 100 / self.limit

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.exposure > self.limit


def exposure_overview() -> list[ExposureLine]:
    """Every counterparty with open exposure or a limit, per asset: exposure against its limit.

    Two grouped queries (payer side, payee side) plus the limits, whatever the number of rows.
    """
    totals: dict[tuple[str, str], dict] = {}
    for side in ("payer_reference", "payee_reference"):
        rows = (
            Settlement.objects.filter(status__in=EXPOSURE_STATUSES)
            .values(side, "asset_id", "asset__decimals")
            .annotate(
                pending=Sum("amount", filter=Q(status=SettlementStatus.PENDING)),
                funded=Sum("amount", filter=Q(status=SettlementStatus.FUNDED)),
                count=Count("id"),
            )
            .order_by()
        )
        for row in rows:
            entry = totals.setdefault(
                (row[side], row["asset_id"]),
                {"decimals": row["asset__decimals"], "pending": Decimal(0), "funded": Decimal(0), "count": 0},
            )
            entry["pending"] += row["pending"] or 0
            entry["funded"] += row["funded"] or 0
            entry["count"] += row["count"]
    limits = {(lim.counterparty, lim.asset_id): lim for lim in ExposureLimit.objects.select_related("asset")}
    for key, lim in limits.items():
        totals.setdefault(
            key, {"decimals": lim.asset.decimals, "pending": Decimal(0), "funded": Decimal(0), "count": 0}
        )
    lines = [
        ExposureLine(
            counterparty=cp,
            asset=asset,
            decimals=t["decimals"],
            exposure=t["pending"] + t["funded"],
            pending=t["pending"],
            funded=t["funded"],
            settlements=t["count"],
            limit=limits[(cp, asset)].limit_amount if (cp, asset) in limits else None,
        )
        for (cp, asset), t in totals.items()
    ]
    # Limited lines by how much of the limit is used, then the unlimited ones by size.
    return sorted(
        lines,
        key=lambda line: (
            line.utilisation is None,
            -(line.utilisation or 0),
            -line.exposure,
            line.asset,
            line.counterparty,
        ),
    )
