"""A fault-injecting JSON-RPC proxy in front of a real node (anvil), on a loopback port.

Faults (each a probability per HTTP request unless said otherwise, changeable while running):
error_rate (HTTP 500 or a JSON-RPC server error), rate_limit_rate (HTTP 429), timeout_rate (answers
only after `timeout_sleep` seconds), empty_logs_rate (eth_getLogs answered with []), lag (a head
that trails the real one by N blocks; blocks above it are unknown), down (connections are cut),
max_log_range (eth_getLogs over more blocks than this fails with "more than 10000 results").
Not a fault: delay (seconds added to every request, a remote node's round trip).
"""

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class FaultyRpcProxy:
    def __init__(self, upstream: str, *, seed: int = 0, name: str = "proxy"):
        self.upstream = upstream
        self.name = name
        self.rng = random.Random(seed)
        self.error_rate = 0.0
        self.rate_limit_rate = 0.0
        self.timeout_rate = 0.0
        self.timeout_sleep = 0.8
        self.empty_logs_rate = 0.0
        self.lag = 0
        self.down = False
        self.max_log_range: int | None = None
        self.delay = 0.0
        self.counts: Counter = Counter()
        self.session = requests.Session()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy._handle(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FaultyRpcProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def heal(self) -> None:
        self.error_rate = self.rate_limit_rate = self.timeout_rate = self.empty_logs_rate = 0.0
        self.lag = 0
        self.down = False
        self.max_log_range = None

    # -------------------------------------------------------------- internals
    def _roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self.rng.random() < rate

    def _send(self, handler, status: int, payload) -> None:
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _upstream(self, payload):
        return self.session.post(self.upstream, json=payload, timeout=30).json()

    def _real_head(self) -> int:
        return int(self._upstream({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []})["result"], 16)

    def _handle(self, handler, body: bytes) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.down:
            self.counts["down"] += 1
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        if self._roll(self.rate_limit_rate):
            self.counts["429"] += 1
            return self._send(handler, 429, {"error": "too many requests"})
        if self._roll(self.error_rate):
            self.counts["error"] += 1
            if self._roll(0.5):
                return self._send(handler, 500, b"internal error")
            request = json.loads(body)
            first = request[0] if isinstance(request, list) else request
            return self._send(
                handler,
                200,
                {"jsonrpc": "2.0", "id": first.get("id"), "error": {"code": -32000, "message": "header not found"}},
            )
        if self._roll(self.timeout_rate):
            self.counts["timeout"] += 1
            time.sleep(self.timeout_sleep)
        request = json.loads(body)
        if isinstance(request, list):
            reply = [self._one(item) for item in request]
        else:
            reply = self._one(request)
        self._send(handler, 200, reply)

    def _one(self, request: dict) -> dict:
        method = request.get("method")
        params = request.get("params") or []
        self.counts[method] += 1
        head = max(0, self._real_head() - self.lag) if self.lag else None
        if method == "eth_blockNumber" and head is not None:
            return {"jsonrpc": "2.0", "id": request["id"], "result": hex(head)}
        if (
            method == "eth_getBlockByNumber"
            and head is not None
            and params[0].startswith("0x")
            and int(params[0], 16) > head
        ):
            return {"jsonrpc": "2.0", "id": request["id"], "result": None}
        if method == "eth_getLogs":
            flt = dict(params[0])
            if self.max_log_range is not None:
                span = int(flt["toBlock"], 16) - int(flt["fromBlock"], 16) + 1
                if span > self.max_log_range:
                    self.counts["range_error"] += 1
                    return {
                        "jsonrpc": "2.0",
                        "id": request["id"],
                        "error": {"code": -32005, "message": "query returned more than 10000 results"},
                    }
            if self._roll(self.empty_logs_rate):
                self.counts["empty_logs"] += 1
                return {"jsonrpc": "2.0", "id": request["id"], "result": []}
            if head is not None and int(flt["toBlock"], 16) > head:
                flt["toBlock"] = hex(head)
                request = {**request, "params": [flt]}
        return self._upstream(request)


def serve_delayed(upstream: str, delay: float, urls) -> None:
    """A child process's main: a proxy adding `delay` to every request; its URL is put on `urls`."""
    proxy = FaultyRpcProxy(upstream, name="delayed")
    proxy.delay = delay
    urls.put(proxy.url)
    proxy.thread.run()
