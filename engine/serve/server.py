"""Running the service under uvicorn, and what its signals do.

SIGTERM (and Ctrl+C): uvicorn stops accepting connections and lets the requests in flight
finish; the application's shutdown then commits what the writer holds and closes the
audit file, and ``serve`` returns 0. SIGHUP reloads the ruleset (``app``). Only loopback
is the default address: a service meant for other machines belongs behind a
TLS-terminating proxy (docs/serve.md).
"""

from __future__ import annotations

import logging
import signal
import socket

from ..audit.store import AuditStore
from ..errors import CreditRulesError
from .state import ServeConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_SHUTDOWN_TIMEOUT = 30.0


def serve(config: ServeConfig, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          log_level: str = "info", shutdown_timeout: float | None = DEFAULT_SHUTDOWN_TIMEOUT
          ) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit status (0 after a clean stop).
    Requests still running ``shutdown_timeout`` seconds after the signal are cancelled
    (what they handed the writer is still committed). Raises the tokens file's or the
    ruleset's problems before listening."""
    import uvicorn

    from .app import create_app
    from .protocol import OneWriteProtocol

    app = create_app(config)
    _can_start(config, host, port)
    logging.getLogger("credit").setLevel(log_level.upper())
    uvicorn_config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                                    access_log=False, lifespan="on", server_header=False,
                                    http=OneWriteProtocol,
                                    timeout_graceful_shutdown=shutdown_timeout,
                                    log_config=_log_config(log_level))
    server = uvicorn.Server(uvicorn_config)
    # uvicorn raises the signal that stopped it again once it has shut down, under the
    # handler that was there before it: a stop we asked for is a clean exit, status 0.
    stopped: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, frame: stopped.append(number))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


def _can_start(config: ServeConfig, host: str, port: int) -> None:
    """Raise, as one line, what would stop the service once uvicorn runs: an audit file
    that cannot be opened or made, an address that cannot be listened on."""
    AuditStore(config.db).close()  # (made and migrated here when it is new)
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise CreditRulesError(f"{host}:{port}: cannot listen there "
                               f"({exc.strerror or exc})") from None


def _log_config(level: str) -> dict:
    """uvicorn's logging, with the service's own log (``credit.serve``) beside it."""
    formatter = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "plain",
               "stream": "ext://sys.stderr"}
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"plain": formatter}, "handlers": {"stderr": handler},
            "loggers": {"uvicorn": {"handlers": ["stderr"], "level": level.upper(),
                                    "propagate": False},
                        "credit": {"handlers": ["stderr"], "level": level.upper(),
                                   "propagate": False}}}
