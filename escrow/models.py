"""Chains, their RPC providers, escrows, decoded chain events, checkpoints and treasury flags.

Addresses and hashes are stored as lower-case 0x-prefixed hex; on-chain integers that can exceed
64 bits (uint256 amounts) as integral Decimals, never floats.
"""

from django.db import models
from django.db.models import Q

NATIVE_TOKEN = "0x0000000000000000000000000000000000000000"


class Chain(models.Model):
    name = models.SlugField(
        max_length=32, unique=True, help_text="Used by `relay --chain NAME` and CHAIN_RPC_URLS_<NAME>."
    )
    chain_id = models.PositiveBigIntegerField(unique=True)
    confirmation_depth = models.PositiveIntegerField(
        default=12, help_text="Blocks below the head before a block is processed."
    )
    poll_interval_seconds = models.PositiveIntegerField(default=30)
    factory_address = models.CharField(max_length=42)
    start_block = models.PositiveBigIntegerField(default=0, help_text="The factory's deployment block.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(factory_address__regex=r"^0x[0-9a-f]{40}$"), name="chain_factory_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.chain_id})"


class RpcProvider(models.Model):
    """One JSON-RPC endpoint of a chain; its health is written by the relayer after each tick."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="providers", db_index=False)
    name = models.CharField(max_length=64)
    url = models.CharField(max_length=500, help_text="http(s):// JSON-RPC endpoint.")
    priority = models.PositiveSmallIntegerField(default=0, help_text="Lower is tried first.")
    enabled = models.BooleanField(default=True)
    from_settings = models.BooleanField(default=False, help_text="Managed by CHAIN_RPC_URLS_<NAME>.")
    last_head = models.PositiveBigIntegerField(null=True, blank=True)
    last_head_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_open_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["chain", "priority", "id"]
        constraints = [models.UniqueConstraint(fields=["chain", "name"], name="rpc_provider_chain_name_unique")]

    def __str__(self) -> str:
        return f"{self.chain.name}/{self.name}"


class ChainToken(models.Model):
    """The per-chain token registry: which on-chain token (or native coin) is which asset."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="tokens", db_index=False)
    token_address = models.CharField(max_length=42, help_text=f"{NATIVE_TOKEN} for the native coin.")
    asset = models.ForeignKey("settlements.Asset", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["chain", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "token_address"], name="chain_token_unique"),
            models.CheckConstraint(condition=Q(token_address__regex=r"^0x[0-9a-f]{40}$"), name="chain_token_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.chain.name}:{self.token_address} → {self.asset_id}"


class EscrowState(models.TextChoices):
    FUNDED = "funded"
    RELEASED = "released"
    REFUNDED = "refunded"
    # Its creation was removed by a reorg and has not reappeared on the canonical chain.
    ORPHANED = "orphaned"


TERMINAL_ESCROW_STATES = frozenset({EscrowState.RELEASED, EscrowState.REFUNDED})


class Escrow(models.Model):
    """Projection of one escrow contract, rebuilt from its (non-removed) chain events."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="escrows", db_index=False)
    address = models.CharField(max_length=42)
    settlement_ref = models.CharField(max_length=66)
    settlement = models.ForeignKey(
        "settlements.Settlement", on_delete=models.PROTECT, null=True, blank=True, related_name="escrows"
    )
    payer = models.CharField(max_length=42)
    payee = models.CharField(max_length=42)
    token_address = models.CharField(max_length=42)
    asset = models.ForeignKey("settlements.Asset", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount_base_units = models.DecimalField(max_digits=78, decimal_places=0)
    arbiter = models.CharField(max_length=42)
    threshold = models.PositiveSmallIntegerField()
    approvers = models.JSONField(default=list)
    release_time = models.DateTimeField()
    deadline = models.DateTimeField()
    approvals = models.PositiveSmallIntegerField(default=0)
    emergency_approvals = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=16, choices=EscrowState.choices, default=EscrowState.FUNDED)
    payment_pending = models.BooleanField(default=False)
    last_seq = models.PositiveBigIntegerField(default=0, help_text="The escrow's own last event number seen.")
    created_block = models.PositiveBigIntegerField()
    created_tx = models.CharField(max_length=66)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_block", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="escrow_chain_address_unique"),
            models.CheckConstraint(condition=Q(state__in=EscrowState.values), name="escrow_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.chain.name}:{self.address}"

    @property
    def watched(self) -> bool:
        """Whether the relayer still reads this escrow's logs (it can emit nothing once settled and paid)."""
        return self.state == EscrowState.FUNDED or self.payment_pending


class ChainEvent(models.Model):
    """One decoded log. Never deleted: a reorg marks it removed (and records an event saying so)."""

    # No single-column FK indexes: the composite indexes below lead with these columns, and every
    # index here is written for each of the thousands of logs a backfill range records.
    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="events", db_index=False)
    block_number = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    block_time = models.DateTimeField()
    tx_hash = models.CharField(max_length=66)
    log_index = models.PositiveIntegerField()
    address = models.CharField(max_length=42, help_text="The contract that emitted the log.")
    escrow = models.ForeignKey(
        Escrow, on_delete=models.PROTECT, null=True, blank=True, related_name="events", db_index=False
    )
    contract = models.CharField(max_length=64)
    event_name = models.CharField(max_length=64)
    args = models.JSONField(help_text="Decoded arguments; integers as strings.")
    seq = models.PositiveBigIntegerField(null=True, blank=True, help_text="The escrow's own event number.")
    removed = models.BooleanField(default=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    event_id = models.CharField(max_length=40, blank=True, help_text="The event-log row recording it.")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chain", "block_number", "log_index"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "block_hash", "log_index"], name="chain_event_unique_log"),
        ]
        indexes = [
            models.Index(fields=["chain", "block_number"], name="chain_event_block_idx"),
            models.Index(fields=["escrow", "block_number", "log_index"], name="chain_event_escrow_idx"),
            models.Index(fields=["event_name"], name="chain_event_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} @{self.block_number}#{self.log_index}"


class Checkpoint(models.Model):
    """How far the relayer has processed a chain, and the block hashes it needs to detect reorgs."""

    chain = models.OneToOneField(Chain, on_delete=models.CASCADE, primary_key=True, related_name="checkpoint")
    block_number = models.BigIntegerField(help_text="Last processed block (start block - 1 before the first range).")
    block_hash = models.CharField(max_length=66, blank=True)
    block_time = models.DateTimeField(null=True, blank=True)
    # [[number, hash], …] ascending: range ends and blocks with events, capped (RELAYER_REORG_HISTORY).
    recent_blocks = models.JSONField(default=list)
    head = models.PositiveBigIntegerField(null=True, blank=True, help_text="Best provider head at the last tick.")
    head_time = models.DateTimeField(null=True, blank=True)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    reorgs = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.chain.name} @ {self.block_number}"


class FlagKind(models.TextChoices):
    UNKNOWN_SETTLEMENT_REF = "unknown_settlement_ref"
    SETTLEMENT_MISMATCH = "settlement_mismatch"
    UNKNOWN_TOKEN = "unknown_token"
    UNEXPECTED_SETTLEMENT_STATUS = "unexpected_settlement_status"
    SEQUENCE_GAP = "sequence_gap"
    REORG_TERMINAL = "reorg_terminal"


class TreasuryFlag(models.Model):
    """Something on chain that the relayer refused to apply silently; treasury resolves it."""

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=40, choices=FlagKind.choices)
    escrow = models.ForeignKey(Escrow, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    chain_event = models.ForeignKey(ChainEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    settlement = models.ForeignKey(
        "settlements.Settlement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=128, blank=True)
    resolution = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["resolved_at", "-created_at"], name="treasury_flag_open_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail[:60]}"


# ------------------------------------------------------------------ cross-chain instructions (Axelar GMP)


class ContractKind(models.TextChoices):
    INSTRUCTION_HANDLER = "instruction_handler", "cross-chain instruction handler"
    INSTRUCTION_SENDER = "instruction_sender", "cross-chain instruction sender"


# The ABI file (escrow/abi/<name>.json) that decodes each kind's logs.
CONTRACT_ABI = {
    ContractKind.INSTRUCTION_HANDLER: "EscrowInstructionHandler",
    ContractKind.INSTRUCTION_SENDER: "EscrowInstructionSender",
}
HANDLER_CONTRACT = CONTRACT_ABI[ContractKind.INSTRUCTION_HANDLER]


class WatchedContract(models.Model):
    """A contract besides the factory and its escrows whose logs the relayer records on this chain.

    Added after the relayer passed its deployment block: run `manage.py backfill` from that block.
    """

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="watched_contracts", db_index=False)
    address = models.CharField(max_length=42)
    kind = models.CharField(max_length=32, choices=ContractKind.choices)
    label = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(default=True)
    from_settings = models.BooleanField(default=False, help_text="Managed by CHAIN_WATCHED_CONTRACTS_<NAME>.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chain", "kind", "address"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "address"], name="watched_contract_chain_address_unique"),
            models.CheckConstraint(condition=Q(address__regex=r"^0x[0-9a-f]{40}$"), name="watched_contract_hex"),
            models.CheckConstraint(condition=Q(kind__in=ContractKind.values), name="watched_contract_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.chain.name}:{self.address} ({self.label or self.kind})"


class InstructionKind(models.IntegerChoices):
    """EscrowInstruction.Kind (contracts/README.md, "Message format"); 0 when a rejected payload had none."""

    NONE = 0, "—"
    APPROVE = 1, "Approve"
    REVOKE_APPROVAL = 2, "RevokeApproval"
    APPROVE_EMERGENCY_REFUND = 3, "ApproveEmergencyRefund"
    REVOKE_EMERGENCY_REFUND_APPROVAL = 4, "RevokeEmergencyRefundApproval"
    ARBITER_RELEASE = 5, "ArbiterRelease"
    ARBITER_REFUND = 6, "ArbiterRefund"
    RELEASE = 7, "Release"


class RejectReason(models.IntegerChoices):
    """EscrowInstruction.RejectReason."""

    SOURCE_NOT_ALLOWED = 1, "SourceNotAllowed"
    MALFORMED_PAYLOAD = 2, "MalformedPayload"
    UNSUPPORTED_VERSION = 3, "UnsupportedVersion"
    UNKNOWN_KIND = 4, "UnknownKind"
    REPLAY = 5, "Replay"


class InstructionStatus(models.TextChoices):
    RECEIVED = "received"
    DEFERRED = "deferred"
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"


class CrossChainInstruction(models.Model):
    """Projection of one message a watched handler received, rebuilt from its (non-removed) chain events.

    An accepted or deferred message is keyed by (handler, source key, nonce): its later events (executed,
    failed, executed on retry) update the same row. Each rejected delivery is a row of its own, keyed by
    its log, since a rejection (e.g. a replay) must not overwrite the original message's outcome.
    """

    chain = models.ForeignKey(Chain, on_delete=models.PROTECT, related_name="instructions", db_index=False)
    handler_address = models.CharField(max_length=42)
    key = models.CharField(max_length=160, help_text="<sourceKey>:<nonce>, or rejected:<block hash>:<log index>.")
    escrow = models.ForeignKey(
        Escrow, on_delete=models.PROTECT, null=True, blank=True, related_name="instructions", db_index=False
    )
    escrow_address = models.CharField(max_length=42)
    source_key = models.CharField(max_length=66)
    nonce = models.PositiveBigIntegerField()
    kind = models.PositiveSmallIntegerField(choices=InstructionKind.choices)
    source_chain = models.CharField(max_length=128, blank=True)
    source_address = models.CharField(max_length=128, blank=True)
    command_id = models.CharField(max_length=66, blank=True)
    status = models.CharField(max_length=16, choices=InstructionStatus.choices)
    reason = models.TextField(blank=True, help_text="Why it was rejected, or the escrow's revert of the last failure.")
    expected_nonce = models.PositiveBigIntegerField(null=True, blank=True, help_text="While deferred.")
    failures = models.PositiveIntegerField(default=0)
    received_block = models.PositiveBigIntegerField(null=True, blank=True)
    received_tx = models.CharField(max_length=66, blank=True)
    block_number = models.PositiveBigIntegerField(help_text="Block of the event that set the status.")
    block_time = models.DateTimeField()
    tx_hash = models.CharField(max_length=66)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["chain", "block_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "handler_address", "key"], name="instruction_unique_key"),
            models.CheckConstraint(condition=Q(status__in=InstructionStatus.values), name="instruction_status_valid"),
        ]
        indexes = [models.Index(fields=["escrow", "block_number"], name="instruction_escrow_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.nonce} → {self.escrow_address} ({self.status})"
