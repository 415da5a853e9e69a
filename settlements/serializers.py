"""The public representation of a settlement: the API's output and every event's `data`."""

from rest_framework import serializers

from fusionprime.money import format_amount
from settlements.models import Settlement


class SettlementSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.SerializerMethodField()
    reference = serializers.CharField()
    payer_reference = serializers.CharField()
    payee_reference = serializers.CharField()
    amount = serializers.SerializerMethodField(help_text='Decimal string in major units, e.g. "1250.50".')
    asset = serializers.CharField(source="asset_id")
    rail = serializers.CharField()
    chain_id = serializers.IntegerField(allow_null=True)
    settlement_ref = serializers.SerializerMethodField(
        help_text="Escrow rail: the bytes32 settlementRef (0x-hex) to pass to EscrowFactory.createEscrow; else null."
    )
    status = serializers.CharField()
    status_reason = serializers.CharField()
    metadata = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_object(self, obj) -> str:
        return "settlement"

    def get_settlement_ref(self, obj: Settlement) -> str | None:
        from escrow.refs import settlement_ref_for

        return settlement_ref_for(obj.id) if obj.rail == "escrow" else None

    def get_amount(self, obj: Settlement) -> str:
        return format_amount(obj.amount, decimals=obj.asset.decimals)


# Bound once: building a serializer's fields per call costs more than the rest of a create.
_representation = SettlementSerializer()


def settlement_data(settlement: Settlement) -> dict:
    return dict(_representation.to_representation(settlement))
