"""Every write of the escrow app. The relayer's writes for one range commit in one transaction."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escrow.models import (
    HANDLER_CONTRACT,
    NATIVE_TOKEN,
    Chain,
    ChainEvent,
    ChainToken,
    Checkpoint,
    ContractKind,
    CrossChainInstruction,
    Escrow,
    EscrowState,
    FlagKind,
    InstructionStatus,
    RejectReason,
    RpcProvider,
    TreasuryFlag,
    WatchedContract,
)
from escrow.refs import settlement_id_from_ref
from escrow.relayer.decoding import DecodedLog, decode_revert
from fusionprime.db import copy_insert, new_instances, update_rows
from fusionprime.errors import Conflict, NotFound, ValidationError
from fusionprime.events.services import EventDraft, events_record
from fusionprime.ids import new_id
from fusionprime.money import format_amount, from_base_units
from settlements import services as settlement_services
from settlements.models import Asset, Settlement, SettlementStatus

logger = logging.getLogger(__name__)

RELAYER_ACTOR = "system:relayer"
RELEASE_EVENTS = frozenset({"Released"})
REFUND_EVENTS = frozenset({"Refunded", "EmergencyRefunded"})


class CheckpointMoved(Exception):
    """Someone else advanced the checkpoint (should not happen under the advisory lock)."""


def _hex(value: str) -> str:
    value = value.strip().lower()
    if not value.startswith("0x") or len(value) != 42 or any(c not in "0123456789abcdef" for c in value[2:]):
        raise ValidationError(
            f"'{value}' is not a 0x-prefixed 20-byte address.", param="address", code="invalid_address"
        )
    return value


# ------------------------------------------------------------------ chains and providers


def chain_register(
    *,
    name: str,
    chain_id: int,
    factory_address: str,
    start_block: int = 0,
    confirmation_depth: int = 12,
    poll_interval_seconds: int = 30,
    rpc_urls: list[str] | None = None,
    tokens: dict[str, str] | None = None,
    enabled: bool = True,
) -> Chain:
    """Creates or updates a chain with its providers (in priority order) and token registry."""
    factory = _hex(factory_address)
    with transaction.atomic():
        chain, created = Chain.objects.select_for_update().get_or_create(
            name=name,
            defaults={
                "chain_id": chain_id,
                "factory_address": factory,
                "start_block": start_block,
                "confirmation_depth": confirmation_depth,
                "poll_interval_seconds": poll_interval_seconds,
                "enabled": enabled,
            },
        )
        if not created:
            if chain.chain_id != chain_id:
                raise Conflict(
                    f"Chain '{name}' is chain id {chain.chain_id}, not {chain_id}.", code="chain_id_mismatch"
                )
            reset = chain.factory_address != factory
            chain.factory_address = factory
            chain.start_block = start_block
            chain.confirmation_depth = confirmation_depth
            chain.poll_interval_seconds = poll_interval_seconds
            chain.enabled = enabled
            chain.save(
                update_fields=[
                    "factory_address",
                    "start_block",
                    "confirmation_depth",
                    "poll_interval_seconds",
                    "enabled",
                ]
            )
            if reset and not chain.events.exists():
                Checkpoint.objects.filter(chain=chain).delete()
        Checkpoint.objects.get_or_create(chain=chain, defaults={"block_number": start_block - 1})
        for priority, url in enumerate(rpc_urls or []):
            RpcProvider.objects.update_or_create(
                chain=chain, name=f"rpc{priority + 1}", defaults={"url": url, "priority": priority, "enabled": True}
            )
        for token, asset in (tokens or {}).items():
            address = NATIVE_TOKEN if token == "native" else _hex(token)
            ChainToken.objects.update_or_create(
                chain=chain, token_address=address, defaults={"asset": Asset.objects.get(code=asset)}
            )
    return chain


def chain_sync_providers_from_settings(*, chain: Chain) -> None:
    """CHAIN_RPC_URLS_<NAME> (comma-separated, first = highest priority) manages `from_settings` rows."""
    urls = settings.CHAIN_RPC_URLS.get(chain.name.lower().replace("-", "_"))
    if urls is None:
        return
    with transaction.atomic():
        keep = []
        for priority, url in enumerate(urls):
            row, _ = RpcProvider.objects.update_or_create(
                chain=chain,
                name=f"env{priority + 1}",
                defaults={"url": url, "priority": priority, "enabled": True, "from_settings": True},
            )
            keep.append(row.pk)
        RpcProvider.objects.filter(chain=chain, from_settings=True).exclude(pk__in=keep).update(enabled=False)


def watched_contract_register(
    *, chain: Chain, address: str, kind: str, label: str = "", enabled: bool = True, from_settings: bool = False
) -> WatchedContract:
    """Adds (or updates) a contract whose logs the relayer records besides the factory and escrows.

    Its logs from before the chain's checkpoint are not read retroactively: backfill from its deployment block.
    """
    if kind not in ContractKind.values:
        raise ValidationError(
            f"'{kind}' is not a watched contract kind ({', '.join(ContractKind.values)}).",
            param="kind",
            code="invalid_contract_kind",
        )
    address = _hex(address)
    if address == chain.factory_address:
        raise ValidationError("The factory is always watched.", param="address", code="factory_address")
    with transaction.atomic():
        row, _ = WatchedContract.objects.update_or_create(
            chain=chain,
            address=address,
            defaults={"kind": kind, "label": label[:64], "enabled": enabled, "from_settings": from_settings},
        )
    logger.info("escrow.watched_contract_registered", extra={"chain": chain.name, "address": address, "kind": kind})
    return row


def _parse_watched(name: str, entries: list[str]) -> list[tuple[str, str]]:
    parsed = []
    for entry in entries:
        kind, _, address = entry.strip().partition(":")
        if kind not in ContractKind.values or not address:
            raise ImproperlyConfigured(
                f"CHAIN_WATCHED_CONTRACTS_{name.upper()}: '{entry}' is not <kind>:<address> with kind one of "
                f"{', '.join(ContractKind.values)}."
            )
        parsed.append((kind, address))
    return parsed


def chain_sync_watched_contracts_from_settings(*, chain: Chain) -> None:
    """CHAIN_WATCHED_CONTRACTS_<NAME> (comma-separated `kind:address`) manages `from_settings` rows."""
    key = chain.name.lower().replace("-", "_")
    entries = settings.CHAIN_WATCHED_CONTRACTS.get(key)
    if entries is None:
        return
    wanted = _parse_watched(key, entries)
    with transaction.atomic():
        keep = []
        for kind, address in wanted:
            try:
                row = watched_contract_register(
                    chain=chain, address=address, kind=kind, label="from settings", from_settings=True
                )
            except ValidationError as exc:
                raise ImproperlyConfigured(f"CHAIN_WATCHED_CONTRACTS_{key.upper()}: {exc.detail}") from exc
            keep.append(row.pk)
        WatchedContract.objects.filter(chain=chain, from_settings=True).exclude(pk__in=keep).update(enabled=False)


def providers_save_health(*, endpoints, now: datetime | None = None) -> None:
    now = now or timezone.now()
    for endpoint in endpoints:
        if endpoint.db_id is None:
            continue
        fields = {
            "consecutive_failures": endpoint.failures,
            "circuit_open_until": datetime.fromtimestamp(endpoint.open_until, tz=UTC) if endpoint.open_until else None,
        }
        if endpoint.head is not None:
            fields.update(last_head=endpoint.head, last_head_at=now)
        if endpoint.error_count or endpoint.lagging:
            fields.update(last_error=endpoint.last_error, last_error_at=now)
        if endpoint.ok_count:
            fields["last_ok_at"] = now
        RpcProvider.objects.filter(pk=endpoint.db_id).update(**fields)


def checkpoint_record_tick(*, chain: Chain, head: int | None, head_time: datetime | None, error: str = "") -> None:
    fields = {"last_tick_at": timezone.now(), "last_error": error[:4000]}
    if head is not None:
        fields.update(head=head, head_time=head_time)
    if error:
        fields["last_error_at"] = timezone.now()
    Checkpoint.objects.filter(chain=chain).update(**fields)


def checkpoint_start_at(*, chain: Chain, block_number: int) -> Checkpoint:
    """Moves a chain that has processed nothing yet to start at `block_number`."""
    with transaction.atomic():
        checkpoint, _ = Checkpoint.objects.select_for_update().get_or_create(
            chain=chain, defaults={"block_number": chain.start_block - 1}
        )
        if checkpoint.block_hash:
            raise Conflict(
                f"{chain.name} has processed up to block {checkpoint.block_number}; starting at {block_number} "
                "would leave a gap.",
                code="checkpoint_gap",
            )
        checkpoint.block_number = block_number - 1
        checkpoint.save(update_fields=["block_number", "updated_at"])
    return checkpoint


# ------------------------------------------------------------------ treasury flags


def flags_raise(*, chain: Chain, flags: list[tuple]) -> list[TreasuryFlag]:
    """Raises (kind, detail, chain_event, escrow, settlement) flags in one insert.

    Logged once committed, one line per kind: a backfill range can raise hundreds of one kind, and
    each flag is in admin anyway.
    """
    rows = new_instances(
        TreasuryFlag,
        [
            {
                "chain_id": chain.pk,
                "kind": kind,
                "detail": detail,
                "escrow_id": escrow.pk if escrow else None,
                "chain_event_id": ev.pk if ev else None,
                "settlement_id": settlement.pk if settlement else None,
            }
            for kind, detail, ev, escrow, settlement in flags
        ],
    )
    by_kind: dict[str, list[tuple]] = {}
    for flag, (kind, detail, ev, escrow, settlement) in zip(rows, flags, strict=True):
        # The callers' objects, as the constructor would have cached them.
        for relation, value in (
            (TreasuryFlag.chain, chain),
            (TreasuryFlag.chain_event, ev),
            (TreasuryFlag.escrow, escrow),
            (TreasuryFlag.settlement, settlement),
        ):
            if value is not None:
                relation.field.set_cached_value(flag, value)
        by_kind.setdefault(str(kind), []).append((detail, escrow))
    copy_insert(rows)
    for kind, raised in by_kind.items():
        log = logger.error if kind == FlagKind.REORG_TERMINAL else logger.warning
        extra = {
            "kind": kind,
            "chain": chain.name,
            "count": len(raised),
            "escrows": [escrow.address for _, escrow in raised[:10] if escrow],
            "detail": raised[0][0],
        }
        transaction.on_commit(lambda log=log, extra=extra: log("escrow.flags_raised", extra=extra), robust=True)
    return rows


def flag_raise(
    *,
    chain: Chain,
    kind: FlagKind,
    detail: str,
    escrow: Escrow | None = None,
    chain_event: ChainEvent | None = None,
    settlement: Settlement | None = None,
) -> TreasuryFlag:
    return flags_raise(chain=chain, flags=[(kind, detail, chain_event, escrow, settlement)])[0]


def flag_resolve(*, flag_id: int, actor: str, resolution: str) -> TreasuryFlag:
    if not resolution.strip():
        raise ValidationError("Say how the flag was resolved.", param="resolution", code="resolution_required")
    with transaction.atomic():
        flag = TreasuryFlag.objects.select_for_update().filter(pk=flag_id).first()
        if flag is None:
            raise NotFound(f"No flag {flag_id}.", code="flag_not_found")
        if flag.resolved_at:
            raise Conflict(f"Flag {flag_id} is already resolved.", code="flag_resolved")
        flag.resolved_at = timezone.now()
        flag.resolved_by = actor
        flag.resolution = resolution[:2000]
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return flag


# ------------------------------------------------------------------ projection


def _ts(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def escrow_apply_event(escrow: Escrow, name: str, args: dict, *, block_number: int = 0, tx_hash: str = "") -> None:
    """Moves the projection by one event (also used to replay an escrow from its events)."""
    if name == "EscrowCreated":
        escrow.settlement_ref = args["settlementRef"]
        escrow.payer = args["payer"]
        escrow.payee = args["payee"]
        escrow.token_address = args["token"]
        escrow.amount_base_units = int(args["amount"])
        escrow.arbiter = args["arbiter"]
        escrow.threshold = int(args["threshold"])
        escrow.approvers = list(args["approvers"])
        escrow.release_time = _ts(args["releaseTime"])
        escrow.deadline = _ts(args["deadline"])
        escrow.created_block = block_number
        escrow.created_tx = tx_hash
        escrow.state = EscrowState.FUNDED
        escrow.approvals = escrow.emergency_approvals = 0
        escrow.payment_pending = False
        escrow.last_seq = 0
        return
    if name in ("Approved", "ApprovalRevoked"):
        escrow.approvals = int(args["approvals"])
    elif name in ("EmergencyRefundApproved", "EmergencyRefundApprovalRevoked"):
        escrow.emergency_approvals = int(args["approvals"])
    elif name in RELEASE_EVENTS or name in REFUND_EVENTS or name == "ArbiterDecided":
        released = name in RELEASE_EVENTS or (name == "ArbiterDecided" and args["release"])
        escrow.state = EscrowState.RELEASED if released else EscrowState.REFUNDED
        escrow.payment_pending = not args["paid"]
    elif name == "Withdrawn":
        escrow.payment_pending = False
    if "seq" in args:
        escrow.last_seq = int(args["seq"])


def _escrow_replay(escrow: Escrow) -> None:
    events = list(ChainEvent.objects.filter(escrow=escrow, removed=False).order_by("block_number", "log_index"))
    escrow.state = EscrowState.ORPHANED
    escrow.approvals = escrow.emergency_approvals = 0
    escrow.payment_pending = False
    escrow.last_seq = 0
    if not any(e.event_name == "EscrowCreated" for e in events):
        return
    for event in events:
        escrow_apply_event(escrow, event.event_name, event.args, block_number=event.block_number, tx_hash=event.tx_hash)


# ------------------------------------------------------------------ cross-chain instructions

MESSAGE_EVENTS = ("MessageReceived", "MessageDeferred", "InstructionExecuted", "InstructionFailed")


def instruction_key(ev: ChainEvent) -> str | None:
    """The CrossChainInstruction row a handler event belongs to; None when it is not about a message."""
    if ev.contract != HANDLER_CONTRACT:
        return None
    if ev.event_name == "MessageRejected":
        return f"rejected:{ev.block_hash}:{ev.log_index}"
    if ev.event_name in MESSAGE_EVENTS:
        return f"{ev.args['sourceKey']}:{ev.args['nonce']}"
    return None


def _instruction_row(events: list[ChainEvent]) -> dict:
    """One instruction's fields, from its non-removed events in chain order."""
    row: dict = {"reason": "", "expected_nonce": None, "failures": 0}
    for ev in events:
        args = ev.args
        row.update(escrow_address=args["escrow"], source_key=args["sourceKey"], nonce=int(args["nonce"]))
        row.update(kind=int(args["kind"]), block_number=ev.block_number, block_time=ev.block_time, tx_hash=ev.tx_hash)
        if ev.event_name in ("MessageReceived", "MessageRejected"):
            row.update(
                source_chain=args["sourceChain"][:128],
                source_address=args["sourceAddress"][:128],
                command_id=args["commandId"],
                received_block=ev.block_number,
                received_tx=ev.tx_hash,
            )
        if ev.event_name == "MessageReceived":
            row["status"] = InstructionStatus.RECEIVED
        elif ev.event_name == "MessageRejected":
            row["status"] = InstructionStatus.REJECTED
            reason = int(args["reason"])
            row["reason"] = RejectReason(reason).label if reason in RejectReason.values else f"reason {reason}"
        elif ev.event_name == "MessageDeferred":
            row.update(status=InstructionStatus.DEFERRED, expected_nonce=int(args["expectedNonce"]))
        elif ev.event_name == "InstructionExecuted":
            row.update(status=InstructionStatus.EXECUTED, reason="", expected_nonce=None)
        else:  # InstructionFailed: stored by the handler, retryable
            row.update(status=InstructionStatus.FAILED, reason=decode_revert(args["reason"]), expected_nonce=None)
            row["failures"] += 1
    return row


