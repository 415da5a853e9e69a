import re
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from escrow import services
from escrow.models import (
    Chain,
    ChainEvent,
    ChainToken,
    Checkpoint,
    CrossChainInstruction,
    Escrow,
    InstructionKind,
    RpcProvider,
    TreasuryFlag,
    WatchedContract,
)
from escrow.selectors import chain_status, escrow_instructions, escrow_instructions_sent, escrow_timeline
from fusionprime.admin_actions import ReadOnlyAdmin, admin_actor, run_each
from fusionprime.money import format_amount, from_base_units


def masked_url(url: str) -> str:
    """Scheme and host only: provider URLs often carry an API key in the path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…" if parts.path.strip("/") or parts.query else url


class RpcProviderInline(admin.TabularInline):
    model = RpcProvider
    fields = (
        "name",
        "endpoint",
        "priority",
        "enabled",
        "last_head",
        "last_head_at",
        "consecutive_failures",
        "circuit_open_until",
        "last_error",
        "last_error_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="endpoint")
    def endpoint(self, obj):
        return masked_url(obj.url)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Chain)
class ChainAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "chain_id",
        "enabled",
        "provider_heads",
        "checkpoint_block",
        "lag_blocks",
        "lag_seconds",
        "last_error",
        "confirmation_depth",
    )
    readonly_fields = (
        "name",
        "chain_id",
        "enabled",
        "factory_address",
        "start_block",
        "confirmation_depth",
        "poll_interval_seconds",
        "checkpoint_block",
        "lag_blocks",
        "lag_seconds",
        "last_error",
    )
    fields = readonly_fields
    inlines = [RpcProviderInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("providers")

    @admin.display(description="provider heads")
    def provider_heads(self, obj):
        return ", ".join(f"{p.name}: {p.last_head if p.last_head is not None else '—'}" for p in obj.providers.all())

    @admin.display(description="checkpoint")
    def checkpoint_block(self, obj):
        return chain_status(chain=obj).checkpoint

    @admin.display(description="lag (blocks)")
    def lag_blocks(self, obj):
        return chain_status(chain=obj).lag_blocks

    @admin.display(description="lag (s)")
    def lag_seconds(self, obj):
        return chain_status(chain=obj).lag_seconds

    @admin.display(description="last error")
    def last_error(self, obj):
        return chain_status(chain=obj).last_error[:200] or "—"


@admin.register(ChainToken)
class ChainTokenAdmin(admin.ModelAdmin):
    list_display = ("chain", "token_address", "asset")
    list_filter = ("chain",)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("chain", "block_number", "block_hash", "head", "last_tick_at", "reorgs", "last_error")


@admin.register(Escrow)
class EscrowAdmin(ReadOnlyAdmin):
    list_display = (
        "address",
        "chain",
        "state",
        "amount_display",
        "approvals",
        "threshold",
        "settlement_link",
        "created_block",
    )
    list_filter = ("chain", "state")
    search_fields = ("=address", "=id", "=settlement__id", "=settlement_ref", "=payer", "=payee")
    list_select_related = ("chain", "asset", "settlement")
    readonly_fields = (
        "id",
        "chain",
        "address",
        "state",
        "amount_display",
        "settlement_link",
        "settlement_ref",
        "payer",
        "payee",
        "token_address",
        "arbiter",
        "approvers",
        "threshold",
        "approvals",
        "emergency_approvals",
        "release_time",
        "deadline",
        "payment_pending",
        "last_seq",
        "created_block",
        "created_tx",
        "timeline",
        "cross_chain_instructions",
    )
    fields = readonly_fields

    @admin.display(description="amount")
    def amount_display(self, obj):
        if obj.asset is None:
            return f"{obj.amount_base_units} base units of {obj.token_address}"
        value = from_base_units(int(obj.amount_base_units), decimals=obj.asset.decimals)
        return f"{format_amount(value, decimals=obj.asset.decimals)} {obj.asset_id}"

    @admin.display(description="settlement")
    def settlement_link(self, obj):
        if obj.settlement_id is None:
            return "—"
        url = reverse("admin:settlements_settlement_change", args=[obj.settlement_id])
        return format_html('<a href="{}">{}</a>', url, obj.settlement_id)

    @admin.display(description="event timeline")
    def timeline(self, obj):
        return render_to_string("admin/escrow/timeline.html", {"events": escrow_timeline(escrow_id=obj.pk)})

    @admin.display(description="cross-chain instructions")
    def cross_chain_instructions(self, obj):
        sent = list(escrow_instructions_sent(escrow=obj))
        for ev in sent:
            ev.kind_name = _kind_label(ev.args.get("kind"))
        return render_to_string(
            "admin/escrow/instructions.html", {"instructions": escrow_instructions(escrow=obj), "sent": sent}
        )


def _kind_label(value) -> str:
    try:
        return InstructionKind(int(value)).label
    except (TypeError, ValueError):
        return f"kind {value}"


class BlockRangeFilter(admin.SimpleListFilter):
    """Block buckets for the list; exact ranges via ?block_number__gte=&block_number__lte= in the URL."""

    title = "block"
    parameter_name = "blocks"

    def lookups(self, request, model_admin):
        return [("last100", "last 100 blocks"), ("last1000", "last 1000 blocks")]

    def queryset(self, request, queryset):
        if self.value() in ("last100", "last1000"):
            top = queryset.order_by("-block_number").values_list("block_number", flat=True).first() or 0
            return queryset.filter(block_number__gt=top - int(self.value()[4:]))
        return queryset


@admin.register(ChainEvent)
class ChainEventAdmin(ReadOnlyAdmin):
    list_display = ("block_number", "log_index", "chain", "event_name", "escrow_link", "seq", "tx_hash", "removed")
    list_filter = ("chain", "contract", "event_name", "removed", BlockRangeFilter)
    search_fields = ("=escrow__address", "=escrow__id", "=tx_hash", "=block_hash", "=address")
    list_select_related = ("chain", "escrow")
    ordering = ("-block_number", "-log_index")
    readonly_fields = (
        "chain",
        "block_number",
        "block_hash",
        "block_time",
        "tx_hash",
        "log_index",
        "address",
        "escrow",
        "contract",
        "event_name",
        "args",
        "seq",
        "removed",
        "removed_at",
        "event_id",
    )
    fields = readonly_fields

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("block_number__gte", "block_number__lte", "escrow__id__exact") or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description="escrow")
    def escrow_link(self, obj):
        if obj.escrow_id is None:
            return "—"
        url = reverse("admin:escrow_escrow_change", args=[obj.escrow_id])
        return format_html('<a href="{}">{}</a>', url, obj.escrow.address)


@admin.register(TreasuryFlag)
class TreasuryFlagAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "chain", "escrow", "settlement", "short_detail", "resolved_at", "resolved_by")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "kind", "chain")
    search_fields = ("=escrow__address", "=settlement__id", "detail")
    list_select_related = ("chain", "escrow")
    readonly_fields = (
        "chain",
        "kind",
        "escrow",
        "chain_event",
        "settlement",
        "detail",
        "created_at",
        "resolved_at",
        "resolved_by",
        "resolution",
    )
    fields = readonly_fields
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="detail")
    def short_detail(self, obj):
        return obj.detail[:140]

    @admin.action(description="Mark resolved (checked on chain)", permissions=["change"])
    def resolve(self, request, queryset):
        actor = admin_actor(request)
        run_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda flag_id: services.flag_resolve(
                flag_id=flag_id, actor=actor, resolution=f"resolved in admin by {actor}"
            ),
            "Resolved flags",
        )


class WatchedContractForm(forms.ModelForm):
    class Meta:
        model = WatchedContract
        fields = ("chain", "address", "kind", "label", "enabled")

    def clean_address(self):
        # Explorers show checksummed (mixed-case) addresses; rows are lower-case.
        value = self.cleaned_data["address"].strip().lower()
        if not re.fullmatch(r"0x[0-9a-f]{40}", value):
            raise forms.ValidationError("Not a 0x-prefixed 20-byte address.")
        return value

    def clean(self):
        cleaned = super().clean()
        chain = cleaned.get("chain")
        if chain and cleaned.get("address") == chain.factory_address:
            self.add_error("address", "The factory is always watched.")
        return cleaned


@admin.register(WatchedContract)
class WatchedContractAdmin(admin.ModelAdmin):
    """Cross-chain handler/sender contracts the relayer reads besides the factory and its escrows."""

    form = WatchedContractForm
    list_display = ("address", "chain", "kind", "label", "enabled", "from_settings", "created_at")
    list_filter = ("chain", "kind", "enabled")
    search_fields = ("=address", "label")

    def get_readonly_fields(self, request, obj=None):
        return ("chain", "address", "from_settings") if obj else ("from_settings",)

    def has_delete_permission(self, request, obj=None):
        return False  # disable instead: its events stay on record

    def save_model(self, request, obj, form, change):
        saved = services.watched_contract_register(  # the form validated what the service checks
            chain=obj.chain, address=obj.address, kind=obj.kind, label=obj.label, enabled=obj.enabled
        )
        obj.pk = saved.pk
        self.message_user(
            request,
            "Logs from before the relayer's current block are not read retroactively: run "
            "`manage.py backfill` from the contract's deployment block if it emitted any.",
            messages.WARNING,
        )


@admin.register(CrossChainInstruction)
class CrossChainInstructionAdmin(ReadOnlyAdmin):
    list_display = (
        "block_number",
        "chain",
        "nonce",
        "kind",
        "status",
        "short_reason",
        "escrow_link",
        "source_chain",
        "source_address",
        "tx_hash",
    )
    list_filter = ("chain", "status", "kind", "source_chain")
    search_fields = (
        "=escrow_address",
        "=escrow__id",
        "=tx_hash",
        "=received_tx",
        "=source_address",
        "=handler_address",
    )
    list_select_related = ("chain", "escrow")
    ordering = ("-block_number", "-id")
    readonly_fields = (
        "chain",
        "handler_address",
        "escrow_link",
        "escrow_address",
        "kind",
        "nonce",
        "source_chain",
        "source_address",
        "source_key",
        "command_id",
        "status",
        "reason",
        "expected_nonce",
        "failures",
        "received_block",
        "received_tx",
        "block_number",
        "block_time",
        "tx_hash",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description="reason")
    def short_reason(self, obj):
        return obj.reason[:120] or "—"

    @admin.display(description="escrow")
    def escrow_link(self, obj):
        if obj.escrow_id is None:
            return obj.escrow_address
        url = reverse("admin:escrow_escrow_change", args=[obj.escrow_id])
        return format_html('<a href="{}">{}</a>', url, obj.escrow_address)
