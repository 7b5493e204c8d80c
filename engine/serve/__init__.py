"""The HTTP service (``credit serve``): an ASGI application an ERP calls to decide, check
orders and send account events, over the same service functions as the command line.

One concern a file: ``tokens`` (who may do what), ``writer`` (the one thread that appends
to the audit file, many requests a transaction), ``idempotency`` (retries answered from
the first record), ``rulesets`` (the ruleset in use and its atomic reload), ``metrics``
(Prometheus), ``openapi`` (the API document over ``schemas/``), ``requests`` (reading
bodies and their errors), ``app`` (the routes) and ``server`` (uvicorn and signals).
Starlette and uvicorn are imported only here, and only when the service runs.
"""