def _instructions_rebuild(*, chain: Chain, events) -> None:
    """Rebuilds the instructions these events belong to from their non-removed events (deleted when a
    reorg removed them all): one query reads every instruction's events, one its escrows."""
    keys = {(ev.address, key) for ev in events if (key := instruction_key(ev))}
    if not keys:
        return
    wanted = Q()
    for handler, key in keys:
        if key.startswith("rejected:"):
            _, block_hash, log_index = key.split(":")
            wanted |= Q(address=handler, block_hash=block_hash, log_index=int(log_index), event_name="MessageRejected")
        else:
            source_key, nonce = key.rsplit(":", 1)
            wanted |= Q(address=handler, event_name__in=MESSAGE_EVENTS, args__sourceKey=source_key, args__nonce=nonce)
    found: dict[tuple[str, str], list[ChainEvent]] = {}
    for ev in ChainEvent.objects.filter(wanted, chain=chain, removed=False).order_by("block_number", "log_index"):
        found.setdefault((ev.address, instruction_key(ev)), []).append(ev)
    rows = {handler_key: _instruction_row(evs) for handler_key, evs in found.items() if handler_key in keys}
    # The escrow may be created after a failed instruction named it (its predicted address).
    escrows = {
        e.address: e
        for e in Escrow.objects.filter(chain=chain, address__in={row["escrow_address"] for row in rows.values()})
    }
    for handler, key in sorted(keys):
        row = rows.get((handler, key))
        if row is None:
            CrossChainInstruction.objects.filter(chain=chain, handler_address=handler, key=key).delete()
            continue
        row["escrow"] = escrows.get(row["escrow_address"])
        CrossChainInstruction.objects.update_or_create(chain=chain, handler_address=handler, key=key, defaults=row)


