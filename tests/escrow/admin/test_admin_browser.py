import random

import pytest
from playwright.sync_api import expect

from escrow.localchain import escrow_wave
from escrow.models import ChainEvent, Escrow
from escrow.refs import settlement_ref_for
from tests.escrow.conftest import relay
from tests.factories import SettlementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_treasury_sees_chain_status_escrow_timeline_and_filters_events(admin_page, chain, driver):
    # given a relayed chain with an escrow backing a settlement
    settlement = SettlementFactory(
        amount="0.001", asset="ETH", rail="escrow", chain_id=31337, reference="INV-ADMIN-ESC"
    )
    escrow_wave(driver, count=3, rng=random.Random(1), refs=[settlement_ref_for(settlement.id)], settle_ratio=1.0)
    driver.mine(2)
    assert relay(chain).status == "ok"
    escrow = Escrow.objects.get(settlement=settlement)
    page = admin_page

    # the chain list shows provider heads, checkpoint and lag
    page.goto("/admin/escrow/chain/")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("local")
    expect(row).to_contain_text("rpc1:")
    expect(page.locator("#result_list thead")).to_contain_text("Lag (blocks)")

    # the escrow page shows its timeline in order and links the settlement
    page.goto(f"/admin/escrow/escrow/{escrow.pk}/change/")
    timeline = page.locator("table.escrow-timeline")
    expect(timeline).to_contain_text("EscrowCreated")
    text = timeline.inner_text()
    assert text.index("EscrowCreated") < text.index("Deposited") < text.index("Approved") < text.index("Released")
    expect(page.get_by_role("link", name=settlement.id)).to_be_visible()

    # events filter by type and by block
    page.goto("/admin/escrow/chainevent/?event_name__exact=Released")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    block = ChainEvent.objects.filter(event_name="Approved").first().block_number
    page.goto(f"/admin/escrow/chainevent/?block_number__gte={block}&block_number__lte={block}")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    page.goto(f"/admin/escrow/chainevent/?q={escrow.address}")
    expect(page.locator("#result_list tbody tr")).to_have_count(5)
