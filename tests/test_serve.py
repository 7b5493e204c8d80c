"""``credit serve`` in process (Starlette's TestClient): every endpoint, every error
status, tokens and roles, the body limit, idempotent retries, reloads, metrics and the
OpenAPI document. The real server in a subprocess is tested in test_serve_process.py."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import socket
from decimal import Decimal

import pytest

from engine.audit.chain import verify_file
from tests.audit_helpers import copy_ruleset, rows
from tests.credit_cli import invoke_credit
from tests.paths import ROOT
from tests.ruleset_factory import build_ruleset
from tests.serve_helpers import client, customer_json

AS_OF = "as_of=2026-11-30"


@pytest.fixture
def service(tmp_path):
    with client(tmp_path) as (test_client, headers, db):
        yield test_client, headers, db


def decisions(db) -> list[dict]:
    return rows(db, "SELECT seq, decision_id, as_of FROM records WHERE kind = 'decision' "
                    "ORDER BY seq")


def test_a_decision_is_audited_and_names_its_record_and_ruleset(service, default_ruleset):
    test_client, headers, db = service
    answer = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-7"),
                              headers=headers["erp"])
    assert answer.status_code == 200
    data = answer.json()
    assert data["ruleset_hash"] == default_ruleset.hash
    assert answer.headers["Credit-Ruleset-Hash"] == default_ruleset.hash
    assert data["decision"]["customer_id"] == "C-7"
    assert data["decision"]["as_of"] == "2026-11-30"
    [row] = decisions(db)
    assert (row["seq"], row["decision_id"], row["as_of"]) == \
        (data["seq"], data["decision"]["decision_id"], "2026-11-30")
    assert data["hash"] == rows(db, "SELECT hash FROM records WHERE seq = ?",
                                [data["seq"]])[0]["hash"]


def test_the_decision_is_the_one_credit_decide_gives(service, tmp_path):
    test_client, headers, _ = service
    body = customer_json("C-8")
    (tmp_path / "c.json").write_bytes(body)
    cli = invoke_credit("decide", tmp_path / "c.json", "--as-of", "2026-11-30", "--json",
                        "--no-audit")
    answer = test_client.post(f"/v1/decisions?{AS_OF}", content=body, headers=headers["erp"])
    assert answer.json()["decision"] == json.loads(cli.stdout)


def test_without_as_of_the_decision_is_as_of_today_and_recorded_so(service):
    test_client, headers, db = service
    answer = test_client.post("/v1/decisions", content=customer_json(), headers=headers["erp"])
    today = dt.date.today().isoformat()
    assert answer.json()["decision"]["as_of"] == today
    assert decisions(db)[0]["as_of"] == today


@pytest.mark.parametrize(("as_of", "says"), [
    ("9999-12-31", "as_of: 9999-12-31 is outside the days the engine works with "
                   "(1900-01-01 to 9000-12-31)"),
    ("0001-01-01", "as_of: 0001-01-01 is outside the days the engine works with "
                   "(1900-01-01 to 9000-12-31)")])
def test_a_day_at_the_ends_of_the_calendar_is_a_400_not_an_overflow(service, as_of, says):
    test_client, headers, _ = service
    for answer in (
            test_client.post(f"/v1/decisions?as_of={as_of}", content=customer_json(),
                             headers=headers["erp"]),
            test_client.get(f"/v1/customers/C-1/exposure?as_of={as_of}",
                            headers=headers["erp"])):
        assert answer.status_code == 400 and answer.json()["problems"] == [says]


def test_odd_record_references_are_404s(service):
    test_client, headers, _ = service
    for ref in ("99999999999999999999999", "%C2%B2", "1"):
        answer = test_client.get(f"/v1/decisions/{ref}", headers=headers["auditor"])
        assert answer.status_code == 404, (ref, answer.text)


def test_an_exposure_without_the_rate_it_needs_is_a_422(service, monkeypatch):
    monkeypatch.delenv("CREDIT_RATES_FILE", raising=False)
    test_client, headers, _ = service
    dollars = [{**EVENTS[0], "currency": "USD"}]
    test_client.post("/v1/events", content=json.dumps(dollars), headers=headers["erp"])
    answer = test_client.get(f"/v1/customers/C-1/exposure?{AS_OF}", headers=headers["erp"])
    assert answer.status_code == 422, answer.text
    assert "No USD to EUR exchange rate" in answer.json()["problems"][0]


@pytest.mark.parametrize("query", [
    b"", b"as_of=2026-11-30", b"as_of=", b"as_of=-", b"as_of=2026-11-30&as_of=2025-01-01",
    b"as_of=2026%2D11%2D30", b"as_of=2026-11-30%00", b"as_of=+2026-11-30", b"x=1&as_of=2026-11-30",
    b"as_of=2026-11-30&x=1", b"as_of=2026-11-30;x=1", b"as_ofx=1", b"AS_OF=2026-11-30",
    b"as_of=\xc3\xa9", b"as_of=99999999999999999999-1-1", b"as_of", b"as_of==2026-11-30"])
def test_the_as_of_read_straight_from_the_query_is_the_one_starlette_parses(query):
    from starlette.requests import Request

    from engine.serve.requests import as_of_param

    request = Request({"type": "http", "query_string": query, "headers": []})
    assert as_of_param(request) == request.query_params.get("as_of")


def test_a_bad_as_of_is_a_400(service):
    test_client, headers, db = service
    answer = test_client.post("/v1/decisions?as_of=30.11.2026", content=customer_json(),
                              headers=headers["erp"])
    assert answer.status_code == 400
    assert answer.json()["problems"] == ["as_of: '30.11.2026' is not a date (YYYY-MM-DD)"]
    assert decisions(db) == []


def test_a_document_failing_its_schema_is_a_422_with_the_messages_the_cli_gives(
        service, tmp_path):
    test_client, headers, db = service
    body = b'{"name": 5, "founded": "x"}'
    (tmp_path / "bad.json").write_bytes(body)
    cli = invoke_credit("decide", tmp_path / "bad.json", "--no-audit")
    answer = test_client.post("/v1/decisions", content=body, headers=headers["erp"])
    assert answer.status_code == 422
    expected = [line.replace(str(tmp_path / "bad.json"), "request body")
                for line in cli.stderr.splitlines()]
    assert answer.json()["problems"] == expected
    assert "request body: /id: required property is missing" in expected
    assert decisions(db) == []


@pytest.mark.parametrize(("body", "problem"), [
    (b'{"id": ', "request body:1:8: Expecting value"),
    (b'{"id": "a", "id": "b"}', "request body: duplicate key 'id'"),
    (b'[1, 2]', "request body: a customer document must be a JSON object"),
    (b'{"id": "a", "x": NaN}', "request body: NaN is not a number JSON allows"),
    (b'\xff\xfe{}', "request body: not valid UTF-8 text"),
    (b'', "request body:1:1: Expecting value"),
])
def test_a_body_that_is_not_a_json_document_is_a_400_located(service, body, problem):
    test_client, headers, _ = service
    answer = test_client.post("/v1/decisions", content=body, headers=headers["erp"])
    assert answer.status_code == 400
    assert answer.json()["problems"] == [problem]


def test_hostile_bodies_never_make_a_500(service):
    test_client, headers, db = service
    for body in (b"[" * 5000 + b"]" * 5000, b'{"id": "a", "n": ' + b"9" * 50 + b"}",
                 b'{"id": "\\ud800"}', b'{"id": "a", "n": 1e999}',
                 json.dumps({"id": "a", "deep": json.loads("[" * 40 + "]" * 40)}).encode()):
        answer = test_client.post("/v1/decisions", content=body, headers=headers["erp"])
        assert answer.status_code in (400, 422), (body[:40], answer.text)
        assert "Traceback" not in answer.text
    assert decisions(db) == []


def test_a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_a_413(tmp_path):
    with client(tmp_path, max_body=4096) as (test_client, headers, db):
        body = customer_json("C-9")
        at_limit = body + b" " * (4096 - len(body))
        assert len(at_limit) == 4096
        answer = test_client.post("/v1/decisions", content=at_limit, headers=headers["erp"])
        assert answer.status_code == 200
        over = test_client.post("/v1/decisions", content=at_limit + b" ",
                                headers=headers["erp"])
        assert over.status_code == 413
        assert over.json()["error"] == "the body is larger than the limit of 4,096 bytes"
        assert len(decisions(db)) == 1


def test_a_body_streamed_past_the_limit_without_a_length_is_a_413(tmp_path):
    with client(tmp_path, max_body=1000) as (test_client, headers, _):
        chunks = (b" " * 400 for _ in range(3))  # no Content-Length: chunked
        answer = test_client.post("/v1/decisions", content=chunks, headers=headers["erp"])
        assert answer.status_code == 413


def test_tokens_and_roles_and_every_refusal_is_logged_without_the_token(service, caplog):
    test_client, headers, db = service
    caplog.set_level(logging.WARNING, logger="credit.serve")
    body = customer_json()
    no_token = test_client.post("/v1/decisions", content=body)
    assert no_token.status_code == 401
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = test_client.post("/v1/decisions", content=body,
                               headers={"Authorization": "Bearer crt_not-a-token"})
    assert unknown.status_code == 401
    wrong_role = test_client.post("/v1/decisions", content=body, headers=headers["auditor"])
    assert wrong_role.status_code == 403
    assert wrong_role.json()["error"] == ("token auditor may not do this (it needs the "
                                          "integrator role)")
    assert test_client.get("/v1/audit/head", headers=headers["erp"]).status_code == 403
    assert test_client.post("/v1/admin/reload", headers=headers["erp"]).status_code == 403
    refused = [r.getMessage() for r in caplog.records if r.name == "credit.serve"]
    assert refused[:3] == [
        "refused (401, no token): POST /v1/decisions from 127.0.0.1",
        "refused (401, unknown token): POST /v1/decisions from 127.0.0.1",
        "refused (403, token auditor has no integrator role): POST /v1/decisions from "
        "127.0.0.1"]
    assert len(refused) == 5
    secrets = [h["Authorization"].split()[1] for h in headers.values()]
    assert not any(s in line for s in [*secrets, "crt_not-a-token"] for line in refused)
    assert decisions(db) == []


def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_record(service):
    test_client, headers, db = service
    keyed = {**headers["erp"], "Idempotency-Key": "order-4711"}
    first = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(), headers=keyed)
    again = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(), headers=keyed)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(decisions(db)) == 1


def test_the_same_key_with_another_body_is_a_409_and_records_nothing(service):
    test_client, headers, db = service
    keyed = {**headers["erp"], "Idempotency-Key": "k-1"}
    first = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-1"),
                             headers=keyed)
    other = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-2"),
                             headers=keyed)
    assert other.status_code == 409
    assert other.json()["error"] == (f"Idempotency-Key 'k-1' was used for a different "
                                     f"request (answered with record {first.json()['seq']});"
                                     " use a new key for a new request")
    assert len(decisions(db)) == 1


def test_keys_belong_to_their_token_and_survive_a_restart(tmp_path):
    with client(tmp_path) as (test_client, headers, db):
        keyed = {**headers["erp"], "Idempotency-Key": "k-2"}
        first = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(),
                                 headers=keyed).json()
    with client(tmp_path) as (test_client, headers, db):  # new tokens, same audit file
        keyed = {**headers["erp"], "Idempotency-Key": "k-2"}
        again = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(),
                                 headers=keyed)
        assert again.json() == first
        assert len(decisions(db)) == 1


def test_a_bad_idempotency_key_is_a_400(service):
    test_client, headers, _ = service
    answer = test_client.post("/v1/decisions", content=customer_json(),
                              headers={**headers["erp"], "Idempotency-Key": "x" * 201})
    assert answer.status_code == 400


EVENTS = [{"id": "E-1", "customer_id": "C-1", "type": "invoice_issued",
           "occurred_at": "2026-11-01", "invoice_id": "I-1", "amount": 1200,
           "due_date": "2026-12-01"},
          {"id": "E-2", "customer_id": "C-1", "type": "payment_received",
           "occurred_at": "2026-11-10", "invoice_id": "I-1", "amount": 200}]


def test_events_as_json_lines_or_an_array_are_appended_once_by_id(service):
    test_client, headers, db = service
    lines = "\n".join(json.dumps(e) for e in EVENTS).encode()
    first = test_client.post("/v1/events", content=lines, headers=headers["erp"])
    assert first.status_code == 200, first.text
    assert first.json()["ingested"] == 2 and first.json()["duplicates"] == []
    again = test_client.post("/v1/events", content=json.dumps(EVENTS), headers=headers["erp"])
    assert again.json() == {"ingested": 0, "duplicates": ["E-1", "E-2"], "last": None}
    assert len(rows(db, "SELECT seq FROM records WHERE kind = 'event'")) == 2
    exposure = test_client.get(f"/v1/customers/C-1/exposure?{AS_OF}", headers=headers["erp"])
    assert exposure.status_code == 200
    assert exposure.json()["exposure"]["customer_id"] == "C-1"
    assert exposure.json()["exposure"]["total"] == "1000.00"


def test_a_bad_event_refuses_the_whole_request_with_located_messages(service):
    test_client, headers, db = service
    bad = [EVENTS[0], {"id": "E-3", "customer_id": "C-1", "type": "invoice_issued"}]
    answer = test_client.post("/v1/events", content=json.dumps(bad), headers=headers["erp"])
    assert answer.status_code == 422
    assert "request body: [1]: /occurred_at: required property is missing" in \
        answer.json()["problems"]
    lines = (json.dumps(EVENTS[0]) + "\n{oops\n").encode()
    answer = test_client.post("/v1/events", content=lines, headers=headers["erp"])
    assert answer.status_code == 400
    assert answer.json()["problems"][0].startswith("request body:2:2: ")
    assert rows(db, "SELECT seq FROM records WHERE kind = 'event'") == []


def test_exposure_of_an_unknown_customer_is_a_404(service):
    test_client, headers, _ = service
    answer = test_client.get("/v1/customers/NOBODY/exposure", headers=headers["auditor"])
    assert answer.status_code == 404


def test_an_auditor_reads_decisions_by_number_or_id_and_the_head(service):
    test_client, headers, _ = service
    made = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(),
                            headers=headers["erp"]).json()
    by_seq = test_client.get(f"/v1/decisions/{made['seq']}", headers=headers["auditor"])
    by_id = test_client.get(f"/v1/decisions/{made['decision']['decision_id']}",
                            headers=headers["auditor"])
    assert by_seq.json() == by_id.json() == made
    assert test_client.get("/v1/decisions/999", headers=headers["auditor"]).status_code == 404
    assert test_client.get("/v1/decisions/1", headers=headers["auditor"]).status_code == 404
    head = test_client.get("/v1/audit/head", headers=headers["auditor"]).json()
    assert head == {"seq": made["seq"], "hash": made["hash"]}


def test_an_order_check_is_audited_and_a_retry_gets_the_first_answer(service):
    test_client, headers, db = service
    test_client.post("/v1/events", content=json.dumps(EVENTS), headers=headers["erp"])
    test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-1"),
                     headers=headers["erp"])
    order = json.dumps({"id": "SO-1", "customer_id": "C-1", "amount": 5000})
    keyed = {**headers["erp"], "Idempotency-Key": "so-1"}
    answer = test_client.post(f"/v1/orders/check?{AS_OF}", content=order, headers=keyed)
    assert answer.status_code == 200, answer.text
    check = answer.json()
    assert check["check"]["outcome"] == "pass"
    assert check["check"]["facts"]["exposure"] == "1000.00"
    again = test_client.post(f"/v1/orders/check?{AS_OF}", content=order, headers=keyed)
    assert again.json() == check
    assert len(rows(db, "SELECT seq FROM records WHERE kind = 'order-check'")) == 1
    bad = test_client.post("/v1/orders/check", content=b'{"id": "SO-2"}',
                           headers=headers["erp"])
    assert bad.status_code == 422
    assert "request body: /customer_id: required property is missing" in \
        bad.json()["problems"]


def test_an_order_check_of_an_account_in_dollars_names_its_rates_also_when_retried(
        service, monkeypatch):
    monkeypatch.setenv("CREDIT_RATES_FILE", str(ROOT / "examples" / "rates.csv"))
    test_client, headers, _ = service
    dollars = [{**event, "id": "U" + event["id"], "currency": "USD"} for event in EVENTS]
    test_client.post("/v1/events", content=json.dumps(dollars), headers=headers["erp"])
    test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-1"),
                     headers=headers["erp"])
    order = json.dumps({"id": "SO-7", "customer_id": "C-1", "amount": 5000})
    keyed = {**headers["erp"], "Idempotency-Key": "so-7"}
    check = test_client.post(f"/v1/orders/check?{AS_OF}", content=order, headers=keyed).json()
    assert check["check"]["rates"] == [{"currency": "USD", "rate": "0.9215",
                                        "on": "2026-11-30", "plugin": "exchange_rates"}]
    assert check["check"]["facts"]["exposure"] == "921.50"  # 1,000 USD open
    again = test_client.post(f"/v1/orders/check?{AS_OF}", content=order, headers=keyed)
    assert again.json() == check


def test_a_ruleset_without_order_checks_answers_501(tmp_path):
    folder = build_ruleset(tmp_path / "small")
    with client(tmp_path, ruleset=folder) as (test_client, headers, _):
        answer = test_client.post("/v1/orders/check", content=b'{}', headers=headers["erp"])
        assert answer.status_code == 501


def test_reload_swaps_a_good_ruleset_and_keeps_the_old_one_when_the_new_is_broken(
        tmp_path, default_ruleset):
    folder = copy_ruleset(tmp_path)
    with client(tmp_path, ruleset=folder) as (test_client, headers, db):
        assert test_client.post("/v1/admin/reload", headers=headers["admin"]).json()[
            "changed"] is False
        (folder / "ruleset.yaml").write_text(
            (folder / "ruleset.yaml").read_text().replace("version:", "version: '1.0.1'\n#"),
            encoding="utf-8")
        good = test_client.post("/v1/admin/reload", headers=headers["admin"])
        assert good.status_code == 200 and good.json()["changed"] is True
        new_hash = good.json()["ruleset"]["hash"]
        assert new_hash != default_ruleset.hash
        decided = test_client.post("/v1/decisions", content=customer_json(),
                                   headers=headers["erp"])
        assert decided.json()["ruleset_hash"] == new_hash
        assert decided.json()["decision"]["ruleset"]["version"] == "1.0.1"
        grading = folder / "grading.yaml"
        grading.write_text(grading.read_text() + "\nbands: [oops\n", encoding="utf-8")
        broken = test_client.post("/v1/admin/reload", headers=headers["admin"])
        assert broken.status_code == 422
        assert broken.json()["error"].endswith("still using default 1.0.1")
        assert broken.json()["problems"][0].startswith(str(grading))
        still = test_client.post("/v1/decisions", content=customer_json("C-3"),
                                 headers=headers["erp"])
        assert still.headers["Credit-Ruleset-Hash"] == new_hash
        loaded = rows(db, "SELECT ruleset_hash FROM records WHERE kind = 'ruleset-loaded'")
        assert [r["ruleset_hash"] for r in loaded] == [default_ruleset.hash, new_hash]
        metrics = test_client.get("/metrics").text
        assert 'credit_ruleset_reloads_total{result="refused"} 1.0' in metrics
        assert f'hash="{new_hash}"' in metrics and default_ruleset.hash not in metrics


def test_health_readiness_and_metrics(service):
    test_client, headers, _ = service
    assert test_client.get("/healthz").json() == {"status": "ok"}
    assert test_client.get("/readyz").json()["ready"] is True
    test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(), headers=headers["erp"])
    test_client.post("/v1/decisions", content=b"{", headers=headers["erp"])
    metrics = test_client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for line in ('credit_http_requests_total{method="POST",route="/v1/decisions",'
                 'status="200"} 1.0',
                 'credit_http_requests_total{method="POST",route="/v1/decisions",'
                 'status="400"} 1.0',
                 'credit_decisions_total{outcome="accept"} 1.0',
                 "credit_audit_records_appended_total 1.0",
                 'credit_http_request_seconds_count{route="/v1/decisions"} 2.0'):
        assert line in text.splitlines(), line


def test_the_kept_series_count_every_request_and_decision():
    from engine.serve.metrics import Metrics

    metrics = Metrics()
    for status, outcome in ((200, "accept"), (200, "refer"), (422, None), (200, "accept")):
        metrics.answered("POST", "/v1/decisions", status, 0.004)
        if outcome:
            metrics.decided(outcome)
    lines = metrics.text().decode().splitlines()
    for line in ('credit_http_requests_total{method="POST",route="/v1/decisions",'
                 'status="200"} 3.0',
                 'credit_http_requests_total{method="POST",route="/v1/decisions",'
                 'status="422"} 1.0',
                 'credit_http_request_seconds_count{route="/v1/decisions"} 4.0',
                 'credit_http_request_seconds_bucket{le="0.005",route="/v1/decisions"} 4.0',
                 'credit_decisions_total{outcome="accept"} 2.0',
                 'credit_decisions_total{outcome="refer"} 1.0'):
        assert line in lines, line


def test_the_openapi_document_refers_to_the_projects_own_schemas(service):
    test_client, _, _ = service
    document = test_client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    def walk(node, found: set) -> set:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#"):
                found.add(node["$ref"])
            for value in node.values():
                walk(value, found)
        elif isinstance(node, list):
            for value in node:
                walk(value, found)
        return found

    refs = walk(document, set())
    assert {"/schemas/customer.schema.json", "/schemas/decision.schema.json",
            "/schemas/order.schema.json", "/schemas/event.schema.json"} <= refs
    for ref in refs:
        served = test_client.get(ref)
        assert served.status_code == 200
        assert served.content == (ROOT / "schemas" / ref.rsplit("/", 1)[1]).read_bytes()
        inner = walk(served.json(), set())  # the files it refers to are served beside it
        for name in {r.split("#")[0] for r in inner}:
            assert test_client.get(f"/schemas/{name}").status_code == 200, name
    paths = {path for path in document["paths"]}
    from engine.serve.app import ROUTES

    assert paths == {path for path, *_ in ROUTES} - {"/openapi.json", "/schemas/{name}"}
    assert test_client.get("/schemas/../pyproject.toml").status_code == 404


def test_the_trail_a_service_wrote_verifies(service):
    test_client, headers, db = service
    for number in range(5):
        test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(f"C-{number}"),
                         headers=headers["erp"])
    test_client.post("/v1/events", content=json.dumps(EVENTS), headers=headers["erp"])
    report = verify_file(str(db))
    assert report.failed_seq is None and report.checked == 8
    assert report.warnings == ()


def test_a_tokens_file_with_a_bad_line_stops_the_start_naming_it(tmp_path):
    from engine.serve.state import ServeConfig, Service
    from engine.serve.tokens import TokenFileError

    tokens = tmp_path / "tokens.jsonl"
    tokens.write_text('# clients\n{"name": "erp", "roles": ["boss"], "sha256": "ab"}\n')
    with pytest.raises(TokenFileError, match=r"tokens.jsonl:2: token 'erp': unknown role "
                                             r"'boss'"):
        Service(ServeConfig(db=str(tmp_path / "a.db"), ruleset=str(tmp_path),
                            tokens=str(tokens)))


def test_credit_serve_token_prints_the_token_once_and_adds_its_hash(tmp_path):
    from engine.serve.tokens import Tokens

    result = invoke_credit("serve", "token", "erp-1", "--role", "integrator", "--to",
                           tmp_path / "tokens.jsonl")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[0].split()[1]
    text = (tmp_path / "tokens.jsonl").read_text()
    assert token not in text
    principal = Tokens.read(tmp_path / "tokens.jsonl").who(f"Bearer {token}")
    assert principal.name == "erp-1" and principal.roles == {"integrator"}


def test_a_token_for_a_file_that_cannot_be_written_is_not_shown(tmp_path):
    result = invoke_credit("serve", "token", "erp-1", "--role", "integrator", "--to",
                           tmp_path / "no-such-folder" / "tokens.jsonl")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.endswith("cannot add to it (No such file or directory)\n")


def test_a_service_that_cannot_start_says_why_in_one_line(tmp_path):
    assert invoke_credit("serve", "token", "erp", "--role", "integrator", "--to",
                         tmp_path / "t.jsonl").exit_code == 0
    result = invoke_credit("serve", "--tokens", tmp_path / "t.jsonl", "--db",
                           tmp_path / "missing" / "a.db")
    assert result.exit_code == 1
    assert result.stderr.endswith("a.db: cannot open the audit file (unable to open "
                                  "database file)\n") and "Traceback" not in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke_credit("serve", "--tokens", tmp_path / "t.jsonl", "--db",
                               tmp_path / "a.db", "--port", port)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"credit: error: 127.0.0.1:{port}: cannot listen there")
    assert len(result.stderr.splitlines()) == 1


def test_credit_serve_without_tokens_is_a_usage_error():
    result = invoke_credit("serve")
    assert result.exit_code == 2
    assert "--tokens FILE is required" in result.stderr


def test_the_service_room_is_not_loaded_by_other_commands(tmp_path):
    shutil.copy(ROOT / "examples" / "customers" / "bbb-distributor.json", tmp_path / "c.json")
    from tests.test_startup import loaded_by

    loaded = loaded_by("decide", str(tmp_path / "c.json"), "--no-audit")
    assert not [m for m in loaded if m.startswith("engine.serve")]


def test_without_its_writer_the_service_is_not_ready_and_records_nothing(service):
    test_client, headers, db = service
    test_client.app.state.service.writer.stop()
    assert test_client.get("/readyz").status_code == 503
    answer = test_client.post("/v1/decisions", content=customer_json(), headers=headers["erp"])
    assert answer.status_code == 503
    assert answer.json()["error"] == ("the audit writer is not running: nothing can be "
                                      "recorded")
    assert decisions(db) == []


def test_an_override_added_while_serving_applies_to_the_next_decision(service):
    test_client, headers, db = service
    first = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-5"),
                             headers=headers["erp"]).json()["decision"]
    assert first["overrides"] == []
    added = invoke_credit("override", "add", "C-5", "--refer", "--reason", "site visit",
                          "--by", "ana", "--role", "credit_analyst", "--db", db)
    assert added.exit_code == 0, added.output
    second = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-5"),
                              headers=headers["erp"]).json()["decision"]
    assert [o["kind"] for o in second["overrides"]] == ["refer"]
    third = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-6"),
                             headers=headers["erp"]).json()["decision"]
    assert third["overrides"] == []


def test_an_auditor_gets_a_proof_that_checks_with_the_public_key_alone(tmp_path):
    from engine.audit.checkpoints import load_public_key
    from engine.audit.proofs import check_proof

    assert invoke_credit("audit", "keygen", "--out", tmp_path / "signer.key").exit_code == 0
    with client(tmp_path, sign_key=str(tmp_path / "signer.key")) as (test_client, headers, _):
        made = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json(),
                                headers=headers["erp"]).json()
        answer = test_client.get(f"/v1/decisions/{made['decision']['decision_id']}/proof",
                                 headers=headers["auditor"])
        assert answer.status_code == 200, answer.text
        record = check_proof(answer.json(), load_public_key(tmp_path / "signer.key.pub"))
        assert (record["seq"], record["hash"]) == (made["seq"], made["hash"])
        for ref in ("999", "1", "99999999999999999999999", "%C2%B2"):  # 1: ruleset-loaded
            assert test_client.get(f"/v1/decisions/{ref}/proof",
                                   headers=headers["auditor"]).status_code == 404, ref
        assert test_client.get(f"/v1/decisions/{made['seq']}/proof",
                               headers=headers["erp"]).status_code == 403


def test_without_a_signing_key_there_are_no_proofs(service):
    test_client, headers, _ = service
    answer = test_client.get("/v1/decisions/1/proof", headers=headers["auditor"])
    assert answer.status_code == 501


def test_an_answer_orjson_cannot_write_is_written_by_json():
    from engine.serve.app import json_response

    huge = {"value": 10 ** 30, "amount": Decimal("1.50"),
            "day": dt.date(2026, 11, 30)}
    assert json.loads(json_response(huge).body) == {"value": 10 ** 30, "amount": "1.50",
                                                    "day": "2026-11-30"}


def test_an_unknown_path_or_method_answers_in_json(service):
    test_client, headers, _ = service
    missing = test_client.get("/v1/nothing", headers=headers["erp"])
    assert missing.status_code == 404
    assert missing.json() == {"error": "no such endpoint", "problems": []}
    wrong = test_client.get("/v1/decisions", headers=headers["erp"])
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.json()["error"] == "GET is not allowed on /v1/decisions"


def test_events_with_text_after_the_array_are_a_400(service):
    test_client, headers, db = service
    answer = test_client.post("/v1/events", content=b'[], "x": [1]', headers=headers["erp"])
    assert answer.status_code == 400, answer.text
    assert rows(db, "SELECT seq FROM records WHERE kind = 'event'") == []


def test_a_decision_the_rules_cannot_make_is_a_422_naming_the_rule_and_no_record(tmp_path):
    """Decided on a worker thread, the failure reaches the request through the hand-over
    to the writer; nothing is appended and the next request is served."""
    folder = tmp_path / "ruleset"
    shutil.copytree(ROOT / "rulesets" / "default", folder)
    derived = folder / "derived.yaml"
    huge = " * ".join(["floor(1e300)"] * 16)  # about 4,800 digits: JSON cannot hold it
    derived.write_text(derived.read_text().replace("derived:\n",
                                                   f"derived:\n  huge:\n    expr: {huge}\n", 1))
    with client(tmp_path, folder) as (test_client, headers, db):
        answer = test_client.post(f"/v1/decisions?{AS_OF}", content=customer_json("C-1"),
                                  headers=headers["erp"])
        assert answer.status_code == 422
        assert answer.json() == {
            "error": "the rules cannot decide this customer",
            "problems": ["request body: derived huge: its value cannot be written (a whole "
                         "number past 4,300 digits)"]}
        assert decisions(db) == []
        assert test_client.get("/readyz").status_code == 200
