"""JSON-RPC providers of one chain: failover, backoff with jitter and a circuit breaker per provider.

web3.py's HTTPProvider does the transport (its own retries are off: it does not retry
`requests.exceptions.*` anyway). Each call goes to the first usable provider by priority; a
transport error, timeout, HTTP 429/5xx, malformed reply or server-side JSON-RPC error counts against
that provider and the call moves on to the next one. When every provider failed in a round the pool
sleeps (exponential backoff with jitter) and tries again, a bounded number of rounds.
"""

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests
from web3 import HTTPProvider

logger = logging.getLogger(__name__)

# Providers phrase "your range/result set is too big" differently; these cover geth, erigon,
# Alchemy, Infura, QuickNode and anvil style messages.
_RANGE_ERROR = re.compile(
    r"(too many (results|logs|blocks))|(more than \d+ results)|(block range)|(range (is )?too (large|wide|big))"
    r"|(exceed(s|ed)? .*(limit|range|results))|(limit exceeded)|(response size)|(query timeout)",
    re.IGNORECASE,
)


class RpcError(Exception):
    """Base of everything the provider layer raises."""


class ProviderError(RpcError):
    """One provider failed one call (transport, timeout, 429, 5xx, bad reply, server error)."""


class RangeTooLarge(RpcError):
    """A provider refused an eth_getLogs range or result size: shrink the range, don't fail over."""


class AllProvidersFailed(RpcError):
    """No provider could serve a call within the retry budget."""


@dataclass
class PoolConfig:
    timeout: float = 10.0
    retry_rounds: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    breaker_failures: int = 3
    breaker_cooldown: float = 30.0
    head_lag_tolerance: int = 5

    @classmethod
    def from_settings(cls) -> "PoolConfig":
        from django.conf import settings

        return cls(
            timeout=settings.RELAYER_RPC_TIMEOUT_SECONDS,
            retry_rounds=settings.RELAYER_RETRY_ROUNDS,
            backoff_base=settings.RELAYER_BACKOFF_BASE_SECONDS,
            backoff_max=settings.RELAYER_BACKOFF_MAX_SECONDS,
            breaker_failures=settings.RELAYER_BREAKER_FAILURES,
            breaker_cooldown=settings.RELAYER_BREAKER_COOLDOWN_SECONDS,
            head_lag_tolerance=settings.RELAYER_HEAD_LAG_TOLERANCE_BLOCKS,
        )


def backoff_delay(attempt: int, *, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff: uniform in [0.5, 1] x min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * 2 ** min(attempt, 30))
    return ceiling * (0.5 + rng() / 2)


