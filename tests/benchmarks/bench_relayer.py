"""Relayer backfill throughput (events/s, blocks/s) as a ratio to a bare loop of eth_getLogs plus
decoding against the same anvil, in the same run.

Real pieces: anvil (Foundry from contracts/node_modules, factory from contracts/out), a scratch
PostgreSQL database, the relayer's full path (provider pool, verification, one transaction per range
with chain events, projections, event-log rows and webhook hooks, checkpoint).

The relayer runs with the production range settings (100 blocks first, doubling while quiet), so it
writes several ranges and fetches each next one while writing; the bare loop reads the blocks in
RANGE-block calls (one, by default): its cheapest way, with the fewest round trips.

The machines are shared and noisy, so both sides run several times, interleaved (bare, relayer, bare,
…, bare), and the ratio is of the medians. Each relayer round backfills the same blocks from its own
copy of the warmed-up database (BENCH_RELAYER_ROUNDS copies).

BENCH_RELAYER_RPC_DELAY_MS puts both sides behind a proxy (in its own process) adding that much to
every RPC call, as a remote node would; with RELAYER_FETCH_AHEAD=false the relayer fetches and
writes in turn, so the two runs show what fetching ahead buys.
"""

import contextlib
import cProfile
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import Counter
from urllib.parse import urlparse, urlunparse

import psycopg

from tests.benchmarks.support import bench_env, fresh_database, report

ESCROWS = int(os.environ.get("BENCH_RELAYER_ESCROWS", "800"))
PER_WAVE = int(os.environ.get("BENCH_RELAYER_PER_WAVE", "50"))
EMPTY_BLOCKS = int(os.environ.get("BENCH_RELAYER_EMPTY_BLOCKS", "40"))
RANGE = int(os.environ.get("BENCH_RELAYER_RANGE", "2000"))  # the bare loop's
# A path: the first relayer round runs under cProfile and its stats are written there (the timings then
# include the profiler's overhead, so the ratio is not comparable).
PROFILE = os.environ.get("BENCH_RELAYER_PROFILE", "")
RPC_DELAY_MS = float(os.environ.get("BENCH_RELAYER_RPC_DELAY_MS", "0"))
ROUNDS = int(os.environ.get("BENCH_RELAYER_ROUNDS", "3"))
# 1: every escrow backs a settlement of ours (escrow rail, matching amount), so the backfill also
# moves each settlement funded → settled/refunded through the settlement services; 0: foreign refs.
SETTLEMENTS = os.environ.get("BENCH_RELAYER_SETTLEMENTS", "0") == "1"


def _delayed(url: str) -> tuple[str, multiprocessing.Process | None]:
    """The URL both sides read from: anvil's, or a delaying proxy's in a process of its own."""
    if not RPC_DELAY_MS:
        return url, None
    from tests.escrow.support.rpcproxy import serve_delayed

    ctx = multiprocessing.get_context("spawn")
    urls = ctx.Queue()
    process = ctx.Process(target=serve_delayed, args=(url, RPC_DELAY_MS / 1000, urls), daemon=True)
    process.start()
    return urls.get(timeout=30), process


def _bare_loop(driver, addresses: list[str], start: int, end: int, record=None) -> tuple[int, float, float]:
    """eth_getLogs and decoding over the blocks; `record(logs)`, if given, stores each call's decoded logs."""
    from escrow.relayer.decoding import decode_log

    began, cpu = time.perf_counter(), time.process_time()
    events = 0
    for lo in range(start, end + 1, RANGE):
        hi = min(end, lo + RANGE - 1)
        for i in range(0, len(addresses), 500):
            decoded = [d for d in map(decode_log, driver.get_logs(addresses[i : i + 500], lo, hi)) if d is not None]
            events += len(decoded)
            if record:
                record(decoded)
    return events, time.perf_counter() - began, time.process_time() - cpu


