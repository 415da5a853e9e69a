import json

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import F
from django.utils.html import format_html

from fusionprime.admin_actions import ReadOnlyAdmin
from fusionprime.events.models import Event
from fusionprime.events.services import event_publish_retry_now


class PublishStateFilter(admin.SimpleListFilter):
    title = "publish state"
    parameter_name = "publish_state"

    def lookups(self, request, model_admin):
        return [("published", "Published"), ("pending", "Pending"), ("stuck", "Failing repeatedly")]

    def queryset(self, request, queryset):
        if self.value() == "published":
            return queryset.filter(published_at__isnull=False)
        if self.value() == "pending":
            return queryset.filter(published_at__isnull=True)
        if self.value() == "stuck":
            return queryset.filter(published_at__isnull=True, publish_attempts__gte=settings.EVENT_PUBLISH_STUCK_AFTER)
        return queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "aggregate_id", "sequence", "occurred_at", "actor", "publish_state")
    list_filter = (PublishStateFilter, "type", "aggregate_type", "topic")
    search_fields = ("=id", "=aggregate_id", "type")
    ordering = ("-occurred_at",)
    actions = ["retry_publish"]
    readonly_fields = [f.name for f in Event._meta.fields] + ["envelope"]
    exclude = ("data",)

    @admin.display(description="published", ordering=F("published_at").desc(nulls_last=True))
    def publish_state(self, obj: Event):
        if obj.published_at:
            return "✔"
        if obj.publish_attempts >= settings.EVENT_PUBLISH_STUCK_AFTER:
            return format_html('<b style="color:#b00">failing ×{}</b>', obj.publish_attempts)
        return f"pending ({obj.publish_attempts} attempts)" if obj.publish_attempts else "pending"

    @admin.display(description="envelope")
    def envelope(self, obj: Event):
        return format_html("<pre>{}</pre>", json.dumps(obj.to_envelope(), indent=2))

    @admin.action(description="Retry publishing now", permissions=["view"])
    def retry_publish(self, request, queryset):
        count = event_publish_retry_now(event_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} event(s) queued for publishing.", messages.SUCCESS)
