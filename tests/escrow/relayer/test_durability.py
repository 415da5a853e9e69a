import gc
import random

import psycopg
import pytest
from django.conf import settings as django_settings

from escrow import services
from escrow.localchain import escrow_wave
from escrow.models import ChainEvent, Checkpoint, Escrow, FlagKind, TreasuryFlag
from escrow.refs import settlement_ref_for
from escrow.relayer.runner import _lock_key
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.escrow.conftest import relay
from tests.escrow.support.compare import assert_recorded_equals_chain
from tests.factories import SettlementFactory

ETH = 10**18


class Crash(Exception):
    pass


@pytest.mark.parametrize("point", ["after_chain_events", "after_event_log"])
def test_a_crash_between_writes_of_a_range_loses_nothing_and_duplicates_nothing(chain, driver, monkeypatch, point):
    # given a funded escrow settlement and more escrow traffic waiting to be relayed
    settlement = SettlementFactory(amount="0.001", asset="ETH", rail="escrow", chain_id=31337)
    escrow_wave(driver, count=6, rng=random.Random(4), refs=[settlement_ref_for(settlement.id)] + [None] * 5)
    driver.mine(2)
    before = Checkpoint.objects.get(chain=chain).block_number

    # when the worker dies in the middle of writing a range
    def crash(name):
        if name == point:
            raise Crash(name)

    monkeypatch.setattr(services, "_fail_point", crash)
    with pytest.raises(Crash):
        relay(chain)

    # then nothing of the range is visible
    assert ChainEvent.objects.count() == 0
    assert not Event.objects.filter(aggregate_type="escrow").exists()
    assert not Escrow.objects.exists()
    assert Settlement.objects.get(pk=settlement.id).status == "pending"
    assert Checkpoint.objects.get(chain=chain).block_number == before

    # and the next tick redoes the range exactly once
    monkeypatch.setattr(services, "_fail_point", lambda name: None)
    result = relay(chain)
    assert result.status == "ok", result.error
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)
    assert ChainEvent.objects.count() == Event.objects.filter(aggregate_type="escrow").count() == 30
    assert Settlement.objects.get(pk=settlement.id).status in ("settled", "refunded")


def test_a_range_runs_without_the_cyclic_gc_which_is_back_on_after_a_crash(chain, driver, monkeypatch):
    escrow_wave(driver, count=2, rng=random.Random(5))
    driver.mine(2)
    seen = []

    def crash(name):
        seen.append(gc.isenabled())
        raise Crash(name)

    monkeypatch.setattr(services, "_fail_point", crash)
    with pytest.raises(Crash):
        relay(chain)
    assert seen == [False]
    assert gc.isenabled()


def test_a_second_relayer_on_the_same_chain_skips_while_the_lock_is_held(chain, driver):
    dsn = django_settings.DATABASES["default"]
    with psycopg.connect(
        host=dsn["HOST"], port=dsn["PORT"] or 5432, user=dsn["USER"], dbname=dsn["NAME"], autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [_lock_key(chain.chain_id)])
        assert relay(chain).status == "locked"
        other.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(chain.chain_id)])
    assert relay(chain).status == "ok"


def _create(driver, ref, amount, *, deadline_in=86400):
    payer, payee, a1 = driver.accounts[1:4]
    escrow, tx = driver.create_escrow(
        payer=payer,
        amount=amount,
        payee=payee,
        settlement_ref=ref,
        approvers=[a1],
        threshold=1,
        release_time=0,
        deadline=driver.now() + deadline_in,  # escrows with equal parameters would share an address
    )
    driver.receipt(tx)
    return escrow


