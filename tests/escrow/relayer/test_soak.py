"""Soak: hundreds of escrows and thousands of events through random reorgs and provider faults."""

import random
import time

from escrow.localchain import escrow_wave
from escrow.models import ChainEvent, Checkpoint, Escrow, FlagKind, TreasuryFlag
from escrow.refs import settlement_ref_for
from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.escrow.conftest import relay
from tests.escrow.support.compare import assert_recorded_equals_chain
from tests.escrow.support.rpcproxy import FaultyRpcProxy
from tests.factories import SettlementFactory

ROUNDS = 48
PER_WAVE = 14


def test_soak_recorded_events_equal_the_canonical_chain_through_reorgs_and_faults(make_chain, driver):
    rng = random.Random(2026)
    proxies = [FaultyRpcProxy(driver.url, seed=10 + i, name=f"p{i}").start() for i in range(3)]
    proxies[0].error_rate, proxies[0].rate_limit_rate, proxies[0].timeout_rate = 0.08, 0.05, 0.02
    proxies[1].empty_logs_rate = 0.3
    proxies[2].error_rate = 0.05
    started = time.monotonic()
    try:
        chain = make_chain(urls=[p.url for p in proxies], confirmation_depth=2)
        reorgs = 0
        for round_no in range(ROUNDS):
            settlements = [
                SettlementFactory(amount="0.001", asset="ETH", rail="escrow", chain_id=31337) for _ in range(2)
            ]
            refs = [settlement_ref_for(s.id) for s in settlements]
            escrow_wave(driver, count=PER_WAVE, rng=rng, refs=refs)
            proxies[0].lag = rng.choice([0, 0, 0, 30])
            if rng.random() < 0.35:
                driver.reorg(rng.randint(2, 8))  # often deeper than the unconfirmed blocks
                reorgs += 1
            driver.mine(rng.randint(0, 3))
            result = relay(chain)
            assert result.status in ("ok", "error"), result
        for proxy in proxies:
            proxy.heal()
        driver.mine(3)
        time.sleep(0.25)
        result = relay(chain)
        assert result.status == "ok", result.error

        head = Checkpoint.objects.get(chain=chain).block_number
        assert head == driver.block_number() - 2
        assert_recorded_equals_chain(chain, driver, up_to=head)
        live = ChainEvent.objects.filter(chain=chain, removed=False)
        assert live.count() >= 1500, live.count()
        assert Escrow.objects.count() >= 300
        assert ChainEvent.objects.filter(removed=True).exists() and reorgs >= 5
        assert not TreasuryFlag.objects.filter(kind=FlagKind.SEQUENCE_GAP).exists()
        # every escrow's projection matches its own event numbers: no event missing, none twice
        for escrow in Escrow.objects.exclude(state="orphaned"):
            numbers = sorted(live.filter(escrow=escrow).exclude(seq=None).values_list("seq", flat=True))
            assert numbers == list(range(1, escrow.last_seq + 1)), escrow.address
        # one event-log row per recorded event, one removal event per removed one
        assert (
            Event.objects.filter(aggregate_type="escrow").exclude(type="escrow.event_removed").count()
            == ChainEvent.objects.count()
        )
        assert (
            Event.objects.filter(type="escrow.event_removed").count() == ChainEvent.objects.filter(removed=True).count()
        )
        # settlements follow their canonical escrows
        for escrow in Escrow.objects.exclude(settlement=None):
            status = Settlement.objects.get(pk=escrow.settlement_id).status
            expected = {"released": "settled", "refunded": "refunded", "funded": "funded"}[escrow.state]
            assert status == expected or TreasuryFlag.objects.filter(settlement_id=escrow.settlement_id).exists()
        assert sum(p.counts["empty_logs"] for p in proxies) > 0
        assert time.monotonic() - started < 150
    finally:
        for proxy in proxies:
            proxy.stop()
