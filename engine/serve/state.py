"""What a running service holds: its settings, the tokens, the ruleset, the plugins, the
audit writer, the reading connections (one per worker thread) and the metrics."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from ..audit.checkpoints import load_private_key
from ..audit.keys import redaction_key
from ..audit.store import AuditStore
from ..enrich.plugin_manager import installed_plugins
from ..orders.accounts import AccountBook
from ..service import listening
from .handover import Workers
from .metrics import Metrics
from .register_watch import RegisterWatch
from .requests import DEFAULT_MAX_BODY
from .rulesets import RulesetHolder
from .tokens import Tokens
from .writer import DEFAULT_MAX_GROUP, GroupWriter

DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class ServeConfig:
    """How to run the service: the audit file, the ruleset folder, the tokens file, the
    body size limit, the most requests one audit transaction takes, worker threads, and
    the key that signs heads for proofs (none: no proofs)."""

    db: str
    ruleset: str
    tokens: str
    max_body: int = DEFAULT_MAX_BODY
    max_group: int = DEFAULT_MAX_GROUP
    workers: int = DEFAULT_WORKERS
    sign_key: str | None = None  # an Ed25519 private key: proofs under a head signed anew


class Service:
    """The state behind the routes. Building it reads the tokens and compiles the ruleset
    (so a bad one stops the start with its problems); ``start`` opens the audit file."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.tokens = Tokens.read(config.tokens)
        self.signer = load_private_key(config.sign_key) if config.sign_key else None
        self.rulesets = RulesetHolder(config.ruleset)
        self.plugins = installed_plugins()
        self.listening = listening(self.plugins)
        self.metrics = Metrics()
        # The writer tells the overrides plugin what its own commits left the register.
        watch = RegisterWatch(config.db) if "overrides" in self.plugins.names() else None
        self.writer = GroupWriter(config.db, max_group=config.max_group,
                                  on_commit=self.metrics.committed, watch=watch)
        self.workers: Workers | None = None
        self.salt: bytes = b""
        self._local = threading.local()
        self._readers: list[AuditStore] = []
        self._readers_lock = threading.Lock()
        self.started = False

    def start(self) -> None:
        """Open the audit file in the writer (creating it) and the worker threads."""
        # Plugins find the audit file through $CREDIT_DB (the overrides register reads it),
        # as the CLI's --db sets it for them.
        os.environ["CREDIT_DB"] = self.config.db
        self.writer.start()
        self.salt = redaction_key(self.config.db)
        self.workers = Workers(self.config.workers, "credit-serve")
        self.workers.start()
        ruleset = self.rulesets.current
        self.writer.submit([], rulesets=(ruleset,)).result()
        self.metrics.ruleset_in_use(ruleset.name, ruleset.version, ruleset.hash)
        self.started = True

    def stop(self) -> None:
        """Finish the work queued, commit it, and close the audit file."""
        self.started = False
        if self.workers is not None:
            self.workers.stop()
        self.writer.stop()
        with self._readers_lock:
            for store in self._readers:
                store.close()
            self._readers.clear()

    @property
    def ready(self) -> bool:
        """Whether the service can answer: started, and its writer running."""
        return self.started and self.writer.alive

    async def in_pool(self, function, *args):
        """Run ``function(*args)`` on a worker thread and wait for it."""
        return await self.workers.run(function, *args)

    def reader(self) -> AuditStore:
        """This worker thread's reading connection to the audit file."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = AuditStore(self.config.db, create=False)
            self._local.store = store
            self._local.accounts = AccountBook(store)
            with self._readers_lock:
                self._readers.append(store)
        return store

    def accounts(self) -> AccountBook:
        """This worker thread's account book (accounts folded once, kept up to date)."""
        self.reader()
        return self._local.accounts
