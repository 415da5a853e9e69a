"""One relayer tick for one chain: lock, heads, reorg check, then confirmed ranges until caught up.

Nothing here writes to the database directly; `escrow.services` does, one transaction per range.
"""

import contextvars
import gc
import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from escrow import services
from escrow.models import CONTRACT_ABI, Chain, ChainEvent, Checkpoint, Escrow, EscrowState, WatchedContract
from escrow.relayer.fetch import InconsistentRange, RangeFetcher, fetch_headers
from escrow.relayer.providers import Endpoint, PoolConfig, ProviderPool, RangeTooLarge, RpcError

logger = logging.getLogger(__name__)


class ReorgTooDeep(RpcError):
    """No stored block hash is canonical any more: the reorg is deeper than the kept history."""


@dataclass
class TickResult:
    chain: str
    status: str = "ok"  # ok | locked | error | disabled
    head: int | None = None
    target: int | None = None
    from_block: int | None = None
    to_block: int | None = None
    ranges: int = 0
    events: int = 0
    blocks: int = 0
    reorgs: int = 0
    removed: int = 0
    error: str = ""
    providers: dict = field(default_factory=dict)


def _lock_key(chain_id: int) -> int:
    digest = hashlib.blake2b(f"escrow.relay:{chain_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def chain_lock(chain: Chain):
    """A session-level PostgreSQL advisory lock for the whole tick; yields False if someone holds it."""
    if connection.vendor != "postgresql":  # make run on SQLite: one local relayer process
        yield True
        return
    key = _lock_key(chain.chain_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def build_pool(chain: Chain, *, config: PoolConfig | None = None, sleep=time.sleep) -> ProviderPool:
    endpoints = []
    for row in chain.providers.filter(enabled=True).order_by("priority", "id"):
        endpoints.append(
            Endpoint(
                name=row.name,
                url=row.url,
                db_id=row.pk,
                failures=row.consecutive_failures,
                open_until=row.circuit_open_until.timestamp() if row.circuit_open_until else 0.0,
            )
        )
    return ProviderPool(endpoints, chain_id=chain.chain_id, config=config or PoolConfig.from_settings(), sleep=sleep)


class Relayer:
    def __init__(
        self,
        chain: Chain,
        *,
        pool: ProviderPool | None = None,
        progress: Callable[[TickResult], None] | None = None,
    ):
        self.chain = chain
        self.pool = pool or build_pool(chain)
        self.progress = progress
        self.fetcher = RangeFetcher(
            self.pool,
            factory=chain.factory_address,
            max_addresses=settings.RELAYER_MAX_ADDRESSES_PER_CALL,
            header_batch=settings.RELAYER_HEADER_BATCH,
        )
        self.range_size = settings.RELAYER_INITIAL_BLOCK_RANGE

    # -------------------------------------------------------------- reorgs
    def _canonical_hashes(self, numbers: list[int], head: int) -> dict[int, str | None]:
        wanted = [n for n in numbers if n <= head]
        found = fetch_headers(
            self.pool, wanted, batch_size=settings.RELAYER_HEADER_BATCH, min_head=max(wanted, default=0)
        )
        return {n: (found[n].hash if n in found else None) for n in numbers}

    def check_reorg(self, result: TickResult, head: int) -> None:
        checkpoint = Checkpoint.objects.get(chain=self.chain)
        if not checkpoint.block_hash:
            return
        if checkpoint.block_number <= head:
            current = self._canonical_hashes([checkpoint.block_number], head)[checkpoint.block_number]
            if current == checkpoint.block_hash:
                return
        marks = sorted(checkpoint.recent_blocks, reverse=True)
        canonical = self._canonical_hashes([n for n, _ in marks], head)
        ancestor = next(((n, h) for n, h in marks if canonical.get(n) == h), None)
        if ancestor is None:
            if len(marks) >= settings.RELAYER_REORG_HISTORY:
                raise ReorgTooDeep(
                    f"none of the {len(marks)} kept block hashes of {self.chain.name} is canonical: the reorg is "
                    "deeper than RELAYER_REORG_HISTORY; re-sync with `manage.py backfill`"
                )
            # Nothing was pruned yet: the chain's start is a safe common ancestor.
            ancestor = (self.chain.start_block - 1, "")
        number, block_hash = ancestor
        event_blocks = sorted(
            set(
                ChainEvent.objects.filter(chain=self.chain, block_number__gt=number, removed=False).values_list(
                    "block_number", flat=True
                )
            )
        )
        outcome = services.reorg_apply(
            chain=self.chain,
            ancestor=number,
            ancestor_hash=block_hash,
            canonical=self._canonical_hashes(event_blocks, head) if event_blocks else {},
        )
        result.reorgs += 1
        result.removed += outcome.removed

    # -------------------------------------------------------------- ranges
    def _watched(self, *, rescan: bool) -> list[str]:
        escrows = Escrow.objects.filter(chain=self.chain)
        if not rescan:
            escrows = escrows.filter(state=EscrowState.FUNDED) | escrows.filter(payment_pending=True)
        return sorted(set(escrows.values_list("address", flat=True)))

    def _contracts(self) -> dict[str, str]:
        """Watched non-escrow contracts (cross-chain handler/sender) → the ABI that decodes their logs."""
        return {
            address: CONTRACT_ABI[kind]
            for address, kind in WatchedContract.objects.filter(chain=self.chain, enabled=True).values_list(
                "address", "kind"
            )
        }

    def _process(self, result: TickResult, start: int, end: int, *, advance: bool, deadline: float) -> int:
        """Processes [start, end] in adaptive ranges; returns the last block done.

        While one range is written, the next is fetched on a second thread: the write spends much of
        its time waiting on PostgreSQL and the fetch on the node, so each hides part of the other.
        """
        done = start - 1
        inconsistent = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"relay-{self.chain.name}") as ahead:
            prefetched: _Prefetch | None = None
            while done < end and time.monotonic() < deadline:
                with _cyclic_gc_paused():
                    upper = min(end, done + self.range_size)
                    wanted = _Prefetch(done + 1, upper, self._watched(rescan=not advance), self._contracts())
                    if prefetched is None or not prefetched.covers(wanted):
                        prefetched = wanted.submit(ahead, self.fetcher)
                    try:
                        fetched = prefetched.future.result()
                    except RangeTooLarge as exc:
                        prefetched = None
                        if self.range_size == 1:
                            raise
                        self.range_size = max(1, self.range_size // 2)
                        logger.info(
                            "relayer.range_shrunk",
                            extra={"chain": self.chain.name, "size": self.range_size, "error": str(exc)},
                        )
                        continue
                    except InconsistentRange:
                        prefetched = None
                        inconsistent += 1
                        if inconsistent > 2:
                            raise
                        continue
                    if len(fetched.logs) < settings.RELAYER_QUIET_LOGS_PER_RANGE:
                        self.range_size = min(settings.RELAYER_MAX_BLOCK_RANGE, self.range_size * 2)
                    prefetched = None
                    if upper < end and settings.RELAYER_FETCH_AHEAD and time.monotonic() < deadline:
                        # Escrows created in this range are watched from the next one on.
                        prefetched = _Prefetch(
                            upper + 1,
                            min(end, upper + self.range_size),
                            sorted({*wanted.watched, *fetched.new_escrows}),
                            wanted.contracts,
                        ).submit(ahead, self.fetcher)
                    if advance:
                        checkpoint = Checkpoint.objects.get(chain=self.chain)
                        first = fetched.headers[done + 1]
                        if checkpoint.block_hash and first.parent_hash != checkpoint.block_hash:
                            raise _ReorgSeen()
                    outcome = services.range_apply(
                        chain=self.chain,
                        start=done + 1,
                        end=upper,
                        logs=fetched.logs,
                        headers=fetched.headers,
                        advance=advance,
                    )
                    result.ranges += 1
                    result.events += outcome.recorded
                    result.blocks += upper - done
                    result.to_block = upper
                    done = upper
                    if self.progress:
                        self.progress(result)
        return done

    # -------------------------------------------------------------- tick
    def tick(
        self, *, from_block: int | None = None, to_block: int | None = None, time_budget: float | None = None
    ) -> TickResult:
        result = TickResult(chain=self.chain.name)
        if not self.chain.enabled and from_block is None:
            result.status = "disabled"
            return result
        deadline = time.monotonic() + (
            time_budget if time_budget is not None else settings.RELAYER_TICK_TIME_BUDGET_SECONDS
        )
        services.chain_sync_providers_from_settings(chain=self.chain)
        services.chain_sync_watched_contracts_from_settings(chain=self.chain)
        Checkpoint.objects.get_or_create(chain=self.chain, defaults={"block_number": self.chain.start_block - 1})
        with chain_lock(self.chain) as acquired:
            if not acquired:
                result.status = "locked"
                logger.info("relayer.tick_skipped_locked", extra={"chain": self.chain.name})
                return result
            head_time = None
            try:
                head = self.pool.refresh_heads()
                result.head = head
                head_header = fetch_headers(self.pool, [head], batch_size=1, min_head=head).get(head)
                head_time = head_header.time if head_header else None
                target = head - self.chain.confirmation_depth
                if to_block is not None:
                    target = min(target, to_block)
                result.target = target
                for _ in range(5):
                    try:
                        self._run_ranges(result, target, from_block=from_block, deadline=deadline)
                        break
                    except _ReorgSeen:
                        from_block = None
                        continue
            except (RpcError, services.CheckpointMoved) as exc:
                result.status = "error"
                result.error = f"{type(exc).__name__}: {exc}"
                logger.error(
                    "relayer.tick_failed",
                    extra={
                        "chain": self.chain.name,
                        "error": result.error,
                        "resume_from": self._checkpoint_number() + 1,
                    },
                )
            finally:
                services.providers_save_health(endpoints=self.pool.endpoints)
                services.checkpoint_record_tick(
                    chain=self.chain, head=result.head, head_time=head_time, error=result.error
                )
                result.providers = {e.name: {"head": e.head, "error": e.last_error} for e in self.pool.endpoints}
        self._log_tick(result)
        return result

    def _log_tick(self, result: TickResult) -> None:
        """One line per tick: the relayer-lag SLO in Cloud Monitoring is computed from it."""
        checkpoint = Checkpoint.objects.filter(chain=self.chain).values("block_number", "block_time").first()
        extra = {"chain": self.chain.name, "status": result.status, "head": result.head}
        if checkpoint and checkpoint["block_time"] and result.status != "error":
            extra["checkpoint"] = checkpoint["block_number"]
            extra["lag_blocks"] = (result.head or 0) - checkpoint["block_number"]
            extra["lag_seconds"] = round((timezone.now() - checkpoint["block_time"]).total_seconds(), 3)
        logger.info("relayer.tick", extra=extra)

    def _checkpoint_number(self) -> int:
        return Checkpoint.objects.filter(chain=self.chain).values_list("block_number", flat=True).first() or 0

    def _run_ranges(self, result: TickResult, target: int, *, from_block: int | None, deadline: float) -> None:
        self.check_reorg(result, result.head)
        checkpoint = Checkpoint.objects.get(chain=self.chain)
        if from_block is not None and from_block > checkpoint.block_number + 1:
            services.checkpoint_start_at(chain=self.chain, block_number=from_block)
            checkpoint.refresh_from_db()
        if result.from_block is None:
            result.from_block = from_block if from_block is not None else checkpoint.block_number + 1
        if from_block is not None and from_block <= checkpoint.block_number:
            # Backfill over blocks already processed: re-scan without moving the checkpoint.
            self._process(result, from_block, min(checkpoint.block_number, target), advance=False, deadline=deadline)
        if checkpoint.block_number < target:
            self._process(result, checkpoint.block_number + 1, target, advance=True, deadline=deadline)


@contextmanager
def _cyclic_gc_paused():
    """Runs one range without the cyclic garbage collector.

    A range keeps ~10 objects per log alive until it commits (decoded logs, chain events, event
    rows, payloads), so the collector's thresholds trip a full collection that walks the whole heap
    (Django, web3, psycopg: 0.1 s and more) and finds nothing: these objects are freed by reference
    counting. Paused for one range at a time, the memory it can hold back stays bounded.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Prefetch:
    """A range fetch (maybe running ahead on the fetch thread) and what it asked the node for."""

    start: int
    end: int
    watched: list[str]
    contracts: dict[str, str]
    future: Future | None = None

    def covers(self, wanted: "_Prefetch") -> bool:
        # Watching more escrows than needed only records their logs; watching fewer would miss some.
        return (
            (self.start, self.end) == (wanted.start, wanted.end)
            and self.contracts == wanted.contracts
            and set(wanted.watched) <= set(self.watched)
        )

    def submit(self, executor: ThreadPoolExecutor, fetcher: RangeFetcher) -> "_Prefetch":
        # The fetch thread logs with the tick's context (request id, task).
        context = contextvars.copy_context()
        self.future = executor.submit(
            context.run, fetcher.fetch, start=self.start, end=self.end, watched=self.watched, contracts=self.contracts
        )
        return self


class _ReorgSeen(Exception):
    """The next block's parent is not the checkpoint: a reorg happened since the check."""


def relay_tick(*, chain: Chain, **kwargs) -> TickResult:
    return Relayer(chain).tick(**kwargs)


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