# ------------------------------------------------------------------ one range


@dataclass
class RangeOutcome:
    recorded: int = 0
    skipped: int = 0
    new_escrows: int = 0
    flags: int = 0
    settlement_transitions: int = 0
    touched: set = field(default_factory=set)


def _chain_facts(chain: Chain, ev: ChainEvent) -> dict:
    return {
        "chain_id": chain.chain_id,
        "chain": chain.name,
        "address": ev.escrow.address if ev.escrow else ev.address,
        "event": ev.event_name,
        "block_number": ev.block_number,
        "block_hash": ev.block_hash,
        "tx_hash": ev.tx_hash,
        "log_index": ev.log_index,
        "escrow_event_number": ev.seq,
    }


def _event_payload(chain: Chain, ev: ChainEvent) -> dict:
    escrow = ev.escrow
    return {
        "chain_id": chain.chain_id,
        "chain": chain.name,
        "block_number": ev.block_number,
        "block_hash": ev.block_hash,
        "block_time": ev.block_time.isoformat().replace("+00:00", "Z"),
        "tx_hash": ev.tx_hash,
        "log_index": ev.log_index,
        "contract": ev.contract,
        "contract_address": ev.address,
        "event": ev.event_name,
        "escrow": escrow.address if escrow else None,
        "escrow_id": escrow.id if escrow else None,
        "escrow_event_number": ev.seq,
        "settlement_id": escrow.settlement_id if escrow else None,
        "args": ev.args,
    }


