import random

from escrow.localchain import escrow_wave
from escrow.models import ChainEvent, Checkpoint, Escrow, FlagKind, TreasuryFlag
from escrow.refs import settlement_ref_for
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.escrow.conftest import relay
from tests.escrow.support.compare import assert_recorded_equals_chain
from tests.factories import SettlementFactory

ETH = 10**18


def _escrow_settlement(amount="0.5"):
    return SettlementFactory(amount=amount, asset="ETH", rail="escrow", chain_id=31337)


def _create(driver, settlement, *, amount=ETH // 2, release_time=0):
    payer, payee, a1, a2 = driver.accounts[1:5]
    escrow, tx = driver.create_escrow(
        payer=payer,
        amount=amount,
        payee=payee,
        settlement_ref=settlement_ref_for(settlement.id),
        approvers=[a1, a2],
        threshold=1,
        release_time=release_time,
        deadline=driver.now() + 86400,
    )
    driver.receipt(tx)
    return escrow


def test_a_reorg_shallower_than_the_confirmation_depth_changes_nothing_recorded(chain, driver):
    # given recorded events and unconfirmed blocks on top (depth 2)
    escrow_wave(driver, count=4, rng=random.Random(1))
    driver.mine(2)
    assert relay(chain).status == "ok"
    recorded = set(ChainEvent.objects.values_list("block_hash", "log_index"))
    escrow_wave(driver, count=2, rng=random.Random(2))  # 3 blocks, the last one unconfirmed

    # when the unconfirmed head block is replaced
    driver.reorg(1)
    driver.mine(2)
    result = relay(chain)

    # then nothing recorded before is removed or recorded twice, and the new chain is mirrored exactly
    assert result.status == "ok" and result.reorgs == 0
    assert not ChainEvent.objects.filter(removed=True).exists()
    assert recorded <= set(ChainEvent.objects.values_list("block_hash", "log_index"))
    assert not Event.objects.filter(type="escrow.event_removed").exists()
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)


def test_a_deep_reorg_removes_orphaned_events_reverts_funding_and_records_the_replacement(chain, driver):
    # given a settlement funded by an escrow whose events are confirmed and recorded
    settlement = _escrow_settlement()
    escrow = _create(driver, settlement)
    driver.mine(2)
    assert relay(chain).status == "ok"
    settlement.refresh_from_db()
    assert settlement.status == "funded"
    orphaned = set(ChainEvent.objects.filter(escrow__address=escrow).values_list("block_hash", "log_index"))
    assert len(orphaned) == 2

    # when a reorg deeper than the confirmation depth replaces the creation block
    driver.reorg(3)
    driver.mine(1)
    result = relay(chain)

    # then the orphaned events are marked removed, with an explicit event each, and the funding is reverted
    assert result.status == "ok", result.error
    assert result.reorgs == 1 and result.removed == 2
    assert set(ChainEvent.objects.filter(removed=True).values_list("block_hash", "log_index")) == orphaned
    row = Escrow.objects.get(address=escrow)
    assert row.state == "orphaned" and row.settlement_id is None
    removals = Event.objects.filter(aggregate_id=row.id, type="escrow.event_removed")
    assert removals.count() == 2
    assert {e.data["event"] for e in removals} == {"EscrowCreated", "Deposited"}
    settlement.refresh_from_db()
    assert settlement.status == "pending"
    reverted = Event.objects.get(aggregate_id=settlement.id, type="settlement.reverted")
    assert reverted.data["reverted_from"] == "funded" and reverted.data["escrow"]["removed_by_reorg"] is True
    assert Checkpoint.objects.get(chain=chain).reorgs == 1

    # and when the payer creates the same escrow again on the new chain, it is recorded and funds again
    again = _create(driver, settlement)
    assert again == escrow  # CREATE2: same payer and parameters, same address
    driver.mine(2)
    result = relay(chain)
    assert result.status == "ok", result.error
    settlement.refresh_from_db()
    assert settlement.status == "funded"
    assert Escrow.objects.get(address=escrow).state == "funded"
    assert ChainEvent.objects.filter(escrow__address=escrow, removed=False).count() == 2
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)
    types = list(Event.objects.filter(aggregate_id=settlement.id).order_by("sequence").values_list("type", flat=True))
    assert types == ["settlement.created", "settlement.funded", "settlement.reverted", "settlement.funded"]


def test_a_reorg_removing_a_release_flags_the_settled_settlement_instead_of_rewriting_it(chain, driver):
    # given a settlement settled by a recorded Released event
    settlement = _escrow_settlement()
    escrow = _create(driver, settlement)
    payee, approver = driver.accounts[2], driver.accounts[3]
    driver.mine(2)
    relay(chain)
    driver.receipt(driver.approve(escrow, approver))
    driver.receipt(driver.release(escrow, payee))
    driver.mine(2)
    relay(chain)
    settlement.refresh_from_db()
    assert settlement.status == "settled"

    # when a reorg removes the release (and the approval) but not the creation
    driver.reorg(4)
    driver.mine(1)
    result = relay(chain)

    # then the settlement stays settled and treasury gets an open reorg flag
    assert result.status == "ok", result.error
    settlement.refresh_from_db()
    assert settlement.status == "settled"
    flag = TreasuryFlag.objects.get(kind=FlagKind.REORG_TERMINAL)
    assert flag.settlement_id == settlement.id and flag.resolved_at is None
    assert "Released" in flag.detail
    assert Escrow.objects.get(address=escrow).state == "funded"

    # and when the release happens again on the canonical chain the flag resolves itself
    driver.receipt(driver.approve(escrow, approver))
    driver.receipt(driver.release(escrow, payee))
    driver.mine(2)
    relay(chain)
    flag.refresh_from_db()
    assert flag.resolved_at is not None and "re-confirmed" in flag.resolution
    assert Escrow.objects.get(address=escrow).state == "released"
    assert Settlement.objects.get(pk=settlement.id).status == "settled"