FLOOR_TABLE = """CREATE TABLE bench_floor_events (
    block_number bigint NOT NULL, block_hash text NOT NULL, log_index integer NOT NULL, tx_hash text NOT NULL,
    address text NOT NULL, event text NOT NULL, args jsonb NOT NULL, PRIMARY KEY (block_hash, log_index))"""


def _floor_recorder(conn):
    """The least a relayer recording every event durably does: one COPY of the decoded logs and a commit
    (a fresh table each round, so the primary key sees the same inserts)."""
    import orjson

    conn.execute("DROP TABLE IF EXISTS bench_floor_events")
    conn.execute(FLOOR_TABLE)
    conn.commit()

    def record(decoded) -> None:
        with conn.cursor().copy("COPY bench_floor_events FROM STDIN") as copy:
            for d in decoded:
                copy.write_row(
                    (
                        d.block_number,
                        d.block_hash,
                        d.log_index,
                        d.tx_hash,
                        d.address,
                        d.spec.name,
                        orjson.dumps(d.args).decode(),
                    )
                )
        conn.commit()

    return record


ESCROW_WEI = 10**15


def _settlement_refs(count: int) -> list[str]:
    """Pending escrow-rail settlements for the escrows to fund, one each; their on-chain refs."""
    from decimal import Decimal

    from escrow.refs import settlement_ref_for
    from settlements.services import settlement_create

    amount = Decimal(ESCROW_WEI).scaleb(-18)
    return [
        settlement_ref_for(
            settlement_create(
                reference=f"bench-{i}",
                payer_reference="bench-payer",
                payee_reference="bench-payee",
                amount=amount,
                asset="ETH",
                actor="bench",
                rail="escrow",
                chain_id=31337,
            ).id
        )
        for i in range(count)
    ]