def test_mismatched_amount_or_unknown_ref_is_flagged_for_treasury_and_never_applied(chain, driver):
    # given an escrow settlement for 0.5 ETH
    settlement = SettlementFactory(amount="0.5", asset="ETH", rail="escrow", chain_id=31337)
    # when one escrow carries its ref with 0.4 ETH and another a ref that is not ours
    short = _create(driver, settlement_ref_for(settlement.id), 4 * ETH // 10)
    stranger = _create(driver, "0x" + "ab" * 32, ETH)
    driver.receipt(driver.approve(short, driver.accounts[3]))
    driver.receipt(driver.release(short, driver.accounts[2]))
    driver.mine(2)
    result = relay(chain)

    # then both are flagged, and the settlement moved neither to funded nor settled
    assert result.status == "ok", result.error
    assert Settlement.objects.get(pk=settlement.id).status == "pending"
    flags = {f.kind: f for f in TreasuryFlag.objects.all()}
    assert set(flags) == {FlagKind.SETTLEMENT_MISMATCH, FlagKind.UNKNOWN_SETTLEMENT_REF}
    assert "amount 0.400000000000000000 != 0.500000000000000000" in flags[FlagKind.SETTLEMENT_MISMATCH].detail
    assert flags[FlagKind.UNKNOWN_SETTLEMENT_REF].escrow.address == stranger
    assert Escrow.objects.get(address=short).state == "released"  # the projection still mirrors the chain

    # and treasury resolves a flag with a note
    resolved = services.flag_resolve(
        flag_id=flags[FlagKind.UNKNOWN_SETTLEMENT_REF].pk, actor="user:alice", resolution="not ours"
    )
    assert resolved.resolved_by == "user:alice"


def test_refund_paths_move_the_settlement_to_refunded(chain, driver):
    payer, payee, a1, a2, arbiter = driver.accounts[1:6]
    outcomes = {}
    for kind in ("emergency", "arbiter", "deadline"):
        settlement = SettlementFactory(amount="0.25", asset="ETH", rail="escrow", chain_id=31337)
        escrow, tx = driver.create_escrow(
            payer=payer,
            amount=ETH // 4,
            payee=payee,
            settlement_ref=settlement_ref_for(settlement.id),
            approvers=[a1, a2],
            threshold=2,
            release_time=0,
            deadline=driver.now() + 1000,
            arbiter=arbiter,
        )
        driver.receipt(tx)
        outcomes[kind] = (settlement, escrow)
    s, e = outcomes["emergency"]
    driver.approve_emergency_refund(e, a1)
    driver.approve_emergency_refund(e, a2)
    driver.receipt(driver.emergency_refund(e, payer))
    s, e = outcomes["arbiter"]
    driver.receipt(driver.arbiter_decide(e, arbiter, False))
    driver.increase_time(2000)
    s, e = outcomes["deadline"]
    driver.receipt(driver.refund(e, payer))
    driver.mine(2)
    assert relay(chain).status == "ok"
    for kind, (settlement, escrow) in outcomes.items():
        settlement.refresh_from_db()
        assert settlement.status == "refunded", kind
        assert Escrow.objects.get(address=escrow).state == "refunded"
    assert not TreasuryFlag.objects.exists()


def test_a_settlement_backed_twice_funds_once_and_flags_every_other_escrow(chain, driver):
    # given two escrow settlements; the first is funded by an escrow relayed in an earlier range
    earlier = SettlementFactory(amount="0.001", asset="ETH", rail="escrow", chain_id=31337)
    fresh = SettlementFactory(amount="0.001", asset="ETH", rail="escrow", chain_id=31337)
    first = _create(driver, settlement_ref_for(earlier.id), ETH // 1000)
    driver.mine(2)
    assert relay(chain).status == "ok"
    assert Settlement.objects.get(pk=earlier.id).status == "funded"

    # when one range carries another escrow for it, and two escrows for the other settlement
    again = _create(driver, settlement_ref_for(earlier.id), ETH // 1000, deadline_in=86401)
    winner = _create(driver, settlement_ref_for(fresh.id), ETH // 1000)
    loser = _create(driver, settlement_ref_for(fresh.id), ETH // 1000, deadline_in=86401)
    driver.receipt(driver.approve(winner, driver.accounts[3]))
    driver.receipt(driver.release(winner, driver.accounts[2]))
    driver.mine(2)
    result = relay(chain)

    # then each settlement follows its first escrow only (funded and settled within the same range)
    assert result.status == "ok", result.error
    assert Settlement.objects.get(pk=earlier.id).status == "funded"
    assert Settlement.objects.get(pk=fresh.id).status == "settled"
    assert Escrow.objects.get(address=first).settlement_id == earlier.id
    assert Escrow.objects.get(address=winner).settlement_id == fresh.id
    assert Escrow.objects.get(address=winner).state == "released"  # inserted in its state after the range
    # and every other escrow is flagged as a mismatch naming the escrow that backs the settlement
    flags = {f.escrow.address: f for f in TreasuryFlag.objects.select_related("escrow")}
    assert set(flags) == {again, loser}
    assert all(f.kind == FlagKind.SETTLEMENT_MISMATCH for f in flags.values())
    assert f"already backed by escrow {first}" in flags[again].detail
    assert f"already backed by escrow {winner}" in flags[loser].detail
    assert Escrow.objects.get(address=again).settlement_id is None
    assert Escrow.objects.get(address=loser).settlement_id is None
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)
