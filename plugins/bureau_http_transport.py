"""How ``bureau_http`` makes one HTTP attempt: all of it (connect, headers, body) within
its timeout, redirects refused. Imported at the first call to a bureau, so that a command
that never calls one does not load http.client, urllib.request and ssl (about 15 ms)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answered as errors: following one would send the credential on."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Deadline:
    """The whole of one attempt (connect, headers, body) must end within its timeout: a
    socket timeout alone bounds each read, so a bureau sending a byte now and then kept an
    attempt alive for ever. At the deadline the attempt's sockets are shut down, which
    ends any read that is waiting on them."""

    def __init__(self, seconds: float):
        self.expired = False
        self._sockets: list = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> _Deadline:
        _attempt_state.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _attempt_state.deadline = None


def _shut(sock) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_attempt_state = threading.local()  # the deadline of the attempt this thread is making


class _WatchedSocket:
    """Mixed into an http.client connection: the current attempt's deadline watches the
    socket it opens."""

    def connect(self):
        super().connect()
        deadline = getattr(_attempt_state, "deadline", None)
        if deadline is not None:
            deadline.watch(self.sock)


class _WatchedHTTPConnection(_WatchedSocket, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedSocket, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_WatchedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_WatchedHTTPSConnection, req, context=self._context)


_opener = urllib.request.build_opener(_NoRedirect, _HTTPHandler, _HTTPSHandler)


class Transient(Exception):
    """A failure worth another attempt (connection, timeout, a cut-short answer, 5xx)."""


def attempt(url: str, data: bytes | None, headers: dict[str, str], method: str,
            timeout: float, limit: int) -> tuple[int, str, bytes]:
    """One request, all of it within ``timeout`` seconds: (status, reason, body, of which
    at most ``limit`` + 1 bytes are read). Raises Transient for connection errors,
    timeouts and a body cut short."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with _Deadline(timeout) as deadline:
        try:
            with _opener.open(request, timeout=timeout) as response:
                body = response.read(limit + 1)
                declared = response.getheader("Content-Length")
                status, reason = response.status, response.reason
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, str(exc.reason), b""
        except urllib.error.URLError as exc:
            if deadline.expired or isinstance(exc.reason, TimeoutError):
                raise Transient(f"timed out after {timeout:g} s") from None
            raise Transient(f"cannot connect ({error_text(exc.reason)})") from None
        except TimeoutError:
            raise Transient(f"timed out after {timeout:g} s") from None
        except (http.client.HTTPException, OSError) as exc:
            if deadline.expired:
                raise Transient(f"timed out after {timeout:g} s") from None
            raise Transient(f"connection failed ({error_text(exc)})") from None
        if deadline.expired:
            raise Transient(f"timed out after {timeout:g} s")
    if declared is not None and declared.isdigit() and len(body) < int(declared) and \
            len(body) <= limit:
        raise Transient(f"the answer was cut short ({len(body)} of {declared} bytes)")
    return status, reason, body


def error_text(exc: object) -> str:
    """An exception (or a URLError's reason) as one line of text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, BaseException):
        text = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return " ".join(str(exc).split())
