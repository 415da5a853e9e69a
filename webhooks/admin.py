"""Ops run webhooks from here. Every change goes through webhooks.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html

from fusionprime.admin_actions import admin_actor, run_each
from fusionprime.errors import DomainError
from webhooks import selectors, services
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    """Validates through the services' own rules, so admin and API refuse the same input."""

    url = forms.URLField(max_length=2048, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "counterparty", "headers", "rate_limit", "max_in_flight"]

    def clean(self):
        data = super().clean()
        checks = [
            ("url", services._validate_url),
            ("event_types", services._validate_event_types),
            ("headers", services._validate_headers),
        ]
        for name, check in checks:
            if name in data:
                try:
                    data[name] = check(data[name])
                except DomainError as exc:
                    self.add_error(name, exc.detail)
        return data


class RecoverActionForm(ActionForm):
    since = forms.DateTimeField(
        required=False,
        help_text="For “recover failed since”: UTC, e.g. 2026-11-28 10:00",
        widget=forms.DateTimeInput(attrs={"placeholder": "recover since (UTC)"}),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    action_form = RecoverActionForm
    list_display = (
        "id",
        "url",
        "state",
        "success_rate",
        "last_success_at",
        "last_failure_at",
        "p95_latency",
        "pending_count",
        "held_count",
        "failed_count",
    )
    list_filter = ("state",)
    search_fields = ("=id", "url", "description", "counterparty")
    actions = [
        "send_test_event",
        "pause",
        "resume",
        "resume_skipping_held",
        "rotate_secret",
        "recover_failed_since",
    ]
    readonly_fields = (
        "id",
        "state",
        "disabled_reason",
        "created_by",
        "created_at",
        "updated_at",
        "last_success_at",
        "last_failure_at",
        "failing_since",
        "consecutive_failures",
    )

    def get_fields(self, request, obj=None):
        editable = ["url", "description", "event_types", "counterparty", "headers", "rate_limit", "max_in_flight"]
        return editable if obj is None else [*editable, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request):
        return selectors.endpoints_with_health(super().get_queryset(request))

    @admin.display(description="success rate (24 h)")
    def success_rate(self, obj):
        if not obj.health_attempts:
            return "–"
        return f"{obj.health_succeeded / obj.health_attempts:.1%}"

    @admin.display(description="p95 latency (24 h)")
    def p95_latency(self, obj):
        return "–" if obj.health_p95_ms is None else f"{round(obj.health_p95_ms)} ms"

    @admin.display(description="pending", ordering="n_pending")
    def pending_count(self, obj):
        return obj.n_pending

    @admin.display(description="held", ordering="n_held")
    def held_count(self, obj):
        return obj.n_held

    @admin.display(description="failed", ordering="n_failed")
    def failed_count(self, obj):
        if not obj.n_failed:
            return 0
        return format_html(
            '<a href="../webhookdelivery/?endpoint__id__exact={}&status__exact=failed">{}</a>', obj.pk, obj.n_failed
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in self.form.Meta.fields if name in data}
        fields["description"] = fields.get("description") or ""
        fields["counterparty"] = fields.get("counterparty") or ""
        fields["headers"] = fields.get("headers") or {}
        if change:
            updated = services.webhook_endpoint_update(endpoint_id=obj.pk, actor=admin_actor(request), **fields)
        else:
            updated, secret = services.webhook_endpoint_create(actor=admin_actor(request), **fields)
            self.message_user(
                request,
                format_html(
                    "Signing secret for {} (shown only this once): <code class='webhook-secret'>{}</code>",
                    updated.pk,
                    secret,
                ),
                messages.WARNING,
            )
        form.instance = updated
        obj.pk = updated.pk

    def delete_model(self, request, obj):
        services.webhook_endpoint_delete(endpoint_id=obj.pk, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for endpoint_id in queryset.values_list("pk", flat=True):
            services.webhook_endpoint_delete(endpoint_id=endpoint_id, actor=admin_actor(request))

    @admin.action(description="Send test event")
    def send_test_event(self, request, queryset):
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: services.webhook_endpoint_send_test(endpoint_id=pk, actor=admin_actor(request)),
            "Test event queued",
        )

    @admin.action(description="Pause (hold new deliveries)")
    def pause(self, request, queryset):
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: services.webhook_endpoint_pause(endpoint_id=pk, actor=admin_actor(request)),
            "Paused",
        )

    @admin.action(description="Resume / re-enable and deliver held")
    def resume(self, request, queryset):
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: services.webhook_endpoint_resume(endpoint_id=pk, actor=admin_actor(request), held="deliver"),
            "Resumed",
        )

    @admin.action(description="Resume / re-enable and skip held")
    def resume_skipping_held(self, request, queryset):
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: services.webhook_endpoint_resume(endpoint_id=pk, actor=admin_actor(request), held="skip"),
            "Resumed, held skipped",
        )

    @admin.action(description="Rotate signing secret")
    def rotate_secret(self, request, queryset):
        for endpoint_id in queryset.values_list("pk", flat=True):
            secret = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint_id, actor=admin_actor(request))
            self.message_user(
                request,
                format_html(
                    "New signing secret for {} (shown only this once; the old one signs for "
                    "the overlap period): <code class='webhook-secret'>{}</code>",
                    endpoint_id,
                    secret,
                ),
                messages.WARNING,
            )

    @admin.action(description="Recover failed deliveries since the time given")
    def recover_failed_since(self, request, queryset):
        since = request.POST.get("since", "").strip()
        form = RecoverActionForm(request.POST)
        form.fields["action"].choices = self.get_action_choices(request)
        if not since or not form.is_valid() or form.cleaned_data.get("since") is None:
            self.message_user(request, "Give a valid “since” time to recover failed deliveries.", messages.ERROR)
            return
        when = form.cleaned_data["since"]
        total = 0
        for endpoint_id in queryset.values_list("pk", flat=True):
            total += services.deliveries_recover_failed(since=when, endpoint_id=endpoint_id, actor=admin_actor(request))
        self.message_user(request, f"Recovered {total} failed deliveries since {when:%Y-%m-%d %H:%M} UTC.")


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "trigger",
        "started_at",
        "latency_ms",
        "resolved_ip",
        "status_code",
        "error_class",
        "error_message",
        "response_headers",
        "response_body",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "aggregate",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "event_type", "aggregate_type", "is_test", ("endpoint", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=id", "=event_id", "=aggregate_id", "=endpoint__id")
    list_select_related = ("endpoint",)
    actions = ["resend", "skip"]
    inlines = [AttemptInline]
    exclude = ("body",)
    readonly_fields = (
        "id",
        "endpoint",
        "event_id",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "is_test",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "next_trigger",
        "last_status_code",
        "last_error",
        "created_at",
        "finished_at",
        "body_purged_at",
        "payload",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="aggregate")
    def aggregate(self, obj):
        return f"{obj.aggregate_type}/{obj.aggregate_id}#{obj.sequence}"

    @admin.display(description="payload")
    def payload(self, obj):
        if obj.body is None:
            return "purged"
        return format_html("<pre>{}</pre>", bytes(obj.body).decode(errors="replace")[:20000])

    @admin.action(description="Resend now")
    def resend(self, request, queryset):
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: services.delivery_resend(delivery_id=pk, actor=admin_actor(request)),
            "Queued for resend",
        )

    @admin.action(description="Skip (let later deliveries of the aggregate go)")
    def skip(self, request, queryset):
        run_each(
            self,
            request,
            queryset.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD]).values_list("pk", flat=True),
            lambda pk: services.delivery_skip(delivery_id=pk, actor=admin_actor(request)),
            "Skipped",
        )
