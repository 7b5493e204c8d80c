"""Built-in plugin ``bureau_http``: credit bureau reports from a REST service, described in
a YAML file instead of code.

``$CREDIT_BUREAU_HTTP_CONFIG`` names the configuration file. Without it the plugin has no
report (returns None) and the ruleset's waterfall asks the next bureau. Example
(``examples/bureau_http.yaml``)::

    url: https://bureau.example.com/v2/companies/{country}/{customer_id}/report
    method: GET                  # GET (default) or POST
    auth_header:                 # optional
      name: Authorization
      env: BUREAU_API_TOKEN      # the header value is read from this variable per call
    timeout_seconds: 5           # per attempt (default 5)
    retries: 2                   # extra attempts (default 2)
    backoff_seconds: 0.2         # wait before the first retry, doubled each retry (0.2)
    mapping:                     # report field: dotted path in the JSON response
      score: data.score
      rating: data.rating?       # a trailing "?" makes the path optional (None if absent)
      report_date: data.date
      first_payment_index: data.history.0.index   # a number steps into a list
    cache:                       # optional
      max_age_seconds: 86400
    circuit_breaker:             # optional
      failures: 5
      reset_seconds: 60

Keys:

- ``url``: an http(s) URL template. ``{customer_id}`` is the customer document's ``id``;
  any other ``{name}`` is the customer's top-level string field of that name. Values are
  URL-quoted (``/`` included). A customer without such a field is an error.
- ``method``: ``GET`` or ``POST``. A POST sends a JSON object of the template's values.
- ``auth_header``: ``{name, env}``. The credential is read from ``$env`` at call time and
  is never written into an error message, the cache or the report: a response that
  echoes it in a mapped field is refused. Redirects are not followed (a redirect would
  carry the header to another address); a 3xx answer is an error.
- ``timeout_seconds``, ``retries``, ``backoff_seconds``: each attempt, all of it (connect,
  headers, body), ends within its timeout; connection errors, timeouts, an answer cut
  short of its Content-Length and 5xx answers are retried, after ``backoff_seconds``,
  then twice that, and so on. A 404 means "no report" (None, not retried); any other 4xx
  is an error at once. The ruleset's ``bureau.timeout_seconds``, if set, should allow for
  every attempt: ``(retries + 1) * timeout_seconds`` plus the backoffs.
- ``mapping``: the report fields and where each is in the JSON response (which must be an
  object). A missing path is an error naming it, unless the path ends in ``?``; a JSON
  null is a value (None) either way.
- ``cache``: ``{max_age_seconds}``. Reports (after mapping) are kept in the table
  ``bureau_http_cache`` (``url``: an HMAC of the URL under the trail's redaction key, so
  no customer field is kept in clear; ``report``, ``fetched_at``) of the audit file
  (``$CREDIT_DB``, else ``credit-audit.db``); a report younger than the maximum age is
  used without calling the bureau. The table is a plain cache, outside the audit chain,
  and rows are replaced. "No report" (404) is not cached.
- ``circuit_breaker``: ``{failures, reset_seconds}``. After ``failures`` consecutive
  failed calls (a call is one hook call, with all its retries; any error it raises
  counts, a report or a 404 resets the count) every call fails at once with "circuit
  open ..." without contacting the bureau, until ``reset_seconds`` have passed; then one
  trial call goes through (others still fail fast): its success closes the circuit, its
  failure opens it again. The state is per process.

Every failure is raised as :class:`BureauHTTPError` with a one-line message; the engine
records it as this plugin's failure and the waterfall goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import sqlite3
import string
import threading
import time
import urllib.parse
from dataclasses import dataclass

from engine import __version__
from engine.audit.keys import redaction_key
from engine.audit.store import BUSY_TIMEOUT_MS, default_db_path
from engine.enrich.hookspecs import hookimpl
from engine.enrich.settings import setting
from engine.errors import CreditRulesError, Location, Problem, ProblemsError

CONFIG_ENV = "CREDIT_BUREAU_HTTP_CONFIG"
CACHE_TABLE = "bureau_http_cache"
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
METHODS = ("GET", "POST")
KEYS = ("url", "method", "auth_header", "timeout_seconds", "retries", "backoff_seconds",
        "mapping", "cache", "circuit_breaker")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Seams for tests: waiting between retries and the clocks.
_sleep = time.sleep
_monotonic = time.monotonic
_time = time.time


class BureauHTTPError(CreditRulesError):
    """The bureau could not give a usable answer (one-line message, no credential)."""


class CircuitOpenError(BureauHTTPError):
    """The circuit breaker is open: the bureau was not contacted."""


class ConfigError(BureauHTTPError):
    """The configuration file has problems; each names its file, line and column."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Field:
    """One report field: where it is in the response."""

    name: str
    path: str
    steps: tuple[str, ...]
    optional: bool