def _admin(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def _database_copies(url: str, count: int) -> list[str]:
    """Copies of the warmed-up database (PostgreSQL templates): each relayer round starts from the same state."""
    from django.db import connections

    connections.close_all()
    name = urlparse(url).path.lstrip("/")
    copies = [f"{name}_round{i}" for i in range(count)]
    _drop(url, copies)
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        for copy in copies:
            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return copies


def _drop(url: str, names: list[str]) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run() -> dict:
    url = fresh_database("relayer")
    os.environ.update(bench_env(url))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from escrow.localchain import Anvil, ChainDriver, escrow_wave
    from escrow.relayer.runner import Relayer
    from escrow.services import chain_register
    from settlements.models import Settlement

    node = Anvil().start()
    proxy = None
    try:
        driver = ChainDriver(node.url)
        factory, start = driver.deploy_factory()
        rng = random.Random(1)
        refs = _settlement_refs(ESCROWS) if SETTLEMENTS else []
        addresses: list[str] = []
        began = time.perf_counter()
        warm_end = None
        while len(addresses) < ESCROWS:
            count = min(PER_WAVE, ESCROWS - len(addresses))
            wave_refs = refs[len(addresses) : len(addresses) + count]
            addresses += escrow_wave(driver, count=count, rng=rng, refs=wave_refs, amount=ESCROW_WEI)
            driver.mine(EMPTY_BLOCKS)
            warm_end = warm_end or driver.block_number()
        setup_s = time.perf_counter() - began
        end = driver.block_number()
        rpc_url, proxy = _delayed(node.url)
        reader = ChainDriver(rpc_url)
        chain = chain_register(
            name="bench",
            chain_id=31337,
            factory_address=factory,
            start_block=start,
            confirmation_depth=0,
            rpc_urls=[rpc_url],
            tokens={"native": "ETH"},
        )
        # Both sides first run over the first wave's blocks, untimed: a relayer lives in a long-running
        # worker, so first-use costs (imports, broker and cache connections) are not per-tick costs.
        _bare_loop(reader, [factory, *addresses], start, warm_end)
        warm = Relayer(chain).tick(from_block=start, to_block=warm_end, time_budget=float("inf"))
        if warm.status != "ok":
            raise SystemExit(f"warm-up tick failed: {warm.status} {warm.error}")
        start = warm_end + 1
        blocks = end - start + 1

        copies = _database_copies(url, ROUNDS)
        bare_runs, floor_runs, relayer_runs = [], [], []
        floor_conn = psycopg.connect(url)
        for i, copy in enumerate(copies):  # interleaved, so a noisy moment hits both sides
            bare_runs.append(_bare_loop(reader, [factory, *addresses], start, end))
            floor_runs.append(_bare_loop(reader, [factory, *addresses], start, end, _floor_recorder(floor_conn)))
            connection.close()
            connection.settings_dict["NAME"] = copy
            profiler = cProfile.Profile() if PROFILE and i == 0 else contextlib.nullcontext()
            began, cpu = time.perf_counter(), time.process_time()
            with profiler:
                result = Relayer(chain).tick(to_block=end, time_budget=float("inf"))
            relayer_runs.append((result, time.perf_counter() - began, time.process_time() - cpu))
            if PROFILE and i == 0:
                profiler.dump_stats(PROFILE)
            if i == 0:
                statuses = dict(Counter(Settlement.objects.values_list("status", flat=True)))
        bare_runs.append(_bare_loop(reader, [factory, *addresses], start, end))
        floor_conn.close()
        connection.close()
        _drop(url, copies)
        bare_events = bare_runs[0][0]
        for result, *_ in relayer_runs:
            if result.status != "ok" or result.events != bare_events:
                raise SystemExit(
                    f"relayer recorded {result.events} of {bare_events} events: {result.status} {result.error}"
                )
        bare_s, bare_cpu = (statistics.median(run[i] for run in bare_runs) for i in (1, 2))
        relayer_s, relayer_cpu = (statistics.median(run[i] for run in relayer_runs) for i in (1, 2))
        floor_s = statistics.median(run[1] for run in floor_runs)
        bare_eps, relayer_eps = bare_events / bare_s, bare_events / relayer_s
        return report(
            "bench_relayer",
            {
                "escrows": len(addresses),
                "timed_blocks": f"{start}..{end} (after {warm.events} events over blocks ..{warm_end}, untimed)",
                "events": bare_events,
                "blocks": blocks,
                "chain_setup_s": round(setup_s, 1),
                "rpc_delay_ms": RPC_DELAY_MS,
                "fetch_ahead": settings.RELAYER_FETCH_AHEAD,
                "settlement_backed": SETTLEMENTS,
                "settlements_after": statuses,
                "bare_loop": {
                    "seconds": round(bare_s, 3),
                    "runs_s": [round(run[1], 3) for run in bare_runs],
                    "cpu_s": round(bare_cpu, 3),
                    "events_per_s": round(bare_eps),
                    "blocks_per_s": round(blocks / bare_s),
                },
                "relayer_backfill": {
                    "seconds": round(relayer_s, 3),
                    "runs_s": [round(run[1], 3) for run in relayer_runs],
                    "cpu_s": round(relayer_cpu, 3),
                    "events_per_s": round(relayer_eps),
                    "blocks_per_s": round(blocks / relayer_s),
                    "ranges": relayer_runs[0][0].ranges,
                },
                # The bare loop plus one COPY of its decoded logs and a commit per call: the least any relayer
                # recording each event durably does, so bare / floor bounds the ratio a relayer can reach.
                "recording_floor": {
                    "seconds": round(floor_s, 3),
                    "runs_s": [round(run[1], 3) for run in floor_runs],
                    "ratio_to_bare": round(bare_s / floor_s, 3),
                },
                "ratio": round(relayer_eps / bare_eps, 3),
                # CPU of this process (PostgreSQL and anvil not included): steadier than wall time here.
                "cpu_ratio": round(bare_cpu / relayer_cpu, 3),
                "target_ratio": 0.5,
            },
        )
    finally:
        if proxy:
            proxy.terminate()
        node.stop()


if __name__ == "__main__":
    out = run()
    sys.exit(0)
