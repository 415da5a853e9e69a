import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture(scope="session")
def _receiver_server():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def receiver(_receiver_server):
    _receiver_server.reset()
    yield _receiver_server
    _receiver_server.reset()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    """The receiver lives on loopback, so tests allow 127.0.0.1 explicitly; timeouts are short."""
    settings.WEBHOOKS_ALLOWLIST = ["127.0.0.1"]
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOKS_OPS_EMAILS = ["ops@fusionprime.test"]
    settings.WEBHOOKS_RETRY_JITTER_RATIO = 0.1
    return settings


@pytest.fixture
def make_endpoint(db, receiver):
    from webhooks.services import webhook_endpoint_create

    def make(*, path="/hook", event_types=("*",), **kwargs):
        kwargs.setdefault("url", f"{receiver.url}{path}")
        endpoint, secret = webhook_endpoint_create(actor="test:setup", event_types=list(event_types), **kwargs)
        endpoint.secret = secret
        return endpoint

    return make
