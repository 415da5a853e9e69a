from django.db import models
from django.db.models import Q

from settlements.models import Asset


class ExposureLimit(models.Model):
    """The most open exposure (pending + funded, either side) allowed with one counterparty in one asset.

    No row means no limit. A limit of zero stops every new settlement with that counterparty.
    """

    counterparty = models.CharField(max_length=128, help_text="A payer or payee reference, as settlements carry it.")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    limit_amount = models.DecimalField(max_digits=38, decimal_places=18, help_text="In major units of the asset.")
    note = models.CharField(max_length=500, blank=True)
    updated_by = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["counterparty", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["counterparty", "asset"], name="exposure_limit_counterparty_asset_unique"),
            models.CheckConstraint(condition=Q(limit_amount__gte=0), name="exposure_limit_not_negative"),
            models.CheckConstraint(condition=~Q(counterparty=""), name="exposure_limit_counterparty_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty} {self.asset_id}"


class ExposureLimitChange(models.Model):
    """Append-only audit of limit changes: who set what, when."""

    counterparty = models.CharField(max_length=128)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    previous_amount = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    new_amount = models.DecimalField(
        max_digits=38, decimal_places=18, null=True, blank=True, help_text="Empty when the limit was removed."
    )
    actor = models.CharField(max_length=128)
    note = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.counterparty} {self.asset_id}: {self.previous_amount} → {self.new_amount}"
