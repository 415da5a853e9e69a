import pytest
from playwright.sync_api import expect

from fusionprime.events.models import Event
from settlements.models import Settlement
from tests.factories import SettlementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_treasury_finds_and_cancels_a_settlement_and_sees_the_new_event(admin_page):
    # given two settlements
    target = SettlementFactory(reference="INV-BROWSER-1", payer_reference="acme-treasury")
    SettlementFactory(reference="INV-OTHER-2")
    page = admin_page

    # when treasury searches for one and cancels it with the admin action
    page.goto("/admin/settlements/settlement/")
    page.fill("#searchbar", "INV-BROWSER-1")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "cancel")
    page.click("button[name=index]")

    # then the change is confirmed, the row says cancelled, and the event history shows the new event
    expect(page.locator("ul.messagelist")).to_contain_text("Cancelled: 1.")
    assert Settlement.objects.get(pk=target.pk).status == "cancelled"
    cancelled = Event.objects.get(aggregate_id=target.id, type="settlement.cancelled")
    assert cancelled.actor == "user:alice"
    page.goto(f"/admin/settlements/settlement/{target.id}/change/")
    history = page.locator("table.event-history").inner_text()
    assert "settlement.created" in history and "settlement.cancelled" in history
    assert "user:alice" in history


def test_admin_refuses_an_illegal_action_with_a_clear_message(admin_page):
    settlement = SettlementFactory(reference="INV-BROWSER-3")
    page = admin_page
    page.goto("/admin/settlements/settlement/")
    page.locator(f"input.action-select[value='{settlement.id}']").check()
    page.select_option("select[name=action]", "mark_settled")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("cannot become settled")
    assert Settlement.objects.get(pk=settlement.pk).status == "pending"


def test_admin_is_staff_only(browser, live_server, transactional_db):
    from django.contrib.auth.models import User

    User.objects.create_user("mallory", password="correct-horse-battery", is_staff=False)
    page = browser.new_page(base_url=live_server.url)
    page.goto("/admin/login/")
    page.fill("#id_username", "mallory")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_have_count(1)
    assert "/admin/login/" in page.url
    page.close()
