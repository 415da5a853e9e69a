import os

import pytest
from rest_framework.test import APIClient

from tests.support.processes import PubSubEmulator

# Playwright's sync API keeps an event loop on the main thread; Django would take the test's
# ORM calls for async code. They are plain sync calls, so the guard is lifted for tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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


@pytest.fixture(scope="session")
def bigquery_emulator():
    """bqemulator from .venv-bq on free ports; Django's BigQuery settings point at it meanwhile."""
    from django.conf import settings

    from tests.support.bigquery import BigQueryEmulator

    emulator = BigQueryEmulator().start()
    previous = settings.BIGQUERY_EMULATOR_HOST, settings.BIGQUERY_PROJECT_ID
    settings.BIGQUERY_EMULATOR_HOST, settings.BIGQUERY_PROJECT_ID = emulator.endpoint, emulator.project
    yield emulator
    settings.BIGQUERY_EMULATOR_HOST, settings.BIGQUERY_PROJECT_ID = previous
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
def _reference_data(request):
    """Transactional tests flush every table, data migrations' rows included: put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if transactional:
        request.getfixturevalue("transactional_db")
        from django.contrib.auth.models import Group, Permission

        from escrow.permissions import install_treasury_escrow_permissions
        from risk.reference_data import install_treasury_risk_permissions
        from settlements.models import Asset
        from settlements.reference_data import install_reference_data
        from webhooks.ops_group import install_ops_group

        install_reference_data(Asset, Group, Permission)
        install_treasury_risk_permissions(Group, Permission)
        install_treasury_escrow_permissions(Group, Permission)
        install_ops_group(Group, Permission)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download: the machine's binary is used)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def staff_user(transactional_db):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("alice", password="correct-horse-battery", is_staff=True)
    user.groups.add(Group.objects.get(name="treasury"))
    return user


@pytest.fixture
def admin_page(browser, live_server, staff_user):
    """A logged-in treasury user's page in the real admin."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    context.close()
