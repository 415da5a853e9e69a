"""Our own redis-server and Celery worker processes (never the shared Redis on 6379)."""

import subprocess
import sys
from pathlib import Path

from tests.support.processes import stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class Redis:
    """A throwaway redis-server without persistence: a restart loses every queued task."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc = None

    def start(self) -> "Redis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=10, proc=self.proc, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc:
            stop(self.proc)


def start_worker(env: dict, log: Path, *, beat: bool = True, pool: str = "solo", concurrency: int = 1):
    celery = str(Path(sys.executable).with_name("celery"))
    args = [celery, "-A", "fusionprime", "worker", f"--pool={pool}", f"--concurrency={concurrency}"]
    args += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]
    if beat:
        args.append("-B")
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def worker_env(*, database: dict, broker_url: str, **extra: str) -> dict:
    import os

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fusionprime.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WEBHOOKS_ALLOWLIST": "127.0.0.1",
        **extra,
    }
