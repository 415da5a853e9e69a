import os

import pytest
from rest_framework.test import APIClient

from tests.support.processes import PubSubEmulator


@pytest.fixture(scope="session")
def pubsub_emulator():
    emulator = PubSubEmulator().start()
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
    yield emulator
    if previous is None:
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)
    else:
        os.environ["PUBSUB_EMULATOR_HOST"] = previous
    emulator.stop()


@pytest.fixture
def make_api_key(db):
    from fusionprime.api.services import api_key_create

    def make(scopes=("settlements:read", "settlements:write"), name="test"):
        return api_key_create(name=name, scopes=list(scopes))

    return make


@pytest.fixture
def api_key(make_api_key):
    return make_api_key()


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
    client.api_key = api_key
    return client


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