@dataclass(frozen=True)
class Config:
    """A checked configuration file."""

    file: str
    url: str
    placeholders: tuple[str, ...]
    method: str
    auth_name: str | None
    auth_env: str | None
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    mapping: tuple[Field, ...]
    cache_max_age: float | None
    breaker_failures: int | None
    breaker_reset: float

    def fill(self, customer: dict) -> tuple[str, dict[str, str]]:
        """The URL for this customer, and the values filled in."""
        values = {}
        for name in self.placeholders:
            value = customer.get(name)
            if name == "customer_id" and not isinstance(value, str):
                value = customer.get("id")
            if not isinstance(value, str) or not value:
                field = "id" if name == "customer_id" else name
                raise BureauHTTPError(f"the customer document has no string field "
                                      f"'{field}' for the url template of {self.file}")
            values[name] = value
        quoted = {name: urllib.parse.quote(value, safe="") for name, value in values.items()}
        return self.url.format(**quoted), values


# -- configuration ------------------------------------------------------------------------

def config_path() -> str | None:
    return setting(CONFIG_ENV) or None


_configs: dict[tuple, Config] = {}
_configs_lock = threading.Lock()


def load_config(path: str) -> Config:
    """The checked configuration in ``path`` (re-read when the file changes). Raises
    ConfigError with located problems."""
    try:
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    with _configs_lock:
        if key is not None and key in _configs:
            return _configs[key]
    from engine.language.yaml_source import load_yaml_file  # YAML, when a bureau is set up

    try:
        doc = load_yaml_file(path)
    except ProblemsError as exc:
        raise ConfigError(exc.problems) from None
    config = _check(doc, path)
    if key is not None:
        with _configs_lock:
            _configs[key] = config
    return config


