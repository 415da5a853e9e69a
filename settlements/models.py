from django.db import models
from django.db.models import Q


class Asset(models.Model):
    """The asset registry: an amount is only meaningful beside its asset and its decimals."""

    code = models.CharField(primary_key=True, max_length=12)
    name = models.CharField(max_length=64)
    decimals = models.PositiveSmallIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(decimals__lte=18), name="asset_decimals_at_most_18"),
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z0-9]{2,12}$"), name="asset_code_format"),
        ]

    def __str__(self) -> str:
        return self.code


class SettlementStatus(models.TextChoices):
    PENDING = "pending"
    FUNDED = "funded"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REFUNDED = "refunded"


# The one map of allowed moves; anything else is an illegal transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    SettlementStatus.PENDING: frozenset({SettlementStatus.FUNDED, SettlementStatus.CANCELLED, SettlementStatus.FAILED}),
    SettlementStatus.FUNDED: frozenset({SettlementStatus.SETTLED, SettlementStatus.FAILED, SettlementStatus.REFUNDED}),
}
TERMINAL = frozenset(SettlementStatus.values) - frozenset(TRANSITIONS)


class Rail(models.TextChoices):
    OFFCHAIN = "offchain"
    ESCROW = "escrow"


class Settlement(models.Model):
    id = models.CharField(primary_key=True, max_length=40, editable=False)
    reference = models.CharField(max_length=128, unique=True, help_text="The client's own unique reference.")
    payer_reference = models.CharField(max_length=128, db_index=True)
    payee_reference = models.CharField(max_length=128, db_index=True)
    amount = models.DecimalField(max_digits=38, decimal_places=18)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    rail = models.CharField(max_length=16, choices=Rail.choices, default=Rail.OFFCHAIN)
    chain_id = models.PositiveBigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=SettlementStatus.choices, default=SettlementStatus.PENDING)
    status_reason = models.CharField(max_length=500, blank=True)
    created_by = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=SettlementStatus.values), name="settlement_status_valid"),
            models.CheckConstraint(condition=Q(rail__in=Rail.values), name="settlement_rail_valid"),
            models.CheckConstraint(
                condition=(Q(rail=Rail.ESCROW) & Q(chain_id__isnull=False))
                | (Q(rail=Rail.OFFCHAIN) & Q(chain_id__isnull=True)),
                name="settlement_chain_id_iff_escrow",
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="settlement_status_id_idx")]

    def __str__(self) -> str:
        return f"{self.id} {self.reference}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL
