"""Settlement create through the real HTTP stack vs the same writes issued directly with psycopg.

Both sides run the same closed-loop load (processes × threads) for the same time against the same
PostgreSQL, so the ratio holds on a noisy shared machine. Then the API is driven open-loop at half
its measured peak to read p50/p95 latency: the clients' schedules are spread evenly over each
interval and latency counts from the scheduled send time. The load generator shares the server's
cores, so it is the standard library's keep-alive HTTP client, not a heavier one.
"""

import contextlib
import http.client
import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

from tests.benchmarks.support import ROOT, bench_env, fresh_database, report, summary_ms
from tests.support.processes import free_port, stop, wait_for_port

PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP = 2.0
# The latency run's open-loop rate (requests/s); by default half the peak just measured. A fixed rate
# compares two builds at the same load.
STEADY_RATE = float(os.environ.get("BENCH_API_RATE", "0"))


def _body(i: str) -> dict:
    return {
        "reference": f"BENCH-{i}",
        "payer_reference": "acme",
        "payee_reference": "globex",
        "amount": "1250.50",
        "asset": "USD",
    }


def _api_worker(url, key, deadline, rate, offset, out):
    """One keep-alive connection. With a rate, requests go out on a fixed schedule (open loop) and
    latency counts from the scheduled time, so a slow response also charges the requests it delays."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))  # reconnects by itself if the server closes
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies, errors = [], 0
    interval = 1 / rate if rate else 0
    next_at = time.monotonic() + offset * interval
    while True:
        if interval:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            start = next_at
            next_at += interval
        else:
            start = time.monotonic()
        if start >= deadline:
            break
        ident = uuid.uuid4().hex
        conn.request(
            "POST", "/v1/settlements", body=json.dumps(_body(ident)), headers={**headers, "Idempotency-Key": ident}
        )
        response = conn.getresponse()
        body = response.read()
        if response.status == 201:
            latencies.append(time.monotonic() - start)
        else:
            errors += 1
            if errors == 1:
                print(f"API error {response.status}: {body[:300]!r}", flush=True)
    conn.close()
    out.put((latencies, errors, 0.0))


def _stat(pid) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([] if the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cpu_s(fields: list[str]) -> float:
    """User + system CPU seconds from a process's stat fields."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def _group_cpu_s(pgrp: int) -> float:
    """CPU seconds of the live processes in a process group (gunicorn's master and workers)."""
    stats = (_stat(pid) for pid in filter(str.isdigit, os.listdir("/proc")))
    return sum(_cpu_s(fields) for fields in stats if fields and int(fields[2]) == pgrp)


def _backends_cpu_s(db_url) -> float:
    """CPU seconds of the PostgreSQL backends serving other sessions on this database (the server's)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(_cpu_s(_stat(pid)) for (pid,) in pids)


SQL_CLAIM = """INSERT INTO api_idempotencyrecord (api_key_id, key, request_hash, state, locked_at, created_at,
               expires_at, response_content_type, response_location)
               VALUES (%s, %s, %s, 'in_progress', now(), now(), now() + interval '2 days', '', '')"""
SQL_SETTLEMENT = """INSERT INTO settlements_settlement (id, reference, payer_reference, payee_reference, amount,
               asset_id, rail, metadata, status, status_reason, created_by, created_at, updated_at)
               VALUES (%s, %s, 'acme', 'globex', 1250.50, 'USD', 'offchain', '{}', 'pending', '', 'bench',
                       now(), now())"""
SQL_EVENT = """INSERT INTO events_event (id, type, source, aggregate_type, aggregate_id, sequence, occurred_at, data,
               actor, topic, publish_attempts, last_error, message_id)
               VALUES (%s, 'settlement.created', '/fusionprime/settlements', 'settlement', %s, 1, now(), %s, 'bench',
               'settlement.events.v1', 0, '', '')"""
SQL_COMPLETE = """UPDATE api_idempotencyrecord SET state='completed', response_status=201, response_body=%s
               WHERE api_key_id=%s AND key=%s"""


def _sql_worker(db_url, api_key_id, deadline, out):
    conn = psycopg.connect(db_url, autocommit=True)
    backend = conn.info.backend_pid
    cpu_before = _cpu_s(_stat(backend)) + time.thread_time()
    latencies = []
    while True:
        start = time.monotonic()
        if start >= deadline:
            break
        ident = uuid.uuid4().hex
        with conn.transaction():  # the API's claim: its own transaction, commit not waiting for the WAL flush
            conn.execute("SET LOCAL synchronous_commit TO OFF")
            conn.execute(SQL_CLAIM, (api_key_id, ident, ident))
        with conn.transaction():
            conn.execute(SQL_SETTLEMENT, (f"stl_{ident[:26]}", f"SQL-{ident}"))
            conn.execute(SQL_EVENT, (f"evt_{ident[:26]}", f"stl_{ident[:26]}", '{"amount": "1250.50"}'))
            conn.execute(SQL_COMPLETE, (b'{"id": "x"}', api_key_id, ident))
        latencies.append(time.monotonic() - start)
    # The backend's CPU is read before it exits with the connection; the database's share of the work.
    cpu = _cpu_s(_stat(backend)) + time.thread_time() - cpu_before
    conn.close()
    out.put((latencies, 0, cpu))


def _process(kind, args, threads, index, total, out):
    inner: queue.Queue = queue.Queue()
    if kind == "api":  # spread the clients' schedules evenly over one interval
        args_of = lambda t: (*args, (index * threads + t) / total, inner)  # noqa: E731
    else:
        args_of = lambda t: (*args, inner)  # noqa: E731
    target = _api_worker if kind == "api" else _sql_worker
    workers = [threading.Thread(target=target, args=args_of(t)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies, errors, cpu = [], 0, 0.0
    while not inner.empty():
        lat, err, c = inner.get()
        latencies += lat
        errors += err
        cpu += c
    out.put((latencies, errors, cpu))


def _load(kind, args_for_deadline, *, duration, processes=PROCESSES, threads=THREADS, server_cpu=None):
    """Runs the load; `server_cpu()` (CPU seconds so far of each part of what serves it, by name) gives
    CPU ms per request, in all and by part."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    deadline = time.monotonic() + duration
    procs = [
        ctx.Process(target=_process, args=(kind, args_for_deadline(deadline), threads, i, processes * threads, out))
        for i in range(processes)
    ]
    cpu_before = server_cpu() if server_cpu else {}
    started = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get(timeout=duration + 120) for _ in procs]
    for p in procs:
        p.join(30)
    elapsed = time.monotonic() - started
    latencies = [x for lat, _, _ in results for x in lat]
    errors = sum(e for _, e, _ in results)
    parts = {name: seconds - cpu_before[name] for name, seconds in server_cpu().items()} if server_cpu else {}
    cpu = sum(parts.values()) if server_cpu else sum(c for _, _, c in results)
    per_request = lambda seconds: round(seconds / max(1, len(latencies)) * 1000, 2)  # noqa: E731
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_s": round(len(latencies) / elapsed, 1),
        "cpu_ms_per_request": per_request(cpu),
        **({"cpu_ms_per_request_by_part": {name: per_request(v) for name, v in parts.items()}} if parts else {}),
        **summary_ms(latencies),
    }


