"""A real HTTP receiver on loopback that tests can script: succeed, fail, hang, 410/429, close."""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Reply:
    """What the receiver does with one request."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b"ok"
    hang: float = 0.0  # seconds to wait before answering
    close: bool = False  # drop the connection without an answer


OK = Reply()


def fail(status: int = 500, **headers) -> Reply:
    return Reply(status=status, headers=headers, body=b"nope")


def hang(seconds: float) -> Reply:
    return Reply(hang=seconds)


CLOSE = Reply(close=True)


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.script: deque[Reply] = deque()
        self.respond = None  # optional callable(Received) -> Reply | None, consulted before the script
        self.default = OK
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # or every answer waits ~40 ms for a delayed ACK

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                reply = receiver._reply_for(item)
                if reply.hang:
                    receiver._stopping.wait(reply.hang)
                if reply.close:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that timed out and hung up is part of the scenarios

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _reply_for(self, item: Received) -> Reply:
        with self._lock:
            self.received.append(item)
            if self.respond is not None:
                reply = self.respond(item)
                if reply is not None:
                    return reply
            return self.script.popleft() if self.script else self.default

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.script.clear()
            self.respond = None
            self.default = OK

    def wait_for(self, count: int, *, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"receiver got {len(self.received)} requests, expected {count} within {timeout}s")
