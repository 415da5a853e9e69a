"""Fetching one block range: the factory's and every watched escrow's logs, verified.

Order inside a range: logs of the factory and the already-known escrows first; escrows created in
the range (EscrowCreated) are then read from their creation block, so none of their events is
missed. Every log's block hash must equal the canonical block's hash, and a provider that answers
"no logs" for blocks whose logsBloom says one of our contracts may have logged is asked again
(another provider first).
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache

from eth_utils import keccak

from escrow.relayer.decoding import DecodedLog, decode_log, topic_of
from escrow.relayer.providers import AllProvidersFailed, Endpoint, ProviderError, ProviderPool, RpcError

logger = logging.getLogger(__name__)


class InconsistentRange(RpcError):
    """The logs and the canonical blocks disagree (a reorg while fetching, or a bad provider)."""


@dataclass(frozen=True)
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    bloom: int

    @cached_property  # every log of a block asks
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=UTC)


@dataclass
class FetchedRange:
    start: int
    end: int
    logs: list[DecodedLog]
    headers: dict[int, Header]
    new_escrows: list[str]
    providers: set[str]

    @property
    def end_header(self) -> Header:
        return self.headers[self.end]


@lru_cache(maxsize=65536)
def bloom_mask(address: str) -> int:
    """The three logsBloom bits (as one int mask) an address sets when it emits a log."""
    digest = keccak(bytes.fromhex(address[2:]))
    mask = 0
    for i in (0, 2, 4):
        mask |= 1 << (((digest[i] << 8) | digest[i + 1]) & 2047)
    return mask


def bloom_may_contain(bloom: int, address: str) -> bool:
    mask = bloom_mask(address)
    return bloom & mask == mask


def parse_header(raw: dict) -> Header:
    return Header(
        number=int(raw["number"], 16),
        hash=raw["hash"].lower(),
        parent_hash=raw["parentHash"].lower(),
        timestamp=int(raw["timestamp"], 16),
        bloom=int(raw["logsBloom"], 16),
    )


def fetch_headers(pool: ProviderPool, numbers: list[int], *, batch_size: int, min_head: int) -> dict[int, Header]:
    headers: dict[int, Header] = {}
    for i in range(0, len(numbers), batch_size):
        chunk = numbers[i : i + batch_size]

        def fn(endpoint: Endpoint, chunk=chunk):
            raws = pool._raw_batch(endpoint, [("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            if any(raw is None for raw in raws):
                raise ProviderError("eth_getBlockByNumber: block not found (provider behind)")
            return [parse_header(raw) for raw in raws]

        result, _ = pool.run(fn, what="eth_getBlockByNumber", min_head=min_head)
        headers.update((h.number, h) for h in result)
    return headers


class RangeFetcher:
    def __init__(self, pool: ProviderPool, *, factory: str, max_addresses: int = 500, header_batch: int = 100):
        self.pool = pool
        self.factory = factory.lower()
        self.max_addresses = max_addresses
        self.header_batch = header_batch
        self.created_topic = topic_of("EscrowFactory", "EscrowCreated")

    def _get_logs_on(self, endpoint: Endpoint, addresses: list[str], start: int, end: int) -> list[dict]:
        logs: list[dict] = []
        for i in range(0, len(addresses), self.max_addresses):
            params = {"fromBlock": hex(start), "toBlock": hex(end), "address": addresses[i : i + self.max_addresses]}
            result = self.pool._raw(endpoint, "eth_getLogs", [params])
            if not isinstance(result, list):
                raise ProviderError("eth_getLogs: result is not a list")
            logs.extend(log for log in result if not log.get("removed"))
        return logs

    def _get_logs(self, addresses: list[str], start: int, end: int, headers: dict[int, Header], used: set[str]):
        """Logs of `addresses` in [start, end]; an empty answer contradicted by logsBloom is asked again."""
        logs, endpoint = self.pool.run(
            lambda e: self._get_logs_on(e, addresses, start, end), what="eth_getLogs", min_head=end
        )
        used.add(endpoint.name)
        if logs:
            return logs
        self._ensure_headers(headers, range(start, end + 1), end)
        if not any(bloom_may_contain(headers[n].bloom, a) for n in range(start, end + 1) for a in addresses):
            return logs
        # The bloom says "maybe": ask again (providers not asked yet first) before believing "none".
        tried = {endpoint.name}
        for _ in range(max(3, 2 * len(self.pool.endpoints))):
            untried = {e.name for e in self.pool.endpoints} - tried
            try:
                again, other = self.pool.run(
                    lambda e: self._get_logs_on(e, addresses, start, end),
                    what="eth_getLogs (bloom recheck)",
                    min_head=end,
                    exclude=tried if untried else (),
                )
            except AllProvidersFailed:
                if not untried:
                    raise
                tried |= untried  # the others are unusable now: ask anyone again
                continue
            tried.add(other.name)
            used.add(other.name)
            if again:
                logger.warning(
                    "relayer.empty_logs_contradicted",
                    extra={"provider": endpoint.name, "confirmed_by": other.name, "from": start, "to": end},
                )
                return again
        logger.info("relayer.bloom_false_positive", extra={"from": start, "to": end, "providers": sorted(tried)})
        return logs

    def _ensure_headers(self, headers: dict[int, Header], numbers, min_head: int) -> None:
        missing = [n for n in numbers if n not in headers]
        if missing:
            headers.update(fetch_headers(self.pool, missing, batch_size=self.header_batch, min_head=min_head))

    def fetch(
        self, *, start: int, end: int, watched: list[str], contracts: dict[str, str] | None = None
    ) -> FetchedRange:
        """`watched`: escrow addresses; `contracts`: other watched addresses → their ABI (contract name)."""
        headers: dict[int, Header] = {}
        used: set[str] = set()
        contracts = {a.lower(): name for a, name in (contracts or {}).items()}
        known = {self.factory, *watched, *contracts}
        raw = self._get_logs(sorted(known), start, end, headers, used)
        created: dict[str, int] = {}
        for log in raw:
            topics = log["topics"]
            if log["address"].lower() == self.factory and topics and topics[0].lower() == self.created_topic:
                escrow = "0x" + topics[1][-40:].lower()
                if escrow not in known:
                    created.setdefault(escrow, int(log["blockNumber"], 16))
        if created:
            first = min(created.values())
            raw += self._get_logs(sorted(created), first, end, headers, used)

        decoded = []
        seen = set()
        for log in raw:
            item = decode_log(log, contract=contracts.get(log["address"].lower()))
            if item is None:
                continue
            key = (item.block_hash, item.log_index)
            if key in seen:
                continue
            seen.add(key)
            decoded.append(item)
        decoded.sort(key=lambda d: (d.block_number, d.log_index))

        self._ensure_headers(headers, sorted({d.block_number for d in decoded} | {start, end}), end)
        for item in decoded:
            canonical = headers[item.block_number].hash
            if item.block_hash != canonical:
                raise InconsistentRange(
                    f"log {item.tx_hash}#{item.log_index} is in block {item.block_hash} but block "
                    f"{item.block_number} is {canonical}"
                )
        return FetchedRange(
            start=start, end=end, logs=decoded, headers=headers, new_escrows=sorted(created), providers=used
        )
