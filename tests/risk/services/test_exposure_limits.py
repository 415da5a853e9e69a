from decimal import Decimal

import pytest

from fusionprime.errors import Unprocessable, ValidationError
from risk.errors import RiskLimitExceeded
from risk.models import ExposureLimit, ExposureLimitChange
from risk.selectors import counterparty_open_exposures, exposure_overview
from risk.services import exposure_limit_remove, exposure_limit_set, exposure_limits_check
from settlements import services as settlement_services
from settlements.models import Settlement
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


def test_open_exposure_counts_pending_and_funded_on_either_side_and_nothing_closed():
    # given acme as payer and payee of open settlements, and some closed ones
    SettlementFactory(payer_reference="acme", payee_reference="globex", amount="100.00")
    funded = SettlementFactory(payer_reference="initech", payee_reference="acme", amount="40.50")
    settlement_services.settlement_mark_funded(settlement_id=funded.id, actor="test")
    for action in (settlement_services.settlement_cancel, settlement_services.settlement_fail):
        closed = SettlementFactory(payer_reference="acme", payee_reference="globex", amount="1000.00")
        action(settlement_id=closed.id, actor="test")
    SettlementFactory(payer_reference="acme", payee_reference="globex", amount="7.00", asset="EUR")

    # then only open USD settlements count, both directions, for each party
    assert counterparty_open_exposures(asset="USD", counterparties=["acme", "globex", "initech", "nobody"]) == {
        "acme": Decimal("140.50"),
        "globex": Decimal("100.00"),
        "initech": Decimal("40.50"),
        "nobody": Decimal(0),
    }


def test_a_create_within_the_limit_passes_and_one_over_it_is_refused_with_the_figures():
    exposure_limit_set(counterparty="acme", asset="USD", amount="1000.00", actor="user:alice")
    SettlementFactory(payer_reference="acme", amount="600.00")

    with pytest.raises(RiskLimitExceeded) as refused:
        SettlementFactory(reference="INV-OVER", payer_reference="acme", amount="400.01")

    error = refused.value
    assert isinstance(error, Unprocessable) and error.status == 422 and error.code == "risk_limit_exceeded"
    assert error.extra == {
        "counterparty": "acme",
        "asset": "USD",
        "limit": "1000.00",
        "current_exposure": "600.00",
        "amount": "400.01",
        "would_be_exposure": "1000.01",
    }
    assert "1000.01" in error.detail and "1000.00" in error.detail
    # and the refused settlement left nothing behind
    assert not Settlement.objects.filter(reference="INV-OVER").exists()
    # exactly up to the limit is allowed
    SettlementFactory(reference="INV-EXACT", payer_reference="acme", amount="400.00")


def test_the_payee_side_limit_is_checked_too():
    exposure_limit_set(counterparty="globex", asset="USD", amount="50.00", actor="user:alice")
    with pytest.raises(RiskLimitExceeded) as refused:
        SettlementFactory(payer_reference="acme", payee_reference="globex", amount="50.01")
    assert refused.value.extra["counterparty"] == "globex"


def test_closing_a_settlement_frees_the_limit():
    exposure_limit_set(counterparty="acme", asset="USD", amount="100.00", actor="user:alice")
    first = SettlementFactory(payer_reference="acme", amount="100.00")
    with pytest.raises(RiskLimitExceeded):
        SettlementFactory(payer_reference="acme", amount="1.00")
    settlement_services.settlement_cancel(settlement_id=first.id, actor="test")
    SettlementFactory(payer_reference="acme", amount="100.00")


def test_limits_are_per_asset_and_a_zero_limit_stops_new_exposure():
    exposure_limit_set(counterparty="acme", asset="EUR", amount="0", actor="user:alice")
    SettlementFactory(payer_reference="acme", amount="5.00", asset="USD")
    with pytest.raises(RiskLimitExceeded):
        SettlementFactory(payer_reference="acme", amount="0.01", asset="EUR")


def test_setting_a_limit_validates_and_audits_every_change():
    with pytest.raises(ValidationError, match="Unknown asset"):
        exposure_limit_set(counterparty="acme", asset="XXX", amount="1.00", actor="user:alice")
    with pytest.raises(ValidationError, match="decimal places"):
        exposure_limit_set(counterparty="acme", asset="USD", amount="1.001", actor="user:alice")
    with pytest.raises(ValidationError, match="counterparty"):
        exposure_limit_set(counterparty="  ", asset="USD", amount="1.00", actor="user:alice")
    with pytest.raises(ValidationError, match="decimal string"):
        exposure_limit_set(counterparty="acme", asset="USD", amount=1.5, actor="user:alice")
    assert not ExposureLimit.objects.exists()

    limit = exposure_limit_set(counterparty="acme", asset="USD", amount="100.00", actor="user:alice")
    exposure_limit_set(counterparty="acme", asset="USD", amount=Decimal("250"), actor="user:bob", note="raised")
    exposure_limit_remove(limit_id=limit.id, actor="user:carol")

    assert not ExposureLimit.objects.exists()
    history = list(ExposureLimitChange.objects.order_by("id").values_list("previous_amount", "new_amount", "actor"))
    assert history == [
        (None, Decimal("100"), "user:alice"),
        (Decimal("100"), Decimal("250"), "user:bob"),
        (Decimal("250"), None, "user:carol"),
    ]


def test_the_check_refuses_to_run_outside_a_transaction(django_db_blocker):
    settlement = SettlementFactory(payer_reference="acme")
    from django.db import connection

    # pytest-django wraps the test in a transaction; step outside it the way a caller would forget to
    atomic, connection.in_atomic_block = connection.in_atomic_block, False
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            exposure_limits_check(settlement=settlement)
    finally:
        connection.in_atomic_block = atomic


def test_the_overview_lists_exposure_against_limits_worst_first(django_assert_max_num_queries):
    exposure_limit_set(counterparty="acme", asset="USD", amount="200.00", actor="user:alice")
    exposure_limit_set(counterparty="umbrella", asset="USD", amount="10.00", actor="user:alice")
    SettlementFactory(payer_reference="acme", payee_reference="globex", amount="150.00")
    SettlementFactory(payer_reference="globex", payee_reference="acme", amount="20.00", asset="EUR")

    with django_assert_max_num_queries(3):
        lines = exposure_overview()

    summary = [(x.counterparty, x.asset, x.exposure, x.limit, x.over_limit) for x in lines]
    assert summary[0] == ("acme", "USD", Decimal("150.00"), Decimal("200.00"), False)
    assert summary[1] == ("umbrella", "USD", Decimal(0), Decimal("10.00"), False)
    assert set(summary[2:]) == {
        ("acme", "EUR", Decimal("20.00"), None, False),
        ("globex", "EUR", Decimal("20.00"), None, False),
        ("globex", "USD", Decimal("150.00"), None, False),
    }
    assert lines[0].utilisation == Decimal(75)