def _aggregate(chain: Chain, ev: ChainEvent) -> tuple[str, str]:
    if ev.escrow_id:
        return "escrow", ev.escrow_id
    return "contract", f"{chain.chain_id}:{ev.address}"


def _draft(chain: Chain, ev: ChainEvent, type_: str, data: dict, *, first: bool = False) -> EventDraft:
    aggregate_type, aggregate_id = _aggregate(chain, ev)
    return EventDraft(
        first=first,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        type=type_,
        data=data,
        actor=RELAYER_ACTOR,
        topic=settings.PUBSUB_TOPIC_CHAIN_EVENTS,
        source="/fusionprime/escrow",
        occurred_at=ev.block_time,
    )


class _RangeWriter:
    def __init__(self, chain: Chain, outcome: RangeOutcome):
        self.chain = chain
        self.outcome = outcome
        self.escrows: dict[str, Escrow] = {}
        # Escrows first seen in this range: inserted in one write once the range's logs are applied.
        self.new: dict[str, Escrow] = {}
        self.pending_flags: list = []
        self.moves: list[settlement_services.Move] = []
        self.tokens = {t.token_address: t.asset for t in ChainToken.objects.filter(chain=chain).select_related("asset")}
        # The range's settlements and the escrows backing them, loaded up front in one query each and
        # kept current here: a settlement can move twice in one range (funded, then settled).
        self.settlements: dict[str, Settlement] = {}
        self.backers: dict[str, dict[str, Escrow]] = {}

    def load_escrows(self, addresses: set[str]) -> None:
        missing = addresses - set(self.escrows)
        if missing:
            for escrow in Escrow.objects.filter(chain=self.chain, address__in=missing):
                self.escrows[escrow.address] = escrow

    def load_settlements(self, logs: list[DecodedLog]) -> None:
        ids = {escrow.settlement_id for escrow in self.escrows.values()} | {
            settlement_id_from_ref(log.args["settlementRef"])
            for log in logs
            if log.spec.name == "EscrowCreated" and log.spec.contract == "EscrowFactory"
        }
        ids.discard(None)
        if not ids:
            return
        # A plain read, as before: the settlement services lock the row for each real transition.
        self.settlements = {s.id: s for s in Settlement.objects.select_related("asset").filter(pk__in=ids)}
        loaded = {escrow.pk: escrow for escrow in self.escrows.values()}
        for escrow in Escrow.objects.filter(settlement_id__in=self.settlements):
            self.backers.setdefault(escrow.settlement_id, {})[escrow.pk] = loaded.get(escrow.pk, escrow)

    def flag(self, kind, detail, ev=None, escrow=None, settlement=None):
        # Raised once the range's chain events exist (a flag points at its event).
        self.outcome.flags += 1
        self.pending_flags.append((kind, detail, ev, escrow, settlement))

    def move(self, settlement: Settlement, to: SettlementStatus, reason: str, ev: ChainEvent) -> None:
        """Queues a settlement transition for the end of the range; this range sees it at once."""
        event_data = {"escrow": _chain_facts(self.chain, ev)}
        self.moves.append(settlement_services.Move(settlement.id, to, reason, event_data))
        settlement.status = to
        self.outcome.settlement_transitions += 1

    def apply_moves(self) -> None:
        """The range's settlement transitions through the settlement services, in the order seen."""
        if self.moves:
            self.settlements.update(settlement_services.settlements_move(moves=self.moves, actor=RELAYER_ACTOR))
            self.moves.clear()

    def raise_flags(self) -> None:
        flags_raise(chain=self.chain, flags=self.pending_flags)
        self.pending_flags.clear()

    # -------------------------------------------------------------- escrows
    def escrow_for_created(self, log: DecodedLog) -> Escrow:
        address = log.args["escrow"]
        escrow = self.escrows.get(address)
        if escrow is None:
            escrow = Escrow(id=new_id("esc"), chain=self.chain, address=address)
            self.outcome.new_escrows += 1
            self.new[address] = escrow
        escrow_apply_event(escrow, "EscrowCreated", log.args, block_number=log.block_number, tx_hash=log.tx_hash)
        escrow.asset = self.tokens.get(escrow.token_address)
        if address not in self.new:
            escrow.save()  # created again (a reorg or a re-scan): every creation field
        self.escrows[address] = escrow
        return escrow

    # -------------------------------------------------------------- settlements
    def backer(self, settlement: Settlement, escrow: Escrow) -> Escrow | None:
        """Another live escrow already backing the settlement (the latest created, as the admin lists them)."""
        others = [
            other
            for other in self.backers.get(settlement.id, {}).values()
            if other.pk != escrow.pk and other.settlement_id == settlement.id and other.state != EscrowState.ORPHANED
        ]
        return max(others, key=lambda other: (other.created_block, other.pk), default=None)

    def link_settlement(self, escrow: Escrow, ev: ChainEvent) -> None:
        settlement_id = settlement_id_from_ref(escrow.settlement_ref)
        settlement = self.settlements.get(settlement_id) if settlement_id else None
        if settlement is None:
            self.flag(
                FlagKind.UNKNOWN_SETTLEMENT_REF,
                f"Escrow {escrow.address} carries settlementRef {escrow.settlement_ref}, "
                "which is no settlement of ours.",
                ev,
                escrow,
            )
            return
        problems = []
        if settlement.rail != "escrow" or settlement.chain_id != self.chain.chain_id:
            problems.append(
                f"settlement is rail {settlement.rail} on chain {settlement.chain_id}, "
                f"not escrow on {self.chain.chain_id}"
            )
        if escrow.asset is None:
            self.flag(
                FlagKind.UNKNOWN_TOKEN,
                f"Escrow {escrow.address} holds token {escrow.token_address}, "
                f"which is not in {self.chain.name}'s token registry.",
                ev,
                escrow,
                settlement,
            )
            return
        if escrow.asset_id != settlement.asset_id:
            problems.append(f"asset {escrow.asset_id} != {settlement.asset_id}")
        else:
            on_chain = from_base_units(int(escrow.amount_base_units), decimals=escrow.asset.decimals)
            if on_chain != settlement.amount:
                problems.append(
                    f"amount {format_amount(on_chain, decimals=escrow.asset.decimals)} != "
                    f"{format_amount(settlement.amount, decimals=settlement.asset.decimals)}"
                )
        other = self.backer(settlement, escrow)
        if other is not None:
            problems.append(f"settlement is already backed by escrow {other.address}")
        if problems:
            self.flag(
                FlagKind.SETTLEMENT_MISMATCH,
                f"Escrow {escrow.address} does not match settlement {settlement.id}: {'; '.join(problems)}.",
                ev,
                escrow,
                settlement,
            )
            return
        escrow.settlement = settlement
        self.backers.setdefault(settlement.id, {})[escrow.pk] = escrow
        if escrow.address not in self.new:
            escrow.save(update_fields=["settlement", "updated_at"])
        if settlement.status == SettlementStatus.PENDING:
            self.move(settlement, SettlementStatus.FUNDED, f"escrow {escrow.address} funded on {self.chain.name}", ev)
        else:
            self.flag(
                FlagKind.UNEXPECTED_SETTLEMENT_STATUS,
                f"Escrow {escrow.address} was funded for settlement {settlement.id}, which is {settlement.status}.",
                ev,
                escrow,
                settlement,
            )

    def settle(self, escrow: Escrow, ev: ChainEvent, released: bool) -> None:
        settlement = self.settlements.get(escrow.settlement_id)
        if settlement is None:
            settlement = self.settlements[escrow.settlement_id] = Settlement.objects.get(pk=escrow.settlement_id)
        target = SettlementStatus.SETTLED if released else SettlementStatus.REFUNDED
        if settlement.status == target:
            # Seen again after a reorg put it back on the canonical chain: the open reorg flag is moot.
            TreasuryFlag.objects.filter(
                settlement=settlement, kind=FlagKind.REORG_TERMINAL, resolved_at__isnull=True
            ).update(
                resolved_at=timezone.now(),
                resolved_by=RELAYER_ACTOR,
                resolution=f"{ev.event_name} re-confirmed in block {ev.block_number} ({ev.block_hash}).",
            )
            return
        if settlement.status != SettlementStatus.FUNDED:
            self.flag(
                FlagKind.UNEXPECTED_SETTLEMENT_STATUS,
                f"Escrow {escrow.address} emitted {ev.event_name} "
                f"but settlement {settlement.id} is {settlement.status}.",
                ev,
                escrow,
                settlement,
            )
            return
        self.move(settlement, target, f"escrow {escrow.address}: {ev.event_name} on {self.chain.name}", ev)

    # -------------------------------------------------------------- one log
    def handle(self, log: DecodedLog, ev: ChainEvent, *, replaying: bool) -> None:
        name = ev.event_name
        escrow = ev.escrow
        if name == "EscrowCreated" and log.spec.contract == "EscrowFactory":
            if escrow.settlement_id is None:
                self.link_settlement(escrow, ev)
            return
        if escrow is None or log.spec.contract != "Escrow":
            return
        seq = ev.seq
        if not replaying and seq is not None:
            if seq != escrow.last_seq + 1:
                self.flag(
                    FlagKind.SEQUENCE_GAP,
                    f"Escrow {escrow.address} event number {seq} follows {escrow.last_seq}: events are missing.",
                    ev,
                    escrow,
                )
            escrow_apply_event(escrow, name, log.args)
            self.outcome.touched.add(escrow.address)
        if escrow.settlement_id is None:
            return
        if name in RELEASE_EVENTS or (name == "ArbiterDecided" and log.args["release"]):
            self.settle(escrow, ev, released=True)
        elif name in REFUND_EVENTS or name == "ArbiterDecided":
            self.settle(escrow, ev, released=False)


