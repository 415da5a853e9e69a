import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from webhooks.models import EndpointState, WebhookEndpoint
from webhooks.services import deliveries_process_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_user(staff_user):
    """Treasury has no webhook rights; the "ops" group (installed by a data migration) does."""
    from django.contrib.auth.models import Group

    staff_user.groups.add(Group.objects.get(name="ops"))
    return staff_user


def test_ops_create_an_endpoint_see_the_secret_once_and_send_a_test_event(ops_user, admin_page, receiver):
    page = admin_page
    # when ops add an endpoint in admin
    page.goto("/admin/webhooks/webhookendpoint/add/")
    page.fill("#id_url", f"{receiver.url}/admin-hook")
    page.fill("#id_event_types", '["settlement.*"]')
    page.fill("#id_headers", "{}")
    page.click("input[name=_save]")

    # then the secret is shown once, and it is the endpoint's signing secret
    secret_el = page.locator("code.webhook-secret")
    expect(secret_el).to_have_count(1)
    secret = secret_el.inner_text()
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    page.goto(f"/admin/webhooks/webhookendpoint/{endpoint.id}/change/")
    assert secret not in page.content()

    # when ops send a test event from the list
    page.goto("/admin/webhooks/webhookendpoint/")
    expect(page.locator("#result_list thead")).to_contain_text("Success rate")
    expect(page.locator("#result_list thead")).to_contain_text("P95 latency")
    page.locator(f"input.action-select[value='{endpoint.id}']").check()
    page.select_option("select[name=action]", "send_test_event")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Test event queued: 1.")
    deliveries_process_due(time_budget=5)

    # then the receiver got a verifiable test event, and the health columns show it
    request = receiver.wait_for(1, timeout=5)[-1]
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    page.goto("/admin/webhooks/webhookendpoint/")
    row = page.locator(f"#result_list tr:has(a:text('{endpoint.id}'))")
    expect(row.locator("td.field-success_rate")).to_have_text("100.0%")

    # when ops pause it, it says so
    page.locator(f"input.action-select[value='{endpoint.id}']").check()
    page.select_option("select[name=action]", "pause")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Paused: 1.")
    assert WebhookEndpoint.objects.get().state == EndpointState.PAUSED


def test_treasury_alone_cannot_see_webhooks(admin_page):
    response = admin_page.goto("/admin/webhooks/webhookendpoint/")
    assert response.status == 403
