"""Treasury manages limits and reads the exposure dashboard in the real admin (headless Chromium)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dataflow.risk_pipeline import schemas
from risk.bigquery import bigquery_client, table_id
from risk.models import ExposureLimit, ExposureLimitChange
from risk.services import exposure_limit_set
from tests.factories import SettlementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def final_pane(counterparty, window_start, change_units, *, pane_index=1):
    zero = {f"{b}_{k}": "0" for b in ("pending", "funded", "settled", "released") for k in ("gross", "net")}
    return {
        "counterparty": counterparty,
        "asset": "USD",
        "asset_decimals": 2,
        "window_start": window_start.isoformat(),
        "window_end": (window_start + timedelta(minutes=1)).isoformat(),
        **zero,
        "exposure_change_gross": str(change_units),
        "exposure_change_net": str(change_units),
        "event_count": 1,
        "settlement_count": 1,
        "pane_timing": "ON_TIME",
        "pane_index": pane_index,
        "emitted_at": window_start.isoformat(),
    }


def test_the_dashboard_shows_live_exposure_against_limits_and_charts_the_bigquery_history(admin_page, risk_dataset):
    # given acme's limit, its open settlements, and three windows the pipeline wrote to BigQuery
    exposure_limit_set(counterparty="acme", asset="USD", amount="1000.00", actor="user:alice")
    SettlementFactory(payer_reference="acme", payee_reference="globex", amount="600.00")
    SettlementFactory(payer_reference="initech", payee_reference="acme", amount="250.00")
    minute = timezone.now().replace(second=0, microsecond=0)
    rows = [
        final_pane("acme", minute - timedelta(minutes=3), 60000),
        final_pane("acme", minute - timedelta(minutes=2), 25000),
        final_pane("acme", minute - timedelta(minutes=1), 10000, pane_index=2),
        final_pane("acme", minute - timedelta(minutes=1), 999, pane_index=0),  # an early pane: superseded
        final_pane("globex", minute - timedelta(minutes=3), 60000),
    ]
    assert bigquery_client().insert_rows_json(table_id(schemas.PORTFOLIO_EXPOSURES), rows) == []
    page = admin_page

    # when treasury opens the dashboard from the limits list
    page.goto("/admin/risk/exposurelimit/")
    page.click("text=Exposure dashboard")

    # then live exposure (PostgreSQL) stands against the limit with a bar
    acme = page.locator("tr[data-counterparty='acme'][data-asset='USD']")
    expect(acme.locator("td.exposure")).to_have_text("850.00")
    expect(acme.locator("td.limit")).to_have_text("1000.00")
    expect(acme.locator("svg.utilisation")).to_be_visible()
    expect(acme).to_contain_text("85.0%")
    expect(page.locator("tr[data-counterparty='initech'] td.limit")).to_have_text("—")

    # and the BigQuery history is drawn as a chart: a line with a dot per window, and the limit
    chart = page.locator(".chart[data-asset='USD'] svg.exposure-chart")
    expect(chart).to_be_visible()
    acme_points = chart.locator("circle.point[data-series='acme']")
    expect(acme_points).to_have_count(3)
    assert [acme_points.nth(i).get_attribute("data-value") for i in range(3)] == ["600.00", "850.00", "950.00"]
    expect(chart.locator("circle.point[data-series='globex']")).to_have_count(1)
    expect(chart.locator("polyline.series[data-series='acme']")).to_be_visible()
    expect(chart.locator("line.limit[data-series='acme']")).to_have_count(1)
    box = chart.bounding_box()
    assert box["width"] > 500 and box["height"] > 200
    page.screenshot(path="/tmp/risk-dashboard.png", full_page=True)


def test_the_dashboard_says_when_bigquery_is_off_and_still_shows_live_exposure(admin_page, settings):
    settings.BIGQUERY_EMULATOR_HOST = ""
    settings.BIGQUERY_PROJECT_ID = ""
    SettlementFactory(payer_reference="acme", payee_reference="globex", amount="10.00")
    page = admin_page
    page.goto("/admin/risk/exposurelimit/dashboard/")
    expect(page.locator(".history-error")).to_contain_text("BigQuery is not configured")
    expect(page.locator("tr[data-counterparty='acme'] td.exposure")).to_have_text("10.00")


def test_treasury_sets_and_changes_a_limit_in_admin_and_each_change_is_audited(admin_page):
    page = admin_page
    page.goto("/admin/risk/exposurelimit/add/")
    page.fill("#id_counterparty", "acme")
    page.select_option("#id_asset", "USD")
    page.fill("#id_limit_amount", "1000.001")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("USD has 2 decimal places")
    page.fill("#id_limit_amount", "1000.00")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    limit = ExposureLimit.objects.get(counterparty="acme", asset="USD")
    page.goto(f"/admin/risk/exposurelimit/{limit.pk}/change/")
    page.fill("#id_limit_amount", "2500.00")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")

    limit.refresh_from_db()
    assert (limit.limit_amount, limit.updated_by) == (Decimal("2500.00"), "user:alice")
    assert list(ExposureLimitChange.objects.order_by("id").values_list("new_amount", "actor")) == [
        (Decimal("1000.00"), "user:alice"),
        (Decimal("2500.00"), "user:alice"),
    ]