def _escrows_update(escrows: list[Escrow]) -> None:
    """Writes the projection fields of existing escrows in one UPDATE."""
    updated = update_rows(escrows, [*_PROJECTION_FIELDS, "updated_at"])
    if updated != len(escrows):
        raise RuntimeError(f"updated {updated} of {len(escrows)} escrows")


_PROJECTION_FIELDS = ("approvals", "emergency_approvals", "state", "payment_pending", "last_seq")


def _fail_point(name: str) -> None:
    """Tests replace this to crash the range transaction between two writes."""


def range_apply(
    *, chain: Chain, start: int, end: int, logs: list[DecodedLog], headers: dict, advance: bool = True
) -> RangeOutcome:
    """Records one verified range: chain events, projections, settlement moves, event rows, checkpoint.

    `advance=False` re-scans blocks at or below the checkpoint (backfill): events already recorded are
    skipped, missing ones are recorded and their escrows replayed from their events.
    """
    outcome = RangeOutcome()
    with transaction.atomic():
        checkpoint = Checkpoint.objects.select_for_update().get(chain=chain)
        if advance and checkpoint.block_number != start - 1:
            raise CheckpointMoved(f"checkpoint is {checkpoint.block_number}, expected {start - 1}")
        existing = {
            (h, i): removed
            for h, i, removed in ChainEvent.objects.filter(
                chain=chain, block_number__gte=start, block_number__lte=end
            ).values_list("block_hash", "log_index", "removed")
        }
        writer = _RangeWriter(chain, outcome)
        writer.load_escrows(
            {log.address for log in logs} | {log.args["escrow"] for log in logs if "escrow" in log.args}
        )
        writer.load_settlements(logs)
        restored = []
        fresh: list[tuple[DecodedLog, ChainEvent]] = []
        rows: list[dict] = []
        kept: list[tuple[DecodedLog, Escrow | None]] = []
        for log in logs:
            key = (log.block_hash, log.log_index)
            if key in existing and not existing[key]:
                outcome.skipped += 1
                continue
            if log.spec.name == "EscrowCreated" and log.spec.contract == "EscrowFactory":
                escrow = writer.escrow_for_created(log)
            else:
                escrow = writer.escrows.get(log.address)
                if escrow is None and isinstance(log.args.get("escrow"), str):
                    escrow = writer.escrows.get(log.args["escrow"])
            rows.append(
                {
                    "chain_id": chain.pk,
                    "block_number": log.block_number,
                    "block_hash": log.block_hash,
                    "block_time": headers[log.block_number].time,
                    "tx_hash": log.tx_hash,
                    "log_index": log.log_index,
                    "address": log.address,
                    "escrow_id": escrow.pk if escrow else None,
                    "contract": log.spec.contract,
                    "event_name": log.spec.name,
                    "args": log.args,
                    "seq": log.seq,
                }
            )
            kept.append((log, escrow))
        for (log, escrow), ev in zip(kept, new_instances(ChainEvent, rows), strict=True):
            if escrow is not None:
                ChainEvent.escrow.field.set_cached_value(ev, escrow)
            if (log.block_hash, log.log_index) in existing:
                restored.append(ev)  # removed by a reorg, canonical again (the chain went back)
            fresh.append((log, ev))
        if restored:
            ChainEvent.objects.filter(
                chain=chain, block_hash__in=[e.block_hash for e in restored], removed=True
            ).update(removed=False, removed_at=None)
            by_key = {
                (e.block_hash, e.log_index): e
                for e in ChainEvent.objects.filter(chain=chain, block_hash__in=[e.block_hash for e in restored])
            }
            fresh = [(log, by_key.get((ev.block_hash, ev.log_index), ev)) for log, ev in fresh]
        drafts: list[EventDraft] = []
        for log, ev in fresh:
            # The escrow row is created in this transaction: its events need no sequence look-up.
            first = ev.escrow is not None and ev.escrow.address in writer.new
            draft = _draft(chain, ev, f"escrow.{log.spec.snake_name}", _event_payload(chain, ev), first=first)
            ev.event_id = draft.id
            drafts.append(draft)
            writer.handle(log, ev, replaying=not advance)
            outcome.recorded += 1
        writer.apply_moves()
        copy_insert(list(writer.new.values()))  # in their state after the range's logs
        inserted = set(writer.new)
        events_record(drafts)  # one batch: the range's events are the bulk of its writes
        _fail_point("after_event_log")
        copy_insert([ev for _, ev in fresh if ev.pk is None])
        if restored:
            update_rows([ev for _, ev in fresh if ev.pk is not None], ["event_id"])
        writer.raise_flags()
        _instructions_rebuild(chain=chain, events=[ev for _, ev in fresh])
        _fail_point("after_chain_events")
        if not advance or restored:
            for address in {ev.escrow.address for _, ev in fresh if ev.escrow}:
                escrow = writer.escrows[address]
                _escrow_replay(escrow)
                outcome.touched.add(address)
                inserted.discard(address)  # its replayed state is newer than the inserted one
        _escrows_update([writer.escrows[address] for address in outcome.touched - inserted])
        if advance:
            end_header = headers[end]
            checkpoint.block_number = end
            checkpoint.block_hash = end_header.hash
            checkpoint.block_time = end_header.time
            marks = {n: h for n, h in checkpoint.recent_blocks}
            marks.update({log.block_number: log.block_hash for log in logs})
            marks[end] = end_header.hash
            checkpoint.recent_blocks = sorted(marks.items())[-settings.RELAYER_REORG_HISTORY :]
            checkpoint.save(update_fields=["block_number", "block_hash", "block_time", "recent_blocks", "updated_at"])
    return outcome


