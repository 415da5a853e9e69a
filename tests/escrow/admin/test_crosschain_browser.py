import pytest
from playwright.sync_api import expect

from escrow import services
from escrow.localchain import CrossChainDriver
from escrow.models import Escrow, InstructionKind
from escrow.refs import settlement_ref_for
from tests.escrow.conftest import relay
from tests.factories import SettlementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_treasury_sees_crosschain_instructions_beside_the_escrow_timeline(admin_page, chain, driver):
    # given an escrow approved by the handler, an executed Approve and a Release that failed (timelock)
    crosschain = CrossChainDriver(driver)
    cc = crosschain.deploy()
    services.watched_contract_register(chain=chain, address=cc.handler, kind="instruction_handler")
    settlement = SettlementFactory(amount="0.001", asset="ETH", rail="escrow", chain_id=31337)
    address, tx = driver.create_escrow(
        payer=driver.accounts[1],
        amount=10**15,
        payee=driver.accounts[2],
        settlement_ref=settlement_ref_for(settlement.id),
        approvers=[cc.handler],
        threshold=1,
        release_time=driver.now() + 3600,
        deadline=driver.now() + 86400,
    )
    driver.receipt(tx)
    crosschain.deliver(crosschain.payload(nonce=1, kind=InstructionKind.APPROVE, escrow=address))
    crosschain.deliver(crosschain.payload(nonce=2, kind=InstructionKind.RELEASE, escrow=address))
    driver.mine(2)
    assert relay(chain).status == "ok"
    escrow = Escrow.objects.get(address=address)
    page = admin_page

    # the escrow page shows the instructions in their own table, after the timeline
    page.goto(f"/admin/escrow/escrow/{escrow.pk}/change/")
    expect(page.locator("table.escrow-timeline")).to_contain_text("InstructionFailed (cross-chain)")
    rows = page.locator("table.escrow-instructions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Approve")
    expect(rows.nth(0)).to_contain_text("executed")
    expect(rows.nth(1)).to_contain_text("Release")
    expect(rows.nth(1)).to_contain_text("failed (1 failure)")
    expect(rows.nth(1)).to_contain_text("ReleaseTimelockActive(")

    # and the treasury lists them per chain, filtered by status
    page.goto(f"/admin/escrow/crosschaininstruction/?chain__id__exact={chain.pk}&status__exact=failed")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text(address)
