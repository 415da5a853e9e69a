from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from fusionprime.admin_actions import ReadOnlyAdmin, admin_actor
from fusionprime.money import format_amount
from risk import services
from risk.bigquery import BigQueryUnavailable, bigquery_configured, exposure_history, table_id
from risk.charts import Series, line_chart, utilisation_bar
from risk.models import ExposureLimit, ExposureLimitChange
from risk.selectors import exposure_overview
from settlements.models import Asset

MAX_SERIES_PER_CHART = 8


class ExposureLimitForm(forms.ModelForm):
    class Meta:
        model = ExposureLimit
        fields = ["counterparty", "asset", "limit_amount", "note"]

    def clean(self):
        data = super().clean()
        asset = data.get("asset") or (self.instance.asset if self.instance.pk else None)
        amount = data.get("limit_amount")
        if asset is not None and amount is not None:
            places = max(0, -amount.normalize().as_tuple().exponent)
            if places > asset.decimals:
                self.add_error("limit_amount", f"{asset.code} has {asset.decimals} decimal places; this has {places}.")
            if amount < 0:
                self.add_error("limit_amount", "A limit cannot be negative.")
        return data


@admin.register(ExposureLimit)
class ExposureLimitAdmin(admin.ModelAdmin):
    form = ExposureLimitForm
    list_display = ("counterparty", "asset", "limit_display", "note", "updated_by", "updated_at")
    list_filter = ("asset",)
    search_fields = ("counterparty",)
    change_list_template = "admin/risk/exposurelimit/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        # Another counterparty or asset is another limit: add that one instead.
        return ("counterparty", "asset", "updated_by", "updated_at") if obj else ("updated_by", "updated_at")

    @admin.display(description="limit", ordering="limit_amount")
    def limit_display(self, obj: ExposureLimit) -> str:
        return f"{format_amount(obj.limit_amount, decimals=obj.asset.decimals)} {obj.asset_id}"

    def save_model(self, request, obj, form, change):
        limit = services.exposure_limit_set(
            counterparty=obj.counterparty,
            asset=obj.asset_id,
            amount=form.cleaned_data["limit_amount"],
            actor=admin_actor(request),
            note=form.cleaned_data.get("note", ""),
        )
        obj.pk = limit.pk

    def delete_model(self, request, obj):
        services.exposure_limit_remove(limit_id=obj.pk, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for limit_id in queryset.values_list("pk", flat=True):
            services.exposure_limit_remove(limit_id=limit_id, actor=admin_actor(request))

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="risk_exposure_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        lines = exposure_overview()
        decimals = dict(Asset.objects.values_list("code", "decimals"))
        rows = [
            {
                "line": line,
                "pending": format_amount(line.pending, decimals=line.decimals),
                "funded": format_amount(line.funded, decimals=line.decimals),
                "exposure": format_amount(line.exposure, decimals=line.decimals),
                "limit": format_amount(line.limit, decimals=line.decimals) if line.limit is not None else "—",
                "bar": utilisation_bar(percent=line.utilisation, over=line.over_limit),
            }
            for line in lines
        ]
        charts, history_error = [], None
        until = timezone.now()
        since = until - timedelta(minutes=settings.RISK_DASHBOARD_HISTORY_MINUTES)
        if not bigquery_configured():
            history_error = "BigQuery is not configured (set BIGQUERY_EMULATOR_HOST or BIGQUERY_PROJECT_ID)."
        else:
            try:
                charts = _history_charts(exposure_history(since=since, until=until), lines=lines, decimals=decimals)
            except BigQueryUnavailable as exc:
                history_error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": "Exposure dashboard",
            "opts": self.model._meta,
            "rows": rows,
            "charts": charts,
            "history_error": history_error,
            "history_table": table_id("portfolio_exposures"),
            "history_minutes": settings.RISK_DASHBOARD_HISTORY_MINUTES,
        }
        return TemplateResponse(request, "admin/risk/exposure_dashboard.html", context)


def _history_charts(points, *, lines, decimals: dict[str, int]) -> list[dict]:
    """One chart per asset (amounts of different assets share no axis), a line per counterparty."""
    limits = {(line.counterparty, line.asset): line.limit for line in lines if line.limit is not None}
    by_asset: dict[str, dict[str, list]] = {}
    for point in points:
        by_asset.setdefault(point.asset, {}).setdefault(point.counterparty, []).append(
            (point.window_end, point.exposure)
        )
    charts = []
    for asset in sorted(by_asset):
        series_points = by_asset[asset]
        # The counterparties with the largest latest exposure first.
        ranked = sorted(series_points, key=lambda cp: (-series_points[cp][-1][1], cp))
        shown = ranked[:MAX_SERIES_PER_CHART]
        series = [Series(label=cp, points=series_points[cp], limit=limits.get((cp, asset))) for cp in shown]
        charts.append(
            {
                "asset": asset,
                "svg": line_chart(
                    title=f"Open {asset} exposure at each window's end",
                    series=series,
                    decimals=decimals.get(asset, 2),
                ),
                "hidden": len(ranked) - len(shown),
                "points": sum(len(s.points) for s in series),
            }
        )
    return charts


@admin.register(ExposureLimitChange)
class ExposureLimitChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "counterparty", "asset", "previous_amount", "new_amount", "actor", "note")
    list_filter = ("asset",)
    search_fields = ("counterparty", "actor")