def _check(doc, file: str) -> Config:
    problems: list[Problem] = []

    def problem(where: tuple, message: str, at_key: bool = False) -> None:
        loc = doc.locate_key(where) if at_key else doc.locate(where)
        problems.append(Problem(loc, message))

    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError([Problem(doc.locate(()) if data is not None else Location(file),
                                   "the bureau_http configuration must be a mapping "
                                   f"with the keys {', '.join(KEYS)}")])
    for key in data:
        if key not in KEYS:
            problem((key,), f"unknown key '{key}' (known: {', '.join(KEYS)})", at_key=True)

    def number(where: tuple, value, default, *, minimum: float, integer: bool = False,
               strict: bool = False):
        if value is None:
            return default
        kind = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or \
                value < minimum or (strict and value == minimum):
            what = "an integer" if integer else "a number"
            bound = "greater than" if strict else "at least"
            problem(where, f"must be {what} {bound} {minimum:g}")
            return default
        return value

    url = data.get("url")
    placeholders: list[str] = []
    if not isinstance(url, str) or not url:
        problem(("url",) if "url" in data else (), "'url' must be given: an http(s) URL "
                "template such as https://bureau.example.com/reports/{customer_id}",
                at_key="url" not in data)
        url = ""
    else:
        try:
            parts = list(string.Formatter().parse(url))
        except ValueError as exc:
            problem(("url",), f"not a valid URL template ({exc}); write {{{{ and }}}} for "
                              "literal braces")
            parts = []
        valid = bool(parts)
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if not _NAME.match(name) or spec or conversion:
                valid = False
                problem(("url",), f"'{{{name}{'!' + conversion if conversion else ''}"
                                  f"{':' + spec if spec else ''}}}' is not a placeholder: "
                                  "write {customer_id} or {field} for a top-level string "
                                  "field of the customer")
            elif name not in placeholders:
                placeholders.append(name)
        if valid:
            sample = url.format(**{name: "x" for name in placeholders})
            parsed = urllib.parse.urlsplit(sample)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                problem(("url",), "must be an absolute http:// or https:// URL")

    method = data.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        problem(("method",), f"must be one of {', '.join(METHODS)}")
        method = "GET"
    method = method.upper()

    auth_name = auth_env = None
    auth = data.get("auth_header")
    if auth is not None:
        if not isinstance(auth, dict):
            problem(("auth_header",), "must be a mapping {name: HEADER, env: VARIABLE}")
        else:
            for key in auth:
                if key not in ("name", "env"):
                    problem(("auth_header", key), f"unknown key '{key}' (known: name, env)",
                            at_key=True)
            auth_name, auth_env = auth.get("name"), auth.get("env")
            if not isinstance(auth_name, str) or not _HEADER_NAME.match(auth_name):
                problem(("auth_header", "name"), "must be an HTTP header name, such as "
                        "Authorization or X-Api-Key", at_key="name" not in auth)
            if not isinstance(auth_env, str) or not _NAME.match(auth_env):
                problem(("auth_header", "env"), "must name the environment variable that "
                        "holds the header value (the value itself never goes in this file)",
                        at_key="env" not in auth)

    timeout = number(("timeout_seconds",), data.get("timeout_seconds"), 5, minimum=0,
                     strict=True)
    retries = number(("retries",), data.get("retries"), 2, minimum=0, integer=True)
    if isinstance(retries, int) and retries > 10:
        problem(("retries",), "must be at most 10")
    backoff = number(("backoff_seconds",), data.get("backoff_seconds"), 0.2, minimum=0)

    fields: list[Field] = []
    mapping = data.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        problem(("mapping",) if "mapping" in data else (), "'mapping' must be given: report "
                "fields and their dotted paths in the response, e.g. {score: data.score}",
                at_key="mapping" not in data)
    else:
        for name, path in mapping.items():
            text = path[:-1] if isinstance(path, str) and path.endswith("?") else path
            steps = tuple(text.split(".")) if isinstance(text, str) else ()
            if not steps or not all(steps):
                problem(("mapping", name), "must be a dotted path in the JSON response, "
                        "such as data.score (end it with ? if it may be missing)")
                continue
            fields.append(Field(name, text, steps, optional=path.endswith("?")))

    cache_max_age = None
    cache = data.get("cache")
    if cache is not None:
        if not isinstance(cache, dict) or set(cache) != {"max_age_seconds"}:
            problem(("cache",), "must be a mapping {max_age_seconds: SECONDS}")
        else:
            cache_max_age = number(("cache", "max_age_seconds"), cache["max_age_seconds"],
                                   None, minimum=0, strict=True)

    breaker_failures, breaker_reset = None, 0.0
    breaker = data.get("circuit_breaker")
    if breaker is not None:
        if not isinstance(breaker, dict) or set(breaker) != {"failures", "reset_seconds"}:
            problem(("circuit_breaker",),
                    "must be a mapping {failures: COUNT, reset_seconds: SECONDS}")
        else:
            breaker_failures = number(("circuit_breaker", "failures"), breaker["failures"],
                                      None, minimum=1, integer=True)
            breaker_reset = number(("circuit_breaker", "reset_seconds"),
                                   breaker["reset_seconds"], 0.0, minimum=0, strict=True)
    if problems:
        raise ConfigError(problems)
    return Config(file, url, tuple(placeholders), method, auth_name, auth_env,
                  float(timeout), retries, float(backoff), tuple(fields), cache_max_age,
                  breaker_failures, float(breaker_reset))


# -- circuit breaker ----------------------------------------------------------------------

class _Breaker:
    def __init__(self, failures: int, reset_seconds: float):
        self.failures = failures
        self.reset_seconds = reset_seconds
        self.count = 0
        self.opened_at: float | None = None
        self.trial = False
        self.lock = threading.Lock()

    def before_call(self, where: str) -> None:
        with self.lock:
            if self.opened_at is None:
                return
            waited = _monotonic() - self.opened_at
            if self.trial:
                raise CircuitOpenError(f"circuit open for {where}: a trial call is under "
                                       "way; not calling the bureau")
            if waited < self.reset_seconds:
                raise CircuitOpenError(
                    f"circuit open for {where} after {self.count} consecutive failed calls; "
                    f"not calling the bureau for another "
                    f"{self.reset_seconds - waited:.1f} s")
            self.trial = True  # half-open: this call is the trial

    def succeeded(self) -> None:
        with self.lock:
            self.count, self.opened_at, self.trial = 0, None, False

    def failed(self) -> None:
        with self.lock:
            self.count += 1
            self.trial = False
            if self.count >= self.failures:
                self.opened_at = _monotonic()