@dataclass
class Endpoint:
    """A provider as seen during one tick; `db_id` ties it back to its RpcProvider row."""

    name: str
    url: str
    db_id: int | None = None
    head: int | None = None
    failures: int = 0
    open_until: float = 0.0  # time.time() until which the breaker is open
    chain_id_ok: bool = False
    lagging: bool = False
    last_error: str = ""
    error_count: int = 0
    ok_count: int = 0
    _http: HTTPProvider | None = field(default=None, repr=False)

    def http(self, timeout: float) -> HTTPProvider:
        if self._http is None:
            self._http = HTTPProvider(self.url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        return self._http

    def available(self, now: float) -> bool:
        # An open breaker lets one trial call through once its cooldown is over (half-open).
        return self.open_until <= now


def _check_response(response, method: str):
    if not isinstance(response, dict):
        raise ProviderError(f"{method}: malformed reply {str(response)[:200]}")
    error = response.get("error")
    if error:
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        if method == "eth_getLogs" and _RANGE_ERROR.search(message):
            raise RangeTooLarge(message)
        raise ProviderError(f"{method}: JSON-RPC error {message[:300]}")
    if "result" not in response:
        raise ProviderError(f"{method}: reply without result")
    return response["result"]


class ProviderPool:
    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        *,
        chain_id: int,
        config: PoolConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.endpoints = list(endpoints)
        self.chain_id = chain_id
        self.config = config or PoolConfig()
        self.sleep = sleep

    # ------------------------------------------------------------------ bookkeeping
    def _failed(self, endpoint: Endpoint, error: Exception) -> None:
        endpoint.failures += 1
        endpoint.error_count += 1
        endpoint.last_error = f"{type(error).__name__}: {error}"[:1000]
        if endpoint.failures >= self.config.breaker_failures:
            endpoint.open_until = time.time() + self.config.breaker_cooldown
            logger.warning(
                "relayer.provider_circuit_open",
                extra={
                    "provider": endpoint.name,
                    "error": endpoint.last_error,
                    "cooldown": self.config.breaker_cooldown,
                },
            )
        else:
            logger.info("relayer.provider_error", extra={"provider": endpoint.name, "error": endpoint.last_error})

    def _succeeded(self, endpoint: Endpoint) -> None:
        endpoint.failures = 0
        endpoint.open_until = 0.0
        endpoint.ok_count += 1

    def _raw(self, endpoint: Endpoint, method: str, params: list):
        try:
            response = endpoint.http(self.config.timeout).make_request(method, params)
        except requests.exceptions.RequestException as exc:
            # HTTPError covers 429 and 5xx (raise_for_status); Timeout and ConnectionError the rest.
            raise ProviderError(f"{method}: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # unparsable body
            raise ProviderError(f"{method}: bad reply: {exc}") from exc
        return _check_response(response, method)

    def _raw_batch(self, endpoint: Endpoint, calls: list[tuple[str, list]]) -> list:
        try:
            responses = endpoint.http(self.config.timeout).make_batch_request(calls)
        except requests.exceptions.RequestException as exc:
            raise ProviderError(f"batch: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            raise ProviderError(f"batch: bad reply: {exc}") from exc
        if not isinstance(responses, list) or len(responses) != len(calls):
            raise ProviderError(f"batch: malformed reply {str(responses)[:200]}")
        return [_check_response(r, method) for r, (method, _) in zip(responses, calls, strict=True)]

    def _verify_chain_id(self, endpoint: Endpoint) -> None:
        if endpoint.chain_id_ok:
            return
        reported = int(self._raw(endpoint, "eth_chainId", []), 16)
        if reported != self.chain_id:
            # Wrong network: keep it out for the whole cooldown, whatever its failure count.
            endpoint.failures = max(endpoint.failures, self.config.breaker_failures - 1)
            raise ProviderError(f"eth_chainId is {reported}, expected {self.chain_id}")
        endpoint.chain_id_ok = True

    # ------------------------------------------------------------------ heads
    def refresh_heads(self) -> int:
        """Reads every usable provider's head (verifying its chain id first); returns the best head."""
        now = time.time()
        for endpoint in self.endpoints:
            endpoint.lagging = False
            if not endpoint.available(now):
                continue
            try:
                self._verify_chain_id(endpoint)
                endpoint.head = int(self._raw(endpoint, "eth_blockNumber", []), 16)
                self._succeeded(endpoint)
            except ProviderError as exc:
                endpoint.head = None
                self._failed(endpoint, exc)
        heads = [e.head for e in self.endpoints if e.head is not None and e.available(time.time())]
        if not heads:
            raise AllProvidersFailed(self.failure_summary("no provider returned a head"))
        best = max(heads)
        for endpoint in self.endpoints:
            if endpoint.head is not None and endpoint.head < best - self.config.head_lag_tolerance:
                endpoint.lagging = True
                endpoint.last_error = f"head {endpoint.head} lags the best head {best}"
                logger.info(
                    "relayer.provider_lagging", extra={"provider": endpoint.name, "head": endpoint.head, "best": best}
                )
        return best

    def failure_summary(self, what: str) -> str:
        details = "; ".join(f"{e.name}: {e.last_error or 'no error'}" for e in self.endpoints)
        return f"{what} ({details})" if self.endpoints else f"{what} (no providers configured)"

    # ------------------------------------------------------------------ calls
    def _candidates(self, *, min_head: int | None, exclude: set[str]) -> list[Endpoint]:
        now = time.time()
        return [
            e
            for e in self.endpoints
            if e.name not in exclude
            and e.available(now)
            and e.chain_id_ok
            and not e.lagging
            and (min_head is None or (e.head is not None and e.head >= min_head))
        ]

    def run(
        self, fn: Callable[[Endpoint], object], *, what: str, min_head: int | None = None, exclude: Iterable[str] = ()
    ) -> tuple[object, Endpoint]:
        """Runs fn(endpoint) on the first provider that succeeds; RangeTooLarge is passed up as is."""
        excluded = set(exclude)
        for attempt in range(self.config.retry_rounds):
            candidates = self._candidates(min_head=min_head, exclude=excluded)
            for endpoint in candidates:
                try:
                    result = fn(endpoint)
                except ProviderError as exc:
                    self._failed(endpoint, exc)
                    continue
                self._succeeded(endpoint)
                return result, endpoint
            if attempt + 1 < self.config.retry_rounds:
                self.sleep(backoff_delay(attempt, base=self.config.backoff_base, cap=self.config.backoff_max))
        raise AllProvidersFailed(self.failure_summary(f"{what}: every provider failed"))

    def call(self, method: str, params: list, **kwargs):
        result, _ = self.run(lambda e: self._raw(e, method, params), what=method, **kwargs)
        return result

    def batch(self, calls: list[tuple[str, list]], **kwargs) -> list:
        result, _ = self.run(lambda e: self._raw_batch(e, calls), what=f"batch of {len(calls)}", **kwargs)
        return result

    def call_on(self, endpoint: Endpoint, method: str, params: list):
        """One call on one given provider (used to cross-check a suspicious answer)."""
        try:
            result = self._raw(endpoint, method, params)
        except ProviderError as exc:
            self._failed(endpoint, exc)
            raise
        self._succeeded(endpoint)
        return result
