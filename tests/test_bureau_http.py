"""The bureau_http plugin against a real HTTP server on 127.0.0.1: mapping, retries and
backoff, timeouts, 404/4xx/5xx, malformed answers, the cache in the audit file, the circuit
breaker, that the credential never leaks, and the plugin inside the engine's enrichment."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from engine import __version__
from engine.audit.store import AuditStore
from engine.enrich.enrichment import enrich
from engine.enrich.plugin_manager import load_plugins, register
from engine.ruleset.loader import load_ruleset
from plugins import bureau_http
from tests.bureau_server import BureauServer, Reply
from tests.paths import DEFAULT_RULESET

SECRET = "Bearer s3cr3t-T0KEN-7f9e2d"
AS_OF = dt.date(2026, 6, 30)
CUSTOMER = {"id": "C/17 x", "country": "DE", "name": "Strong Tools GmbH",
            "requested_amount": 50000}
GOOD = {"data": {"score": 712, "rating": "B+", "date": "2026-06-01",
                 "history": [{"index": 81}]}, "meta": {"request": "r-1"}}
REPORT = {"score": 712, "rating": "B+", "report_date": "2026-06-01", "payment_index": 81}
PATH = "/v1/DE/companies/C%2F17%20x/report"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    bureau_http.reset_state()
    monkeypatch.setenv("BUREAU_TOKEN", SECRET)
    yield
    bureau_http.reset_state()


@pytest.fixture
def server():
    with BureauServer() as running:
        yield running


@pytest.fixture
def sleeps(monkeypatch):
    """The backoff waits asked for (not slept, to keep the tests fast)."""
    waits: list[float] = []
    monkeypatch.setattr(bureau_http, "_sleep", waits.append)
    return waits


@pytest.fixture
def configure(tmp_path, monkeypatch, server):
    """Write a configuration pointing at the test server (keys may be overridden; None
    removes one) and name it in $CREDIT_BUREAU_HTTP_CONFIG."""
    def write(**changes) -> Path:
        config = {
            "url": server.url + "/v1/{country}/companies/{customer_id}/report",
            "auth_header": {"name": "Authorization", "env": "BUREAU_TOKEN"},
            "timeout_seconds": 0.2,
            "retries": 2,
            "backoff_seconds": 0.01,
            "mapping": {"score": "data.score", "rating": "data.rating?",
                        "report_date": "data.date", "payment_index": "data.history.0.index"},
        }
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        path = tmp_path / f"bureau_http_{len(list(tmp_path.glob('bureau_http_*')))}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        monkeypatch.setenv("CREDIT_BUREAU_HTTP_CONFIG", str(path))
        return path
    return write


def fetch(customer=CUSTOMER):
    return bureau_http.credit_rules_bureau_reports(customer=customer, as_of=AS_OF)


def failure(customer=CUSTOMER) -> str:
    with pytest.raises(bureau_http.BureauHTTPError) as caught:
        fetch(customer)
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message and "s3cr3t" not in message
    return message


def cache_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT url, report, fetched_at FROM bureau_http_cache").fetchall()


# -- answers --------------------------------------------------------------------------------

def test_a_valid_report_is_mapped_and_the_request_is_as_configured(server, configure):
    configure()
    server.reply(Reply(200, GOOD))
    assert fetch() == REPORT
    [seen] = server.requests
    assert seen.method == "GET"
    assert seen.path == PATH  # template filled from top-level fields, URL-quoted
    assert seen.headers["Authorization"] == SECRET
    assert seen.headers["Accept"] == "application/json"


def test_post_sends_the_template_values(server, configure):
    configure(method="post", url=server.url + "/reports/{customer_id}")
    server.reply(Reply(200, GOOD))
    assert fetch()["score"] == 712
    [seen] = server.requests
    assert (seen.method, seen.path) == ("POST", "/reports/C%2F17%20x")
    assert yaml.safe_load(seen.body) == {"customer_id": "C/17 x"}


def test_an_optional_path_may_be_missing_a_required_one_may_not(server, configure):
    configure()
    server.reply(Reply(200, {"data": {"score": 600, "date": "2026-01-02",
                                      "history": [{"index": None}]}}))
    assert fetch() == {"score": 600, "rating": None, "report_date": "2026-01-02",
                       "payment_index": None}
    server.reply(Reply(200, {"data": {"score": 600, "history": [{"index": 1}]}}))
    message = failure()
    assert "no 'data.date'" in message and "report_date" in message


def test_no_configuration_means_no_report(monkeypatch, server):
    monkeypatch.delenv("CREDIT_BUREAU_HTTP_CONFIG", raising=False)
    assert fetch() is None
    assert server.requests == []


def test_404_means_no_report_and_is_not_retried(server, configure, sleeps):
    configure()
    server.reply(Reply(404, {"error": "unknown company"}))
    assert fetch() is None
    assert len(server.requests) == 1 and sleeps == []


# -- retries --------------------------------------------------------------------------------

def test_a_slow_bureau_times_out_after_every_retry(server, configure, sleeps):
    configure(timeout_seconds=0.2, retries=2)
    server.reply(then=Reply(200, GOOD, delay=0.6))
    started = time.monotonic()
    message = failure()
    assert "timed out after 0.2 s" in message and "gave up after 3 attempts" in message
    assert len(server.requests) == 3 and sleeps == [0.01, 0.02]
    assert time.monotonic() - started < 2


def test_500_then_success_gives_the_report_after_backoff(server, configure, sleeps):
    configure(retries=2, backoff_seconds=0.25)
    server.fail(500, times=2, then=Reply(200, GOOD))
    assert fetch() == REPORT
    assert len(server.requests) == 3
    assert sleeps == [0.25, 0.5]  # doubled each retry


def test_500_every_time_is_an_error_naming_the_status(server, configure, sleeps):
    configure(retries=3)
    server.fail(503, times=10)
    message = failure()
    assert "HTTP 503" in message and "gave up after 4 attempts" in message
    assert PATH in message
    assert len(server.requests) == 4 and sleeps == [0.01, 0.02, 0.04]


@pytest.mark.parametrize("status", [400, 401, 403, 422, 429])
def test_other_4xx_answers_are_not_retried(server, configure, sleeps, status):
    configure()
    server.fail(status, times=5)
    message = failure()
    assert f"HTTP {status}" in message and "not retried" in message
    assert len(server.requests) == 1 and sleeps == []


def test_a_redirect_is_not_followed(server, configure):
    configure()
    server.reply(Reply(302, b"", headers={"Location": server.url + "/elsewhere"}))
    message = failure()
    assert "HTTP 302" in message and "redirects are not followed" in message
    assert [seen.path for seen in server.requests] == [PATH]


def test_a_bureau_that_is_down_is_a_connection_error(configure, sleeps):
    dead = BureauServer().start()
    url = dead.url
    dead.stop()
    configure(url=url + "/{customer_id}", retries=1)
    message = failure()
    assert "cannot connect" in message and "gave up after 2 attempts" in message
    assert sleeps == [0.01]


# -- malformed answers ---------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    (b'{"data": {"score": 7', "not valid JSON"),
    (b"<html>Service</html>", "not valid JSON"),
    (b"\xff\xfe\xfa", "not"),
    (b"[1, 2]", "a JSON array, not an object"),
    (b'"report"', "a JSON string, not an object"),
])
def test_malformed_answers_are_errors(server, configure, sleeps, body, expected):
    configure()
    server.reply(Reply(200, body))
    assert expected in failure()
    assert len(server.requests) == 1  # a bad answer is not retried


def test_the_customer_must_have_the_template_fields(server, configure):
    configure()
    message = failure({"id": "C1"})
    assert "no string field 'country'" in message
    assert server.requests == []


def test_configuration_problems_are_located(tmp_path, monkeypatch):
    path = tmp_path / "bad.yaml"
    path.write_text("url: ftp://x/{customer_id}\nretries: -1\nmapping: {score: ''}\n"
                    "colour: blue\n", encoding="utf-8")
    monkeypatch.setenv("CREDIT_BUREAU_HTTP_CONFIG", str(path))
    with pytest.raises(bureau_http.ConfigError) as caught:
        fetch()
    message = str(caught.value)
    assert f"{path}:1:6: must be an absolute http:// or https:// URL" in message
    assert f"{path}:2:10: must be an integer at least 0" in message
    assert f"{path}:3:18: must be a dotted path" in message
    assert f"{path}:4:1: unknown key 'colour'" in message
    path.write_text("url: http://x/{id.__class__}\nmapping: {score: s}\n", encoding="utf-8")
    with pytest.raises(bureau_http.ConfigError, match="is not a placeholder"):
        fetch()
    monkeypatch.setenv("CREDIT_BUREAU_HTTP_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(bureau_http.ConfigError, match="file not found"):
        fetch()


# -- cache ----------------------------------------------------------------------------------

def test_a_cached_report_within_its_age_is_not_fetched_again(server, configure, audit_file):
    configure(cache={"max_age_seconds": 3600})
    server.reply(Reply(200, GOOD))
    assert fetch() == REPORT
    assert fetch() == REPORT
    assert len(server.requests) == 1
    [(url, report, fetched_at)] = cache_rows(audit_file)
    # the URL (which holds customer fields) is kept only as an HMAC under the trail's key
    assert url.startswith("hmac-sha256:") and len(url) == len("hmac-sha256:") + 64
    assert server.url not in url and yaml.safe_load(report) == REPORT
    assert dt.datetime.fromisoformat(fetched_at).tzinfo is not None
    with AuditStore(audit_file) as store:  # the audit file is still an audit file
        assert store.head() is None


def test_a_stale_cached_report_is_fetched_again(server, configure, audit_file):
    configure(cache={"max_age_seconds": 60})
    server.reply(Reply(200, GOOD), then=Reply(200, {"data": {**GOOD["data"], "score": 650}}))
    assert fetch()["score"] == 712
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61)).isoformat()
    with sqlite3.connect(audit_file) as conn:
        conn.execute("UPDATE bureau_http_cache SET fetched_at = ?", (old,))
    assert fetch()["score"] == 650
    assert len(server.requests) == 2
    [(_, report, fetched_at)] = cache_rows(audit_file)
    assert yaml.safe_load(report)["score"] == 650 and fetched_at > old


def test_no_report_and_failures_are_not_cached(server, configure, audit_file, sleeps):
    configure(cache={"max_age_seconds": 3600}, retries=0)
    server.reply(Reply(404), Reply(500), then=Reply(200, GOOD))
    assert fetch() is None
    failure()
    assert fetch() == REPORT
    assert len(server.requests) == 3 and len(cache_rows(audit_file)) == 1


# -- circuit breaker -----------------------------------------------------------------------

def test_the_circuit_opens_after_n_failures_and_closes_after_reset(server, configure, sleeps):
    configure(retries=1, circuit_breaker={"failures": 2, "reset_seconds": 0.3})
    server.fail(500, times=4, then=Reply(200, GOOD))
    failure()
    failure()
    assert len(server.requests) == 4
    message = failure()
    assert message.startswith("circuit open for 127.0.0.1:")
    assert "after 2 consecutive failed calls" in message
    assert len(server.requests) == 4  # failed fast: the server heard nothing
    time.sleep(0.35)
    assert fetch() == REPORT  # the half-open trial call succeeds and closes the circuit
    assert fetch() == REPORT
    assert len(server.requests) == 6


def test_a_failed_trial_call_opens_the_circuit_again(server, configure, sleeps):
    configure(retries=0, circuit_breaker={"failures": 1, "reset_seconds": 0.2})
    server.fail(500, times=2, then=Reply(200, GOOD))
    assert "HTTP 500" in failure()
    assert "circuit open" in failure()
    time.sleep(0.25)
    assert "HTTP 500" in failure()  # the trial
    assert "circuit open" in failure()
    assert len(server.requests) == 2
    time.sleep(0.25)
    assert fetch() == REPORT


def test_a_success_resets_the_failure_count(server, configure, sleeps):
    configure(retries=0, circuit_breaker={"failures": 2, "reset_seconds": 60})
    server.reply(Reply(500), Reply(200, GOOD), Reply(500), then=Reply(200, GOOD))
    failure()
    fetch()
    failure()
    assert fetch() == REPORT


# -- the credential --------------------------------------------------------------------------

def test_the_credential_never_appears_anywhere(server, configure, audit_file, sleeps,
                                               monkeypatch, capfd):
    seen: list[str] = []

    def echo(request):  # a careless bureau that repeats the header in its error body
        return Reply(500, {"error": f"bad token {request.headers.get('Authorization')}"})

    configure(cache={"max_age_seconds": 3600}, retries=1,
              circuit_breaker={"failures": 50, "reset_seconds": 60})
    server.reply(echo, echo, Reply(401, {"token": SECRET}), Reply(200, b"{" + SECRET.encode()),
                 Reply(200, {"data": {**GOOD["data"], "rating": SECRET}}),
                 Reply(200, GOOD, delay=0.5), Reply(200, GOOD, delay=0.5),
                 then=Reply(200, GOOD))
    seen.append(failure())  # 500 twice
    seen.append(failure())  # 401
    seen.append(failure())  # malformed JSON
    echoed = failure()  # the secret in a mapped field is refused
    assert "echoes the auth_header credential" in echoed
    seen.append(echoed)
    seen.append(failure())  # timeouts
    report = fetch()
    assert report == REPORT
    seen.append(repr(report))
    monkeypatch.setenv("BUREAU_TOKEN", SECRET + "\r\nX-Injected: 1")
    seen.append(failure({**CUSTOMER, "id": "other"}))  # an invalid header value
    monkeypatch.delenv("BUREAU_TOKEN")
    seen.append(failure({**CUSTOMER, "id": "other"}))
    assert "BUREAU_TOKEN" in seen[-1] and "is not set" in seen[-1]
    assert all(seen.headers.get("X-Injected") is None for seen in server.requests)
    seen.extend(repr(row) for row in cache_rows(audit_file))
    for path in audit_file.parent.glob(audit_file.name + "*"):
        assert SECRET.encode() not in path.read_bytes()
    out, err = capfd.readouterr()
    seen.extend([out, err])
    assert server.requests[0].headers["Authorization"] == SECRET
    for text in seen:
        assert SECRET not in text and "s3cr3t" not in text


# -- in the engine --------------------------------------------------------------------------

BUREAU = {"waterfall": ["bureau_http"], "on_unavailable": "refer",
          "values": {"score": {"type": "number"}, "rating": {"type": "string"},
                     "report_date": {"type": "date"}, "payment_index": {"type": "number"}}}


def _plugins():
    plugins = load_plugins(entry_points=False)
    if "bureau_http" not in plugins.names():
        register(plugins, bureau_http, "bureau_http", __version__, "built-in")
    return plugins


def test_enrich_records_the_report_with_its_source(server, configure):
    configure()
    server.reply(Reply(200, GOOD))
    result = enrich(SimpleNamespace(enrichment={"bureau": BUREAU}, redact=()), CUSTOMER, AS_OF,
                    _plugins())
    assert result.facts["bureau"] == {**REPORT, "source": "bureau_http"}
    assert result.enriched["bureau.score"] == {"value": 712, "plugin": "bureau_http"}
    assert result.failures == []


def test_a_ruleset_with_the_bureau_refers_when_it_is_down(tmp_path, configure, sleeps):
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder, ignore=shutil.ignore_patterns("tests"))
    spec = yaml.safe_load((folder / "enrichment.yaml").read_text(encoding="utf-8"))
    spec["bureau"] = BUREAU
    (folder / "enrichment.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    ruleset = load_ruleset(folder)
    dead = BureauServer().start()
    url = dead.url
    dead.stop()
    configure(url=url + "/{customer_id}", retries=1)
    result = enrich(ruleset, CUSTOMER, AS_OF, _plugins())
    assert "bureau" not in result.facts
    [failed, unusable] = result.failures
    assert failed["source"] == "bureau_http" and failed["kind"] == "bureau"
    assert "BureauHTTPError" in failed["error"] and "cannot connect" in failed["error"]
    assert unusable["error"].startswith(
        "no usable report: bureau_http (failed: raised BureauHTTPError: ")
    assert SECRET not in repr(result.facts)


# -- a whole attempt within its timeout; a cut-short answer is retried ----------------------

def test_a_bureau_sending_a_byte_now_and_then_times_out_within_the_attempts_timeout(
        server, configure, sleeps):
    configure(timeout_seconds=1, retries=0)
    server.reply(Reply(200, b'{"data": {"score": 712, "date": "2026-06-01"}}' + b" " * 20,
                       trickle=0.3))
    started = time.monotonic()
    message = failure()
    took = time.monotonic() - started
    assert message.endswith("timed out after 1 s (gave up after 1 attempt)")
    assert took < 2.5  # (each byte came within the socket timeout: it ran on before)


def test_an_answer_cut_short_of_its_length_is_retried(server, configure, sleeps):
    configure(retries=1)
    server.reply(Reply(200, b'{"data": {"score": 712', declared_length=5000),
                 then=Reply(200, GOOD))
    assert fetch() == REPORT
    assert len(server.requests) == 2 and sleeps == [0.01]


def test_an_answer_cut_short_every_time_says_so(server, configure, sleeps):
    configure(retries=1)
    server.reply(then=Reply(200, b'{"data": {"score": 712', declared_length=5000))
    assert failure().endswith("the answer was cut short (22 of 5000 bytes) (gave up after "
                              "2 attempts)")


# -- redaction covers every place a customer value can travel to --------------------------

def test_a_redacted_name_in_the_url_reaches_no_record_result_or_cache(
        tmp_path, server, configure, sleeps, audit_file, monkeypatch):
    from click.testing import CliRunner

    from engine.cli.main import cli

    name = "Zebra Kühl & Söhne GmbH"
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder, ignore=shutil.ignore_patterns("tests"))
    spec = yaml.safe_load((folder / "enrichment.yaml").read_text(encoding="utf-8"))
    spec["bureau"] = {**BUREAU, "on_unavailable": "refer"}
    (folder / "enrichment.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    manifest = folder / "ruleset.yaml"
    manifest.write_text(manifest.read_text().replace(
        "redact: [contact.name", "redact: [name, contact.name"))
    configure(url=server.url + "/v1/{customer_id}?n={name}", retries=0,
              cache={"max_age_seconds": 3600})
    server.reply(Reply(500, {"error": "down"}), then=Reply(200, GOOD))
    monkeypatch.setenv("CREDIT_NO_ENTRY_POINTS", "1")
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text(json.dumps({**CUSTOMER, "id": "C-1", "name": name}) + "\n"
                         + json.dumps({**CUSTOMER, "id": "C-2", "name": name}) + "\n")
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(cli, ["batch", str(portfolio), "--out", str(out), "--as-of",
                                      AS_OF.isoformat(), "--ruleset", str(folder), "--db",
                                      str(audit_file)])
    assert result.exit_code == 0, result.stderr
    assert "n=Zebra" in server.requests[0].path  # the bureau was asked with it...
    quoted = [name, "Zebra%20K%C3%BChl%20%26%20S%C3%B6hne%20GmbH",
              "Zebra+K%C3%BChl+%26+S%C3%B6hne+GmbH", "Zebra", "Kühl", "K\\u00fchl"]
    places = [out.read_bytes(), result.stdout.encode(), result.stderr.encode()]
    places.extend(path.read_bytes() for path in audit_file.parent.glob(audit_file.name + "*"))
    for place in places:  # ...and it is nowhere
        for form in quoted:
            assert form.encode() not in place, form
    assert "[redacted]" in out.read_text()  # the failure is still told, without the name
