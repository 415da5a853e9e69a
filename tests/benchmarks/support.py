"""Shared set-up for benchmarks: a scratch PostgreSQL database, percentiles, result printing."""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "var" / "bench"
BASE_DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fusionprime_bench")


def database_url(suffix: str) -> str:
    parsed = urlparse(BASE_DB_URL)
    return urlunparse(parsed._replace(path=f"{parsed.path}_{suffix}"))


def fresh_database(suffix: str) -> str:
    """Drops and re-creates a scratch database, migrates it, and returns its URL."""
    url = database_url(suffix)
    name = urlparse(url).path.lstrip("/")
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**bench_env(url), "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return url


def bench_env(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fusionprime.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": "rediscache://127.0.0.1:6379/12",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "API_RATE_LIMIT": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "DATABASE_CONN_MAX_AGE": "600",
        **extra,
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(latencies: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
    }


def report(name: str, result: dict) -> dict:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result
