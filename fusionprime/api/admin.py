from django.contrib import admin, messages
from django.utils import timezone

from fusionprime.api.models import ApiKey
from fusionprime.api.services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    readonly_fields = ("id", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "scopes", "id", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = api_key_create(name=obj.name, scopes=obj.scopes or [])
        obj.pk = created.api_key.pk
        obj.prefix = created.api_key.prefix
        obj._state.adding = False
        self.message_user(
            request,
            f"New API key (shown once, copy it now): {created.raw_key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked at {timezone.now():%Y-%m-%d %H:%M} UTC.", messages.SUCCESS)