_breakers: dict[tuple, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker(config: Config) -> _Breaker | None:
    if config.breaker_failures is None:
        return None
    key = (config.file, config.url, config.breaker_failures, config.breaker_reset)
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = _Breaker(config.breaker_failures, config.breaker_reset)
        return _breakers[key]


def reset_state() -> None:
    """Forget circuit breakers and loaded configurations (for tests)."""
    with _breakers_lock:
        _breakers.clear()
    with _configs_lock:
        _configs.clear()


# -- cache --------------------------------------------------------------------------------

def _cache_connection() -> sqlite3.Connection:
    path = default_db_path()
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                # A new file: let the audit store create its schema first (it refuses a
                # file that holds tables it did not make).
                conn.close()
                from engine.audit.store import AuditStore

                AuditStore(path).close()
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000,
                                       isolation_level=None)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} (url TEXT PRIMARY KEY, "
                         "report TEXT NOT NULL, fetched_at TEXT NOT NULL)")
        except BaseException:
            conn.close()
            raise
    except (sqlite3.Error, CreditRulesError) as exc:
        raise BureauHTTPError(f"cannot use the cache in {path}: "
                              f"{' '.join(str(exc).split())}") from None
    return conn


def _cache_key(url: str) -> str:
    """The cache row's key: the URL holds customer fields (a name the ruleset redacts,
    perhaps), so it is kept only as an HMAC under the trail's redaction key."""
    key = redaction_key(default_db_path())
    return "hmac-sha256:" + hmac.new(key, url.encode("utf-8"), hashlib.sha256).hexdigest()


def _cache_get(config: Config, key: str) -> dict | None:
    conn = _cache_connection()
    try:
        row = conn.execute(f"SELECT report, fetched_at FROM {CACHE_TABLE} WHERE url = ?",
                           (key,)).fetchone()
    except sqlite3.Error as exc:
        raise BureauHTTPError(f"cannot read the cache: {exc}") from None
    finally:
        conn.close()
    if row is None:
        return None
    try:
        report = json.loads(row[0])
        fetched = dt.datetime.fromisoformat(row[1]).timestamp()
    except ValueError:
        return None  # an unreadable row is refetched and replaced
    age = _time() - fetched
    fields = {field.name for field in config.mapping}
    if not 0 <= age <= config.cache_max_age or not isinstance(report, dict) or \
            set(report) != fields:
        return None
    return report


def _cache_put(key: str, report: dict) -> None:
    fetched_at = dt.datetime.fromtimestamp(_time(), dt.UTC).isoformat()
    conn = _cache_connection()
    try:
        conn.execute(f"INSERT OR REPLACE INTO {CACHE_TABLE} (url, report, fetched_at) "
                     "VALUES (?, ?, ?)", (key, json.dumps(report, sort_keys=True),
                                          fetched_at))
    except sqlite3.Error as exc:
        raise BureauHTTPError(f"cannot write the cache: {exc}") from None
    finally:
        conn.close()


def _fetch(config: Config, url: str, values: dict, secret: str | None) -> dict | None:
    """Ask the bureau, with retries; the mapped report, or None for a 404."""
    from . import bureau_http_transport as transport  # the HTTP stack, when first needed

    headers = {"Accept": "application/json",
               "User-Agent": f"credit-rules/{__version__} bureau_http"}
    data = None
    if config.method == "POST":
        data = json.dumps(values).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if secret is not None:
        headers[config.auth_name] = secret
    where = f"{config.method} {url}"
    attempts = config.retries + 1
    last = ""
    for attempt in range(attempts):
        if attempt:
            _sleep(config.backoff_seconds * 2 ** (attempt - 1))
        try:
            status, reason, body = transport.attempt(url, data, headers, config.method,
                                                     config.timeout_seconds,
                                                     MAX_RESPONSE_BYTES)
        except transport.Transient as exc:
            last = str(exc)
            continue
        if status >= 500:
            last = f"HTTP {status} {reason}".strip()
            continue
        if status == 404:
            return None
        if not 200 <= status < 300:
            raise BureauHTTPError(f"{where}: HTTP {status} {reason}".strip()
                                  + (" (redirects are not followed)" if status < 400
                                     else " (not retried)"))
        return _mapped(config, where, body, secret)
    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
    raise BureauHTTPError(f"{where}: {last} (gave up after {tries})")


