import random

from escrow.localchain import escrow_wave
from escrow.models import ChainEvent, Checkpoint, RpcProvider
from tests.escrow.conftest import relay
from tests.escrow.support.compare import assert_recorded_equals_chain
from tests.escrow.support.rpcproxy import FaultyRpcProxy


def test_relayer_fails_over_between_faulty_providers_and_records_every_event_once(make_chain, driver):
    # given three providers in front of the same anvil: one erroring/rate-limited/slow, one that answers
    # "no logs" half the time, one that lags far behind the head
    flaky = FaultyRpcProxy(driver.url, seed=1, name="flaky").start()
    empty = FaultyRpcProxy(driver.url, seed=2, name="empty").start()
    lagging = FaultyRpcProxy(driver.url, seed=3, name="lagging").start()
    flaky.error_rate, flaky.rate_limit_rate, flaky.timeout_rate = 0.2, 0.15, 0.1
    empty.empty_logs_rate = 0.5
    lagging.lag = 40
    try:
        chain = make_chain(urls=[lagging.url, flaky.url, empty.url])
        rng = random.Random(7)
        # when escrows come and go while the relayer ticks
        for _ in range(4):
            escrow_wave(driver, count=15, rng=rng)
            driver.mine(3)
            result = relay(chain)
            assert result.status == "ok", result.error
        # then every log of the factory and the escrows is recorded exactly once
        assert_recorded_equals_chain(chain, driver, up_to=Checkpoint.objects.get(chain=chain).block_number)
        assert ChainEvent.objects.filter(chain=chain).count() >= 4 * 15 * 5
        assert flaky.counts["error"] and flaky.counts["429"] and flaky.counts["timeout"]
        assert empty.counts["empty_logs"] > 0
        lagging_row = RpcProvider.objects.get(chain=chain, url=lagging.url)
        assert "lags" in lagging_row.last_error
    finally:
        for proxy in (flaky, empty, lagging):
            proxy.stop()


def test_all_providers_down_ends_the_tick_with_a_clear_error_and_the_next_tick_resumes(make_chain, driver, caplog):
    proxies = [FaultyRpcProxy(driver.url, seed=i).start() for i in range(2)]
    try:
        chain = make_chain(urls=[p.url for p in proxies])
        escrow_wave(driver, count=5, rng=random.Random(1))
        driver.mine(3)
        for proxy in proxies:
            proxy.down = True

        result = relay(chain)

        assert result.status == "error"
        assert "AllProvidersFailed" in result.error and "rpc1" in result.error and "rpc2" in result.error
        assert any(r.message == "relayer.tick_failed" for r in caplog.records)
        checkpoint = Checkpoint.objects.get(chain=chain)
        assert "AllProvidersFailed" in checkpoint.last_error
        assert ChainEvent.objects.count() == 0
        assert RpcProvider.objects.filter(chain=chain, consecutive_failures__gt=0).count() == 2

        for proxy in proxies:
            proxy.heal()
        import time

        time.sleep(0.25)  # the breakers' cooldown
        result = relay(chain)
        assert result.status == "ok", result.error
        assert ChainEvent.objects.count() == 25
        assert Checkpoint.objects.get(chain=chain).last_error == ""
    finally:
        for proxy in proxies:
            proxy.stop()


def test_ranges_shrink_when_a_provider_refuses_wide_ones_and_grow_back(make_chain, driver, settings):
    proxy = FaultyRpcProxy(driver.url).start()
    try:
        settings.RELAYER_INITIAL_BLOCK_RANGE = 64
        proxy.max_log_range = 5
        chain = make_chain(urls=[proxy.url])
        escrow_wave(driver, count=3, rng=random.Random(2))
        driver.mine(30)
        result = relay(chain)
        assert result.status == "ok", result.error
        assert proxy.counts["range_error"] >= 3
        assert result.ranges >= 6
        assert_recorded_equals_chain(chain, driver, up_to=result.to_block)
    finally:
        proxy.stop()


def test_a_provider_on_the_wrong_chain_is_never_used(make_chain, driver, anvil):
    from escrow.localchain import Anvil

    other = Anvil(chain_id=5).start()
    try:
        chain = make_chain(urls=[other.url, driver.url])
        escrow_wave(driver, count=2, rng=random.Random(3))
        driver.mine(3)
        result = relay(chain)
        assert result.status == "ok", result.error
        wrong = RpcProvider.objects.get(chain=chain, url=other.url)
        assert "eth_chainId is 5" in wrong.last_error
        assert ChainEvent.objects.count() == 10
    finally:
        other.stop()
