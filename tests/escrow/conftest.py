import pytest

from escrow.localchain import Anvil, ChainDriver
from escrow.relayer.providers import PoolConfig

# Fast failure handling for tests: short timeouts and backoff, a breaker that re-closes quickly.
FAST = {
    "RELAYER_RPC_TIMEOUT_SECONDS": 0.5,
    "RELAYER_RETRY_ROUNDS": 4,
    "RELAYER_BACKOFF_BASE_SECONDS": 0.01,
    "RELAYER_BACKOFF_MAX_SECONDS": 0.05,
    "RELAYER_BREAKER_FAILURES": 3,
    "RELAYER_BREAKER_COOLDOWN_SECONDS": 0.2,
    "RELAYER_TICK_TIME_BUDGET_SECONDS": 60.0,
}


@pytest.fixture(autouse=True)
def _fast_relayer(settings):
    for key, value in FAST.items():
        setattr(settings, key, value)


@pytest.fixture
def anvil():
    node = Anvil().start()
    yield node
    node.stop()


@pytest.fixture
def driver(anvil):
    chain_driver = ChainDriver(anvil.url)
    chain_driver.deploy_factory()
    return chain_driver


@pytest.fixture
def make_chain(db, driver):
    from escrow.services import chain_register

    def make(*, urls=None, confirmation_depth=2, name="local"):
        return chain_register(
            name=name,
            chain_id=31337,
            factory_address=driver.factory,
            start_block=driver.factory_block,
            confirmation_depth=confirmation_depth,
            poll_interval_seconds=1,
            rpc_urls=urls or [driver.url],
            tokens={"native": "ETH"},
        )

    return make


@pytest.fixture
def chain(make_chain):
    return make_chain()


def relay(chain, **kwargs):
    """One tick with the test settings' pool configuration (no real sleeping between rounds)."""
    from escrow.relayer.runner import Relayer, build_pool

    pool = build_pool(chain, config=PoolConfig.from_settings(), sleep=lambda s: None)
    return Relayer(chain, pool=pool).tick(**kwargs)