GUNICORN_WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "3")
GUNICORN_THREADS = os.environ.get("BENCH_GUNICORN_THREADS", "4")
GUNICORN_CLASS = os.environ.get("BENCH_GUNICORN_CLASS", "gthread")


@contextlib.contextmanager
def _served(app: str, env: dict, db_url: str, key: str):
    """gunicorn with the production config (deploy/gunicorn.conf.py, access log included; only the pool
    differs) serving `app`, warmed up; yields its URL and a reader of its CPU by part."""
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"),
            *("--bind", f"127.0.0.1:{port}", "--workers", GUNICORN_WORKERS, "--threads", GUNICORN_THREADS),
            *("--worker-class", GUNICORN_CLASS, app),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=30, proc=server, what="gunicorn")
        _load("api", lambda d: (url, key, d, 0), duration=WARMUP)
        yield url, lambda: {"gunicorn": _group_cpu_s(server.pid), "postgres": _backends_cpu_s(db_url)}
    finally:
        stop(server)


def run() -> dict:
    db_url = fresh_database("api")
    env = bench_env(db_url)
    key = (
        subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "--name", "bench", "--scopes", "settlements:write"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    with psycopg.connect(db_url) as conn:
        api_key_id = conn.execute("SELECT id FROM api_apikey LIMIT 1").fetchone()[0]

    api_env = {**env, "DJANGO_SETTINGS_MODULE": "fusionprime.settings.local", "BENCH_FLOOR_API_KEY_ID": api_key_id}
    with _served("fusionprime.wsgi:application", api_env, db_url, key) as (url, served_by):
        api = _load("api", lambda d: (url, key, d, 0), duration=DURATION, server_cpu=served_by)
        baseline = _load("sql", lambda d: (db_url, api_key_id, d), duration=DURATION)
        half_rate = STEADY_RATE or api["per_s"] / 2
        per_thread = half_rate / (PROCESSES * THREADS)
        steady = _load("api", lambda d: (url, key, d, per_thread), duration=DURATION, server_cpu=served_by)
    floors = {}
    for name in ("bare", "django"):
        with _served(f"tests.benchmarks.floor_app:{name}", {**api_env, "BENCH_FLOOR": name}, db_url, key) as (
            url,
            served_by,
        ):
            floor = _load("api", lambda d: (url, key, d, 0), duration=DURATION, server_cpu=served_by)
        floors[f"{name}_over_gunicorn"] = {**floor, "ratio_to_baseline": round(floor["per_s"] / baseline["per_s"], 3)}
    return report(
        "api_create",
        {
            "concurrency": PROCESSES * THREADS,
            "gunicorn": f"{GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads ({GUNICORN_CLASS})",
            "api_peak": api,
            "baseline_psycopg": baseline,
            "ratio_api_to_baseline": round(api["per_s"] / baseline["per_s"], 3),
            # CPU per create (gunicorn + its PostgreSQL backends vs psycopg loop + its backends): what the
            # throughput ratio would be with the cores to itself, less sensitive to a busy shared machine.
            "cpu_ratio_baseline_to_api": round(baseline["cpu_ms_per_request"] / api["cpu_ms_per_request"], 3),
            "at_half_peak": {
                "target_per_s": round(half_rate, 1),
                "rate_from": "BENCH_API_RATE" if STEADY_RATE else "half the peak",
                **steady,
            },
            # The baseline's own SQL behind gunicorn (tests/benchmarks/floor_app.py): what an endpoint doing
            # nothing else reaches, bare and as a Django view.
            "floors": floors,
            "targets": {"ratio_min": 0.35, "p95_ms_at_half_peak_max": 50},
        },
    )


if __name__ == "__main__":
    run()
