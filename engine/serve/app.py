"""The routes of ``credit serve``, as a Starlette application (``create_app``).

Every route goes through ``_route``: the token and role are checked first (401, 403, each
refusal logged without the token), the handler runs, a ``Refusal`` becomes its status
with a JSON body, anything unexpected becomes a 500 whose details go to the server log
only; the answer names the ruleset it used (``Credit-Ruleset-Hash``) and is counted.
Deciding and reading run on worker threads; appending only in the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..audit.checkpoints import CheckpointError, sign_head
from ..audit.decision_records import UnpackedRecord
from ..audit.events import event_problems, event_record, has_records
from ..audit.proofs import prove
from ..audit.store import AuditError
from ..enrich.customer_documents import InputError, check_customer, parse_json_document
from ..errors import CreditRulesError, DecisionError
from ..orders.exposure import customer_exposure
from ..orders.order_check import check_order_document, checked_order
from ..paths import SCHEMA_DIR
from ..ruleset.compiler import CompiledRuleset
from ..service import Decided, decide_document, notify_recorded
from .answers import (
    answer_json,
    decision_answer,
    decision_answer_json,
    decision_json,
    order_check_answer,
    stored_answer,
)
from .handover import LoopFuture
from .idempotency import Claim, kept, key_problem, request_digest
from .openapi import openapi_document
from .requests import (
    WHERE,
    Refusal,
    as_of_date,
    as_of_param,
    body_text,
    header,
    json_document,
    read_body,
    schema_refusal,
)
from .state import ServeConfig, Service
from .tokens import Principal
from .writer import WriterStopped, Written

log = logging.getLogger("credit.serve")
RULESET_HEADER = "Credit-Ruleset-Hash"
REPLAYED_HEADER = "Idempotent-Replayed"

Handler = Callable[[Service, Request, Principal | None], Awaitable[Response]]


def json_response(data: object, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer (``answers.answer_json``)."""
    return Response(answer_json(data), status, headers=headers, media_type="application/json")


class RulesetAnswer(Response):
    """A 200 JSON answer naming the ruleset that made it (``Credit-Ruleset-Hash``): the
    head ``Response(body, headers={RULESET_HEADER: ruleset_hash},
    media_type="application/json")`` has, the same headers in the same order, written
    straight instead of through a dict and Starlette's header objects, and not looked
    through again by ``_route`` for the ruleset's header (5-6 us a decision)."""

    media_type = "application/json"

    def __init__(self, body: bytes, ruleset_hash: str):  # (all Response.__init__ sets)
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"credit-ruleset-hash", ruleset_hash.encode("latin-1")),
                            (b"content-length", str(len(body)).encode("latin-1")),
                            (b"content-type", b"application/json")]


def _authorize(service: Service, request: Request, roles: tuple[str, ...]) -> Principal:
    authorization = header(request, b"authorization")
    principal = service.tokens.who(authorization)
    if principal is None:
        reason = "no token" if not authorization else "unknown token"
        log.warning("refused (401, %s): %s", reason, _attempt(request))
        service.metrics.refused.labels("401").inc()
        raise Refusal(401, "a valid bearer token is required",
                      headers={"WWW-Authenticate": 'Bearer realm="credit"'})
    if not principal.roles & set(roles):
        log.warning("refused (403, token %s has no %s role): %s", principal.name,
                    " or ".join(roles), _attempt(request))
        service.metrics.refused.labels("403").inc()
        raise Refusal(403, f"token {principal.name} may not do this (it needs the "
                           f"{' or '.join(roles)} role)")
    return principal


def _attempt(request: Request) -> str:
    """A refused request as the log names it (built only for a refusal: the URL costs
    more than the token check)."""
    client = request.client.host if request.client else "?"
    return f"{request.method} {request.url.path} from {client}"


