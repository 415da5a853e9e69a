import random

from escrow.localchain import escrow_wave
from escrow.relayer.fetch import InconsistentRange
from escrow.relayer.providers import PoolConfig, RangeTooLarge
from escrow.relayer.runner import Relayer, _Prefetch, build_pool
from tests.escrow.support.compare import assert_recorded_equals_chain


def test_each_range_is_fetched_once_ahead_and_watches_the_escrows_created_just_before_it(settings, chain, driver):
    # given escrows created in one block, approved in the next and released in the blocks after,
    # and one-block ranges: each escrow's later events are in ranges after the one creating it
    settings.RELAYER_INITIAL_BLOCK_RANGE = settings.RELAYER_MAX_BLOCK_RANGE = 1
    escrow_wave(driver, count=6, rng=random.Random(3))
    driver.mine(4)
    relayer = Relayer(chain, pool=build_pool(chain, config=PoolConfig.from_settings(), sleep=lambda s: None))
    fetches = []
    fetch = relayer.fetcher.fetch

    def recording(**kwargs):
        fetches.append((kwargs["start"], kwargs["end"]))
        return fetch(**kwargs)

    relayer.fetcher.fetch = recording

    # when one tick processes the blocks, each range written while the next is fetched
    result = relayer.tick()

    # then no range was fetched twice (the fetch ahead already watched the escrows created before it)
    # and the recorded events are exactly the chain's
    assert result.status == "ok", result.error
    assert result.ranges == result.blocks > 5
    assert fetches == [(n, n) for n in range(result.from_block, result.to_block + 1)]
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)


def test_a_fetch_ahead_is_used_only_if_it_watched_every_address_the_range_needs():
    ahead = _Prefetch(10, 19, ["0xa", "0xb"], {"0xh": "Handler"})
    assert ahead.covers(_Prefetch(10, 19, ["0xa"], {"0xh": "Handler"}))  # an extra address only records more
    assert not ahead.covers(_Prefetch(10, 19, ["0xa", "0xc"], {"0xh": "Handler"}))
    assert not ahead.covers(_Prefetch(10, 18, ["0xa"], {"0xh": "Handler"}))
    assert not ahead.covers(_Prefetch(10, 19, ["0xa"], {}))


def _relayer_with(chain, fetch_wrapper):
    relayer = Relayer(chain, pool=build_pool(chain, config=PoolConfig.from_settings(), sleep=lambda s: None))
    relayer.fetcher.fetch = fetch_wrapper(relayer.fetcher.fetch)
    return relayer


def test_a_range_whose_logs_and_blocks_disagree_is_fetched_again_and_recorded_once(settings, chain, driver):
    # given one-block ranges, and a range whose first two fetches see logs and blocks disagree (a reorg
    # while fetching), one of them a fetch ahead
    settings.RELAYER_INITIAL_BLOCK_RANGE = settings.RELAYER_MAX_BLOCK_RANGE = 1
    escrow_wave(driver, count=4, rng=random.Random(5))
    driver.mine(4)
    fetches = []

    def flaky(fetch):
        def wrapped(**kwargs):
            fetches.append(kwargs["start"])
            if kwargs["start"] == driver.factory_block + 2 and fetches.count(kwargs["start"]) <= 2:
                raise InconsistentRange("block hash changed under the logs")
            return fetch(**kwargs)

        return wrapped

    # when one tick runs
    result = _relayer_with(chain, flaky).tick()

    # then that range was fetched three times, the others once, and every event is recorded once
    assert result.status == "ok", result.error
    assert fetches.count(driver.factory_block + 2) == 3
    assert len(fetches) == result.ranges + 2
    assert_recorded_equals_chain(chain, driver, up_to=result.to_block)


def test_a_single_block_too_large_for_every_provider_ends_the_tick_with_an_error(settings, chain, driver):
    settings.RELAYER_INITIAL_BLOCK_RANGE = 4
    escrow_wave(driver, count=2, rng=random.Random(6))
    driver.mine(4)

    def too_large(fetch):
        def wrapped(**kwargs):
            raise RangeTooLarge("query returned more than 10000 results")

        return wrapped

    result = _relayer_with(chain, too_large).tick()
    assert result.status == "error" and "RangeTooLarge" in result.error
    assert result.ranges == 0
