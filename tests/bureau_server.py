"""A real HTTP server on 127.0.0.1 for the bureau_http tests: it answers from a script of
replies (then a default reply) and records every request it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One answer: status, body (a dict/list is sent as JSON), headers, and a delay in
    seconds before answering (to be slower than a client's timeout)."""

    status: int = 200
    body: object = b""
    delay: float = 0.0
    headers: dict = field(default_factory=dict)
    trickle: float = 0.0  # seconds between bytes of the body (a bureau that dribbles)
    declared_length: int | None = None  # a Content-Length other than the body's (then close)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Seen:
    """One request the server got."""

    method: str
    path: str
    headers: dict
    body: bytes


class BureauServer:
    """Start with ``start()`` (or as a context manager); ``url`` is its base address."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: list[Reply | Callable[[Seen], Reply]] = []
        self.default: Reply | Callable[[Seen], Reply] = Reply(404, {"error": "not found"})
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- telling it what to do ----------------------------------------------------------
    def reply(self, *replies: Reply | Callable[[Seen], Reply],
              then: Reply | Callable[[Seen], Reply] | None = None) -> None:
        """Answer the next requests with ``replies``, then with ``then`` (if given)."""
        with self._lock:
            self.script.extend(replies)
            if then is not None:
                self.default = then

    def fail(self, status: int, times: int, then: Reply | None = None) -> None:
        """Answer ``status`` ``times`` times, then ``then``."""
        self.reply(*[Reply(status, {"error": "failure"}) for _ in range(times)], then=then)

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            reply = self.script.pop(0) if self.script else self.default
        return reply(seen) if callable(reply) else reply

    # -- running ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BureauServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = server._next(Seen(self.command, self.path, dict(self.headers), body))
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    length = reply.declared_length
                    self.send_header("Content-Length", str(len(payload) if length is None
                                                           else length))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if reply.trickle:
                        for index in range(len(payload)):
                            self.wfile.write(payload[index:index + 1])
                            self.wfile.flush()
                            if server._stopping.wait(reply.trickle):
                                return
                    else:
                        self.wfile.write(payload)
                    if length is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timed out) before the answer

            do_GET = do_POST = _handle

            def log_message(self, format, *args):  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address):  # a client that went away
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BureauServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
