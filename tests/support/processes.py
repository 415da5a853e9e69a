"""Starting and stopping the real servers tests talk to, each as one process we own."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def stop(proc: subprocess.Popen, *, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def gcloud_sdk_root() -> Path | None:
    try:
        out = subprocess.run(
            ["gcloud", "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


class PubSubEmulator:
    """Google's Pub/Sub emulator on a free loopback port (Java; opens its port in ~3 s)."""

    def __init__(self):
        root = gcloud_sdk_root()
        launcher = root / "platform/pubsub-emulator/bin/cloud-pubsub-emulator" if root else None
        if launcher is None or not launcher.exists():
            raise RuntimeError(
                "Google's Pub/Sub emulator was not found: install the Google Cloud CLI with its "
                "pubsub-emulator component (and Java 17)."
            )
        self.launcher = launcher
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = Path(f"/tmp/pubsub-emulator-{self.port}.log")

    def start(self) -> "PubSubEmulator":
        self.proc = subprocess.Popen(
            [str(self.launcher), "--host=127.0.0.1", f"--port={self.port}"],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=60, proc=self.proc, what="Pub/Sub emulator")
        return self

    def stop(self) -> None:
        if self.proc:
            stop(self.proc)