def _route(service: Service, path: str, methods: list[str], roles: tuple[str, ...],
           handler: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            principal = _authorize(service, request, roles) if roles else None
            response = await handler(service, request, principal)
        except Refusal as exc:
            response = json_response(exc.to_dict(), exc.status, exc.headers)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            response = json_response({"error": "internal error (the server log has the "
                                      "details)", "problems": []}, 500)
        if response.__class__ is not RulesetAnswer and RULESET_HEADER not in response.headers:
            response.headers[RULESET_HEADER] = service.rulesets.current.hash
        service.metrics.answered(request.method, path, response.status_code,
                                 time.perf_counter() - started)
        return response

    return Route(path, endpoint, methods=methods)


# -- idempotency ---------------------------------------------------------------------------

async def _claim(service: Service, request: Request, principal: Principal, body: bytes
                 ) -> tuple[Claim | None, Response | None]:
    """The request's Idempotency-Key claim, and the first answer when it is a retry."""
    key = header(request, b"idempotency-key")
    if key is None:
        return None, None
    problem = key_problem(key)
    if problem:
        raise Refusal(400, problem)
    claim = Claim(principal.name, key, request_digest(request.method, request.url.path,
                                                      request.url.query, body))
    first = await service.in_pool(lambda: kept(service.reader().conn, claim.principal, key))
    if first is None:
        return claim, None
    return claim, await _replay(service, claim, first.seq, first.request_sha256)


async def _recording(service: Service, request: Request, principal: Principal
                     ) -> tuple[bytes, Claim | None, Response | None]:
    """A request that records: its body (within the size limit), its Idempotency-Key
    claim, and the first answer when it is a retry."""
    body = await read_body(request, service.config.max_body)
    claim, replayed = await _claim(service, request, principal, body)
    return body, claim, replayed


async def _replay(service: Service, claim: Claim, seq: int, first_sha256: str) -> Response:
    if first_sha256 != claim.request_sha256:
        raise Refusal(409, f"Idempotency-Key {claim.key!r} was used for a different request "
                           f"(answered with record {seq}); use a new key for a new request")

    def read() -> dict:
        store = service.reader()
        return stored_answer(store, store.record(str(seq)))

    answer = await service.in_pool(read)
    return json_response(answer, headers={REPLAYED_HEADER: "true",
                                          RULESET_HEADER: answer["ruleset_hash"]})


async def _written(service: Service, waiting: Awaitable, claim: Claim | None
                   ) -> Written | Response:
    """Wait for the writer; a key another request kept meanwhile gives its answer."""
    try:
        written: Written = await waiting
    except WriterStopped:
        raise Refusal(503, "the audit writer is not running: nothing can be recorded") \
            from None
    if written.replay_of is not None and claim is not None:
        return await _replay(service, claim, written.replay_of, written.first_request_sha256)
    return written


# -- deciding ------------------------------------------------------------------------------

async def post_decision(service: Service, request: Request, principal: Principal) -> Response:
    """Decide a customer document and record the decision (integrator)."""
    body, claim, replayed = await _recording(service, request, principal)
    if replayed is not None:
        return replayed
    as_of = as_of_date(as_of_param(request))
    document = json_document(body)
    try:
        check_customer(document, WHERE)
    except InputError as exc:
        raise schema_refusal(exc, "customer document") from None
    ruleset = service.rulesets.current
    deciding = Deciding(LoopFuture(asyncio.get_running_loop()))
    service.workers.call(_decide_and_hand_over, service, ruleset, document, as_of, claim,
                         deciding)
    try:
        written = await _written(service, deciding.answered.waiting, claim)
    except DecisionError as exc:
        raise Refusal(422, "the rules cannot decide this customer", [f"{WHERE}: {exc}"]) \
            from None
    if isinstance(written, Response):
        return written
    decided, record = deciding.decided, deciding.record
    seq, digest = written.appended[0]
    service.metrics.decided(decided.decision.outcome or "none")
    if service.listening:
        for warning in await service.in_pool(notify_recorded, service.plugins, [
                (seq, digest, record, decided.decision.summary())]):
            log.warning("%s", warning)
    if deciding.answer is None:
        return RulesetAnswer(answer_json(decision_answer(seq, digest, ruleset.hash,
                                                         deciding.data)), ruleset.hash)
    return RulesetAnswer(decision_answer_json(seq, digest, ruleset.hash, deciding.answer),
                         ruleset.hash)


@dataclass
class Deciding:
    """A decision on its way: made on a worker thread, then appended by the writer,
    which resolves ``answered`` (with the writer's ``Written``, or what deciding raised).
    The decision for the answer is ``answer``, already JSON (``decision_json``), or else
    ``data`` (``Decided.to_dict``)."""

    answered: LoopFuture
    decided: Decided | None = None
    record: UnpackedRecord | None = None
    answer: bytes | None = None
    data: dict | None = None


def _decide_and_hand_over(service: Service, ruleset: CompiledRuleset, document: dict,
                          as_of: dt.date, claim: Claim | None, deciding: Deciding) -> None:
    """On a worker thread: decide, then hand the record to the writer straight away. The
    event loop wakes once for the request, when its record is committed, not also in
    between to pass the record on: about 75 us of CPU less a decision (measured on the
    service without HTTP, 16 requests at a time: 565 -> 490 us)."""
    try:
        decided = deciding.decided = decide_document(ruleset, document, as_of,
                                                     service.plugins)
        # Unpacked: the writer compresses a group's bodies in one go (writer._pack).
        deciding.record, _ = decided.record(service.salt, packed=False)
        deciding.answer = decision_json(decided, deciding.record)
        if deciding.answer is None:
            deciding.data = decided.to_dict(written=deciding.record)
    except BaseException as exc:  # the request raises it, as if it had decided itself
        if not deciding.answered.cancelled():
            deciding.answered.set_exception(exc)
        return
    service.writer.submit([deciding.record], rulesets=(ruleset,), claim=claim,
                          future=deciding.answered)


async def post_order_check(service: Service, request: Request, principal: Principal
                           ) -> Response:
    """Check a sales order against the trail and record the check (integrator)."""
    body, claim, replayed = await _recording(service, request, principal)
    if replayed is not None:
        return replayed
    as_of = as_of_date(as_of_param(request))
    ruleset = service.rulesets.current
    if ruleset.order_check is None:
        raise Refusal(501, f"ruleset {ruleset.name} {ruleset.version} has no order checks "
                           "(stages: order_check: in ruleset.yaml)")
    document = json_document(body)
    try:
        order = checked_order(document, WHERE, ruleset)
    except InputError as exc:
        raise schema_refusal(exc, "order") from None

    def check():
        store = service.reader()
        found, _ = check_order_document(store, ruleset, order, as_of, record=False,
                                        accounts=service.accounts(), plugins=service.plugins)
        return found, found.record(), found.to_dict()

    try:
        found, record, data = await service.in_pool(check)
    except CreditRulesError as exc:
        raise Refusal(422, "the order cannot be checked", [f"{WHERE}: {exc}"]) from None
    written = await _written(service, asyncio.wrap_future(service.writer.submit(
        [record], rulesets=(ruleset,), claim=claim)), claim)
    if isinstance(written, Response):
        return written
    seq, digest = written.appended[0]
    service.metrics.order_checks.labels(found.outcome).inc()
    return RulesetAnswer(answer_json(order_check_answer(seq, digest, ruleset.hash, data)),
                         ruleset.hash)


def _events(body: bytes) -> list[dict]:
    """The events of a body: a JSON array of objects, or JSON Lines (one a line); 400 when
    it is not JSON, 422 naming every event that fails the event schema."""
    text = body_text(body)
    if text.lstrip().startswith("["):
        try:  # the array on lines of its own, so that a syntax error keeps line and column
            wrapped = parse_json_document('{"events":\n' + text + "\n}", WHERE, WHERE, 0)
        except InputError as exc:
            raise Refusal(400, "the body is not JSON", exc.lines()) from None
        if list(wrapped) != ["events"]:  # '[], "x": 1' closes the array and goes on
            raise Refusal(400, "the body is not JSON", [f"{WHERE}: text after the array"])
        events = wrapped["events"]
        places = [f"{WHERE}: [{index}]" for index in range(len(events))]
    else:
        events, places = [], []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                events.append(parse_json_document(line, f"{WHERE}:{number}", WHERE, number))
            except InputError as exc:
                raise Refusal(400, "a line of the body is not a JSON object", exc.lines()) \
                    from None
            places.append(f"{WHERE}:{number}")
    problems = [line for event, where in zip(events, places, strict=True)
                for line in event_problems(event, where)]
    if problems:
        raise Refusal(422, "events do not match the event schema (none was appended)",
                      problems)
    return events


async def post_events(service: Service, request: Request, principal: Principal) -> Response:
    """Append account events, skipping ids already in the log (integrator)."""
    body = await read_body(request, service.config.max_body)
    events = await service.in_pool(_events, body)
    written = await _written(service, asyncio.wrap_future(service.writer.submit(
        [event_record(e) for e in events], event_ids=[e["id"] for e in events])), None)
    head = written.appended[-1] if written.appended else None
    return json_response({"ingested": len(written.appended),
                          "duplicates": written.duplicate_events,
                          "last": None if head is None else {"seq": head[0], "hash": head[1]}})


# -- reading -------------------------------------------------------------------------------

async def get_exposure(service: Service, request: Request, principal: Principal) -> Response:
    """A customer's exposure by category on ``as_of`` (integrator, auditor)."""
    customer_id = request.path_params["customer_id"]
    as_of = as_of_date(as_of_param(request))
    ruleset = service.rulesets.current

    def exposure():
        store = service.reader()
        if not has_records(store, customer_id):
            return None
        return customer_exposure(store, ruleset, customer_id, as_of,
                                 service.plugins).to_dict()

    try:
        data = await service.in_pool(exposure)
    except CreditRulesError as exc:  # a rate missing, a rates file that cannot be read
        raise Refusal(422, "the exposure cannot be counted", [str(exc)]) from None
    if data is None:
        raise Refusal(404, f"no records of customer {customer_id}")
    return RulesetAnswer(answer_json({"ruleset_hash": ruleset.hash, "exposure": data}),
                         ruleset.hash)


async def get_decision(service: Service, request: Request, principal: Principal) -> Response:
    """A recorded decision by sequence number or decision id (auditor)."""
    ref = request.path_params["ref"]

    def read():
        store = service.reader()
        try:
            row = store.record(ref)
        except AuditError:
            return None
        return stored_answer(store, row) if row["kind"] == "decision" else None

    answer = await service.in_pool(read)
    if answer is None:
        raise Refusal(404, f"no decision {ref} in the audit trail")
    return RulesetAnswer(answer_json(answer), answer["ruleset_hash"])


async def get_proof(service: Service, request: Request, principal: Principal) -> Response:
    """A proof that a decision is in the trail under a freshly signed head (auditor)."""
    if service.signer is None:
        raise Refusal(501, "this service signs no heads: start it with --sign-key KEY to "
                           "give proofs")
    ref = request.path_params["ref"]

    def proof() -> dict:
        try:
            row = service.reader().record(ref)
        except AuditError:
            row = None
        if row is None or row["kind"] != "decision":  # as GET /v1/decisions/{ref} says
            raise CheckpointError(f"no decision {ref} in the audit trail")
        statement = sign_head(service.config.db, service.signer)
        return prove(service.config.db, str(row["seq"]), statement)

    try:
        return json_response(await service.in_pool(proof))
    except CheckpointError as exc:
        raise Refusal(404, str(exc)) from None


async def get_head(service: Service, request: Request, principal: Principal) -> Response:
    """The trail's latest record number and hash (auditor)."""
    head = await service.in_pool(lambda: service.reader().head())
    return json_response({"seq": head[0] if head else 0, "hash": head[1] if head else None})


# -- operating -----------------------------------------------------------------------------

async def reload_ruleset(service: Service, why: str) -> tuple[bool, dict]:
    """Reload the ruleset (validated first, swapped atomically); (ok, what to answer)."""
    result = await service.in_pool(service.rulesets.reload)
    identity = result.ruleset.identity
    if not result.ok:
        service.metrics.reloads.labels("refused").inc()
        log.warning("reload (%s) refused, still using %s %s (%s): %s", why, identity["name"],
                    identity["version"], identity["hash"][:16], "; ".join(result.problems))
        return False, {"error": f"the ruleset in {service.rulesets.folder} has problems; "
                                f"still using {identity['name']} {identity['version']}",
                       "problems": result.problems, "ruleset": identity}
    await asyncio.wrap_future(service.writer.submit([], rulesets=(result.ruleset,)))
    service.metrics.reloads.labels("changed" if result.changed else "unchanged").inc()
    service.metrics.ruleset_in_use(identity["name"], identity["version"], identity["hash"])
    log.info("reload (%s): using %s %s (%s)%s", why, identity["name"], identity["version"],
             identity["hash"][:16], "" if result.changed else ", unchanged")
    return True, {"reloaded": True, "changed": result.changed, "ruleset": identity}


async def post_reload(service: Service, request: Request, principal: Principal) -> Response:
    """Reload the ruleset, or keep the one in use and say why (admin)."""
    ok, answer = await reload_ruleset(service, f"asked by {principal.name}")
    if not ok:
        raise Refusal(422, answer["error"], answer["problems"])
    return RulesetAnswer(answer_json(answer), answer["ruleset"]["hash"])


async def get_health(service: Service, request: Request, principal) -> Response:
    """The process answers."""
    return json_response({"status": "ok"})


async def get_ready(service: Service, request: Request, principal) -> Response:
    """Ready: started, with the audit writer running (else 503)."""
    if not service.ready:
        raise Refusal(503, "not ready: the audit writer is not running")
    return json_response({"ready": True, "ruleset": service.rulesets.current.identity})


async def get_metrics(service: Service, request: Request, principal) -> Response:
    """The metrics in Prometheus text format."""
    from .metrics import CONTENT_TYPE

    return Response(service.metrics.text(), headers={"Content-Type": CONTENT_TYPE})


async def get_openapi(service: Service, request: Request, principal) -> Response:
    """The OpenAPI document."""
    return json_response(openapi_document())


async def get_schema(service: Service, request: Request, principal) -> Response:
    """One file of ``schemas/``, as it is."""
    name = request.path_params["name"]
    path = Path(SCHEMA_DIR) / name
    if "/" in name or not name.endswith(".schema.json") or not path.is_file():
        raise Refusal(404, f"no schema {name}")
    return FileResponse(path, media_type="application/schema+json")


INTEGRATOR, AUDITOR, ADMIN = ("integrator",), ("auditor",), ("admin",)
ROUTES = [
    ("/v1/decisions", ["POST"], INTEGRATOR, post_decision),
    ("/v1/orders/check", ["POST"], INTEGRATOR, post_order_check),
    ("/v1/events", ["POST"], INTEGRATOR, post_events),
    ("/v1/customers/{customer_id}/exposure", ["GET"], ("integrator", "auditor"),
     get_exposure),
    ("/v1/decisions/{ref}", ["GET"], AUDITOR, get_decision),
    ("/v1/decisions/{ref}/proof", ["GET"], AUDITOR, get_proof),
    ("/v1/audit/head", ["GET"], AUDITOR, get_head),
    ("/v1/admin/reload", ["POST"], ADMIN, post_reload),
    ("/healthz", ["GET"], (), get_health),
    ("/readyz", ["GET"], (), get_ready),
    ("/metrics", ["GET"], (), get_metrics),
    ("/openapi.json", ["GET"], (), get_openapi),
    ("/schemas/{name}", ["GET"], (), get_schema),
]


def create_app(config: ServeConfig) -> Starlette:
    """The service as an ASGI application. Reads the tokens and compiles the ruleset now
    (raising their problems); the audit file is opened when the application starts, and
    SIGHUP reloads the ruleset when it runs in the main thread."""
    service = Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await asyncio.get_running_loop().run_in_executor(None, service.start)
        hangup = _on_hangup(service)
        log.info("serving ruleset %s %s (%s), audit file %s", *(
            service.rulesets.current.identity[k] for k in ("name", "version", "hash")),
            config.db)
        try:
            yield
        finally:
            if hangup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            await asyncio.get_running_loop().run_in_executor(None, service.stop)
            log.info("stopped; every answered request is committed")

    app = Starlette(routes=[_route(service, path, methods, roles, handler)
                            for path, methods, roles, handler in ROUTES],
                    lifespan=lifespan, exception_handlers={404: _not_routed,
                                                           405: _not_routed})
    app.state.service = service
    return app


async def _not_routed(request: Request, exc: Exception) -> Response:
    """An unknown path (404) or method (405), in the JSON every other error has."""
    status = getattr(exc, "status_code", 404)
    what = "no such endpoint" if status == 404 else \
        f"{request.method} is not allowed on {request.url.path}"
    return json_response({"error": what, "problems": []}, status,
                         getattr(exc, "headers", None))


def _on_hangup(service: Service) -> bool:
    """Reload on SIGHUP (only possible in the main thread's loop); whether it is set."""
    loop = asyncio.get_running_loop()
    tasks: set = set()

    def hangup() -> None:
        task = loop.create_task(reload_ruleset(service, "SIGHUP"))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, hangup)
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return True