def _mapped(config: Config, where: str, body: bytes, secret: str | None) -> dict:
    if len(body) > MAX_RESPONSE_BYTES:
        raise BureauHTTPError(f"{where}: the response is larger than "
                              f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BureauHTTPError(f"{where}: the response is not valid JSON ({exc.msg} at "
                              f"line {exc.lineno} column {exc.colno})") from None
    except ValueError:  # bytes that are not UTF-8/16/32 text
        raise BureauHTTPError(f"{where}: the response is not JSON text (not UTF-8)") \
            from None
    if not isinstance(document, dict):
        raise BureauHTTPError(f"{where}: the response is a JSON {_json_type(document)}, "
                              "not an object")
    report = {}
    for field in config.mapping:
        value, found = _lookup(document, field.steps)
        if not found and not field.optional:
            raise BureauHTTPError(f"{where}: the response has no '{field.path}' (mapping "
                                  f"of {field.name} in {config.file})")
        report[field.name] = value
    if secret and _mentions(report, secret):
        raise BureauHTTPError(f"{where}: the response echoes the auth_header credential "
                              "in a mapped field; the report is not used")
    return report


def _lookup(document: object, steps: tuple[str, ...]) -> tuple[object, bool]:
    value = document
    for step in steps:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None, False
    return value, True


def _mentions(value: object, secret: str) -> bool:
    if isinstance(value, str):
        return secret in value
    if isinstance(value, dict):
        return any(_mentions(k, secret) or _mentions(v, secret) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, secret) for v in value)
    return False


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _credential(config: Config) -> str | None:
    if config.auth_env is None:
        return None
    secret = os.environ.get(config.auth_env)
    if not secret:
        raise BureauHTTPError(f"the environment variable {config.auth_env} (auth_header.env "
                              f"in {config.file}) is not set")
    if _BAD_HEADER_VALUE.search(secret):
        raise BureauHTTPError(f"the value of {config.auth_env} is not a valid HTTP header "
                              "value (it holds a line break or control character)")
    return secret


def _scrub(text: str, secret: str | None) -> str:
    text = " ".join(text.split())
    return text.replace(secret, "[credential]") if secret else text


def fetch_report(config: Config, customer: dict) -> dict | None:
    """The mapped report for ``customer`` by ``config`` (cache, circuit breaker, retries),
    or None when the bureau has none (404). Raises BureauHTTPError."""
    url, values = config.fill(customer)
    cache_key = _cache_key(url) if config.cache_max_age is not None else None
    if cache_key is not None:
        cached = _cache_get(config, cache_key)
        if cached is not None:
            return cached
    from . import bureau_http_transport as transport  # the HTTP stack, when first needed

    secret = _credential(config)
    breaker = _breaker(config)
    if breaker is not None:
        breaker.before_call(urllib.parse.urlsplit(url).netloc)
    try:
        report = _fetch(config, url, values, secret)
    except BureauHTTPError as exc:
        if breaker is not None:
            breaker.failed()
        raise BureauHTTPError(_scrub(str(exc), secret)) from None
    except Exception as exc:  # anything else the HTTP stack raises: keep it one line
        if breaker is not None:
            breaker.failed()
        raise BureauHTTPError(_scrub(f"{config.method} {url}: {transport.error_text(exc)}",
                                     secret)) \
            from None
    except BaseException:
        if breaker is not None:
            breaker.failed()
        raise
    if breaker is not None:
        breaker.succeeded()
    if report is not None and cache_key is not None:
        _cache_put(cache_key, report)
    return report


@hookimpl
def credit_rules_bureau_reports(customer: dict, as_of: dt.date) -> dict | None:
    """The customer's report from the REST bureau configured in
    ``$CREDIT_BUREAU_HTTP_CONFIG``, mapped to the configured fields; None without a
    configuration or when the bureau answers 404. ``as_of`` is not sent: a bureau gives
    its current report, and the waterfall judges its ``report_date``. Raises
    BureauHTTPError (one line, never the credential) for anything else."""
    path = config_path()
    if path is None:
        return None
    return fetch_report(load_config(path), customer)
