"""Factories build state through the real services, never by saving models directly."""

import factory

from settlements import services
from settlements.models import Settlement


class SettlementFactory(factory.Factory):
    class Meta:
        model = Settlement

    reference = factory.Sequence(lambda n: f"REF-{n:06d}")
    payer_reference = "acme-treasury"
    payee_reference = "globex-ap"
    amount = "1250.50"
    asset = "USD"
    actor = "test:factory"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.settlement_create(**kwargs)
