from django.contrib import admin
from django.template.loader import render_to_string

from fusionprime.admin_actions import admin_actor, run_each
from fusionprime.money import format_amount
from settlements import services
from settlements.models import Asset, Settlement
from settlements.selectors import settlement_events


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "decimals", "active")
    list_filter = ("active",)

    def get_readonly_fields(self, request, obj=None):
        # Changing decimals would reinterpret every stored amount.
        return ("code", "decimals") if obj else ()


def _transition_each(modeladmin, request, queryset, service, label: str) -> None:
    actor = admin_actor(request)
    run_each(
        modeladmin,
        request,
        queryset.values_list("id", flat=True),
        lambda settlement_id: service(settlement_id=settlement_id, actor=actor, reason=f"admin: {label}"),
        label,
    )


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "reference",
        "payer_reference",
        "payee_reference",
        "amount_display",
        "status",
        "rail",
        "created_at",
    )
    list_filter = ("status", "asset", "rail", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "reference", "payer_reference", "payee_reference")
    list_select_related = ("asset",)
    date_hierarchy = "created_at"
    actions = ["mark_funded", "mark_settled", "cancel", "fail"]
    readonly_fields = [
        "id",
        "reference",
        "payer_reference",
        "payee_reference",
        "amount_display",
        "rail",
        "chain_id",
        "status",
        "status_reason",
        "metadata",
        "created_by",
        "created_at",
        "updated_at",
        "event_history",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Settlement) -> str:
        return f"{format_amount(obj.amount, decimals=obj.asset.decimals)} {obj.asset_id}"

    @admin.display(description="event history")
    def event_history(self, obj: Settlement) -> str:
        return render_to_string(
            "admin/settlements/event_history.html", {"events": settlement_events(settlement_id=obj.id)}
        )

    @admin.action(description="Mark funded", permissions=["change"])
    def mark_funded(self, request, queryset):
        _transition_each(self, request, queryset, services.settlement_mark_funded, "Marked funded")

    @admin.action(description="Mark settled", permissions=["change"])
    def mark_settled(self, request, queryset):
        _transition_each(self, request, queryset, services.settlement_mark_settled, "Marked settled")

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        _transition_each(self, request, queryset, services.settlement_cancel, "Cancelled")

    @admin.action(description="Mark failed", permissions=["change"])
    def fail(self, request, queryset):
        _transition_each(self, request, queryset, services.settlement_fail, "Marked failed")