# ------------------------------------------------------------------ reorgs


@dataclass
class ReorgOutcome:
    removed: int = 0
    reverted_settlements: int = 0
    flags: int = 0


def reorg_apply(*, chain: Chain, ancestor: int, ancestor_hash: str, canonical: dict[int, str | None]) -> ReorgOutcome:
    """Rewinds a chain to its common ancestor with the canonical chain.

    Events above the ancestor whose block is no longer canonical are marked removed, each with an
    `escrow.event_removed` event; affected escrows are replayed from their remaining events. A
    settlement funded by an orphaned EscrowCreated goes back to pending (`settlement.reverted`); a
    settlement an orphaned event moved into a terminal state is NOT rewritten — money may have left
    already — it is flagged for treasury (reorg_terminal) and logged at error level. If the same
    outcome is re-confirmed on the new chain the flag resolves itself.
    """
    outcome = ReorgOutcome()
    with transaction.atomic():
        checkpoint = Checkpoint.objects.select_for_update().get(chain=chain)
        orphaned = [
            ev
            for ev in ChainEvent.objects.filter(chain=chain, block_number__gt=ancestor, removed=False)
            .select_related("escrow")
            .order_by("-block_number", "-log_index")
            if canonical.get(ev.block_number) != ev.block_hash
        ]
        now = timezone.now()
        affected: dict[str, Escrow] = {}
        for ev in orphaned:
            ev.removed = True
            ev.removed_at = now
            ev.save(update_fields=["removed", "removed_at"])
            outcome.removed += 1
            removal = {
                **_event_payload(chain, ev),
                "removed_event_id": ev.event_id,
                "reason": "reorg",
                "common_ancestor": ancestor,
                "canonical_block_hash": canonical.get(ev.block_number),
            }
            events_record([_draft(chain, ev, "escrow.event_removed", removal)])
            escrow = ev.escrow
            if escrow is None:
                continue
            affected[escrow.pk] = escrow
            if escrow.settlement_id is None:
                continue
            settlement = Settlement.objects.get(pk=escrow.settlement_id)
            facts = {"escrow": {**_chain_facts(chain, ev), "removed_by_reorg": True}}
            terminal_event = ev.event_name in RELEASE_EVENTS | REFUND_EVENTS | {"ArbiterDecided"}
            if terminal_event and settlement.is_terminal:
                flag_raise(
                    chain=chain,
                    kind=FlagKind.REORG_TERMINAL,
                    detail=(
                        f"A reorg removed {ev.event_name} of escrow {escrow.address} (block {ev.block_number}, tx "
                        f"{ev.tx_hash}) that made settlement {settlement.id} {settlement.status}. The settlement "
                        "was left as it is: check the escrow on chain before acting."
                    ),
                    escrow=escrow,
                    chain_event=ev,
                    settlement=settlement,
                )
                outcome.flags += 1
            elif ev.event_name == "EscrowCreated":
                if settlement.status == SettlementStatus.FUNDED:
                    settlement_services.settlement_revert_for_reorg(
                        settlement_id=settlement.id,
                        to_status=SettlementStatus.PENDING,
                        actor=RELAYER_ACTOR,
                        reason=f"reorg removed the funding of escrow {escrow.address} on {chain.name}",
                        event_data=facts,
                    )
                    outcome.reverted_settlements += 1
                elif settlement.is_terminal:
                    flag_raise(
                        chain=chain,
                        kind=FlagKind.REORG_TERMINAL,
                        detail=(
                            f"A reorg removed the creation of escrow {escrow.address} backing settlement "
                            f"{settlement.id}, which is already {settlement.status}; it was left as it is."
                        ),
                        escrow=escrow,
                        chain_event=ev,
                        settlement=settlement,
                    )
                    outcome.flags += 1
                escrow.settlement = None
        for escrow in affected.values():
            _escrow_replay(escrow)
            escrow.save()
        _instructions_rebuild(chain=chain, events=orphaned)
        checkpoint.block_number = ancestor
        checkpoint.block_hash = ancestor_hash
        checkpoint.recent_blocks = [[n, h] for n, h in checkpoint.recent_blocks if n <= ancestor]
        checkpoint.reorgs += 1
        checkpoint.save(update_fields=["block_number", "block_hash", "recent_blocks", "reorgs", "updated_at"])
    logger.warning(
        "relayer.reorg",
        extra={"chain": chain.name, "ancestor": ancestor, "removed": outcome.removed, "flags": outcome.flags},
    )
    return outcome
