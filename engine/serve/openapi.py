"""The OpenAPI 3.1 document of the service (``GET /openapi.json``).

Its request and response bodies are the project's own JSON Schemas, by reference: each
``$ref`` points at ``/schemas/NAME.schema.json``, which the service serves from
``schemas/`` byte for byte, so there is one copy of every schema. (OpenAPI 3.1 uses JSON
Schema 2020-12, the draft the schemas are written in.) Only the envelopes the service
adds around them (record number, hash, ruleset) and its error body are written here.
"""

from __future__ import annotations

from ..version import __version__

SCHEMAS = "/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": f"{SCHEMAS}{name}.schema.json"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {"$ref": "#/components/schemas/Error"}
AS_OF = {"name": "as_of", "in": "query", "required": False,
         "description": "The date to decide as of, YYYY-MM-DD (default: today; the answer "
                        "and the record carry it).",
         "schema": {"type": "string", "format": "date"}}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "A retry with the same key and body gets the first answer "
                                  "(same record); with another body, 409.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def _errors(*codes: int) -> dict:
    reasons = {400: "The body (or a parameter) is not what the service reads; problems are "
                    "located.",
               401: "No bearer token, or an unknown one.",
               403: "The token has not the role this needs.",
               404: "Not found.",
               409: "The Idempotency-Key was used for a different request.",
               413: "The body is over the size limit.",
               422: "The document fails its schema (every field named), or the rules cannot "
                    "decide it.",
               501: "Not offered here: the ruleset in use has no order checks, or the "
                    "service signs no heads.",
               503: "Not ready."}
    return {str(code): _json(ERROR, reasons[code]) for code in codes}


def _recorded(name: str, inner: dict, description: str) -> dict:
    return _json({"type": "object", "required": ["seq", "hash", "ruleset_hash", name],
                  "properties": {"seq": {"type": "integer", "description": "The audit "
                                         "record's sequence number."},
                                 "hash": {"type": "string", "description": "The audit "
                                          "record's hash."},
                                 "ruleset_hash": {"type": "string"},
                                 name: inner}}, description)


def openapi_document() -> dict:
    """The OpenAPI document; its bodies ``$ref`` the files of ``schemas/``."""
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "credit-rules decision service", "version": __version__,
                 "description": "Credit decisions, order checks and account events, each "
                                "audited. Every answer names the ruleset it used in the "
                                "Credit-Ruleset-Hash header."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "problems"],
                                  "properties": {"error": {"type": "string"},
                                                 "problems": {"type": "array", "items":
                                                              {"type": "string"}}}}},
        },
        "paths": {
            "/v1/decisions": {"post": {
                "summary": "Decide a customer (role integrator); the decision is audited.",
                "security": secured, "parameters": [AS_OF, IDEMPOTENCY_KEY],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("customer")}}},
                "responses": {"200": _recorded("decision", _ref("decision"),
                                               "The decision and its audit record."),
                              **_errors(400, 401, 403, 409, 413, 422)}}},
            "/v1/orders/check": {"post": {
                "summary": "Check a sales order (role integrator); the check is audited.",
                "security": secured, "parameters": [AS_OF, IDEMPOTENCY_KEY],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("order")}}},
                "responses": {"200": _recorded("check", {"type": "object"},
                                               "The check (outcome pass, block or released,"
                                               " with reasons) and its audit record."),
                              **_errors(400, 401, 403, 409, 413, 422, 501)}}},
            "/v1/events": {"post": {
                "summary": "Append account events (role integrator); an event id already "
                           "in the log is skipped.",
                "security": secured,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "array",
                                                     "items": _ref("event")}},
                    "application/x-ndjson": {"schema": _ref("event")}}},
                "responses": {"200": _json({"type": "object", "properties": {
                    "ingested": {"type": "integer"},
                    "duplicates": {"type": "array", "items": {"type": "string"}},
                    "last": {"type": ["object", "null"]}}}, "What was appended."),
                    **_errors(400, 401, 403, 413, 422)}}},
            "/v1/customers/{customer_id}/exposure": {"get": {
                "summary": "A customer's exposure by category (role integrator or auditor).",
                "security": secured,
                "parameters": [{"name": "customer_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}, AS_OF],
                "responses": {"200": _json({"type": "object"}, "The exposure."),
                              **_errors(400, 401, 403, 404)}}},
            "/v1/decisions/{ref}": {"get": {
                "summary": "An audited decision by record number or decision id (role "
                           "auditor).",
                "security": secured,
                "parameters": [{"name": "ref", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _recorded("decision", _ref("decision"),
                                               "The decision as recorded."),
                              **_errors(401, 403, 404)}}},
            "/v1/decisions/{ref}/proof": {"get": {
                "summary": "A proof that the record is in the trail under a head the service "
                           "signs now (role auditor; the service needs --sign-key); checked "
                           "with credit audit check-proof and the public key alone.",
                "security": secured,
                "parameters": [{"name": "ref", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "The proof."),
                              **_errors(401, 403, 404, 501)}}},
            "/v1/audit/head": {"get": {
                "summary": "The trail's latest record (role auditor).", "security": secured,
                "responses": {"200": _json({"type": "object", "properties": {
                    "seq": {"type": "integer"}, "hash": {"type": ["string", "null"]}}},
                    "The head."), **_errors(401, 403)}}},
            "/v1/admin/reload": {"post": {
                "summary": "Reload the ruleset (role admin): validated first, swapped "
                           "atomically, or kept with the reasons.",
                "security": secured,
                "responses": {"200": _json({"type": "object"}, "The ruleset now in use."),
                              **_errors(401, 403, 422)}}},
            "/healthz": {"get": {"summary": "The process answers.",
                                 "responses": {"200": _json({"type": "object"}, "Alive.")}}},
            "/readyz": {"get": {"summary": "Ready to decide (ruleset loaded, writer running).",
                                "responses": {"200": _json({"type": "object"}, "Ready."),
                                              **_errors(503)}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (text format).",
                                 "responses": {"200": {"description": "The metrics.",
                                                       "content": {"text/plain": {}}}}}},
        },
    }
