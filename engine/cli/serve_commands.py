"""``credit serve``: the HTTP decision service, and ``credit serve token`` to admit a
client."""

from __future__ import annotations

from pathlib import Path

import click

from ..audit.store import default_db_path
from .options import db_option, default_ruleset, ruleset_option, use_audit_file

ROLES = ("integrator", "auditor", "admin")  # engine.serve.tokens.ROLES, without importing it


@click.group("serve", invoke_without_command=True)
@click.option("--tokens", "tokens", metavar="FILE", type=click.Path(dir_okay=False),
              help="The tokens file (hashed tokens and roles, one JSON object a line); "
                   "required to serve.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep loopback; put a TLS proxy in front).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@ruleset_option
@db_option
@click.option("--max-body", type=click.IntRange(1, None), default=1_000_000,
              show_default=True, help="Largest request body, in bytes (larger: 413).")
@click.option("--group", "max_group", type=click.IntRange(1, 10_000), default=256,
              show_default=True, help="Most requests one audit transaction commits.")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads that decide and read the audit file.")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="An Ed25519 private key (credit audit keygen): auditors get proofs "
                   "under a head it signs.")
@click.option("--shutdown-timeout", type=click.FloatRange(0, None), default=30.0,
              show_default=True, help="Seconds the requests in flight get to finish after "
                                      "SIGTERM before they are cancelled.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True)
@click.pass_context
def serve_group(ctx, tokens: str | None, host: str, port: int, ruleset_dir: str | None,
                db_path: str | None, max_body: int, max_group: int, workers: int,
                sign_key: str | None, shutdown_timeout: float, log_level: str) -> None:
    """Serve credit decisions, order checks and account events over HTTP.

    Listens on 127.0.0.1:8080 until SIGTERM or Ctrl+C (requests in flight finish and are
    committed; exit 0). Every decision and order check is audited, many requests to one
    transaction. SIGHUP or POST /v1/admin/reload reloads the ruleset. The API is at
    /openapi.json; docs/serve.md tells the rest.

    Examples:

    \b
      credit serve --tokens tokens.jsonl --db credit-audit.db
      credit serve token erp-1 --role integrator --to tokens.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    if tokens is None:
        raise click.UsageError("--tokens FILE is required (make a token with "
                               "'credit serve token NAME --role integrator --to FILE')")
    from ..serve.server import serve
    from ..serve.state import ServeConfig

    use_audit_file(db_path)
    config = ServeConfig(db=db_path or default_db_path(),
                         ruleset=ruleset_dir or default_ruleset(), tokens=tokens,
                         max_body=max_body, max_group=max_group, workers=workers,
                         sign_key=sign_key)
    ctx.exit(serve(config, host=host, port=port, log_level=log_level,
                   shutdown_timeout=shutdown_timeout))


@serve_group.command("token")
@click.argument("name")
@click.option("--role", "roles", type=click.Choice(ROLES), multiple=True, required=True,
              help="A role of the token (repeat for several).")
@click.option("--to", "to_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Add the token's line to this tokens file (made if missing).")
def token_command(name: str, roles: tuple[str, ...], to_file: str | None) -> None:
    """Make a token: print it once, and the tokens-file line that admits it.

    The file keeps only the token's SHA-256; the token itself is shown here and nowhere
    else, so hand it to the client now.

    Examples:

    \b
      credit serve token erp-1 --role integrator --to tokens.jsonl
      credit serve token audit-desk --role auditor
    """
    from ..serve.tokens import new_token

    if not to_file:
        token, line = new_token(name, list(roles))
        click.echo(f"Token      {token}")
        click.echo(f"Line       {line}")
        return
    try:  # a token is never shown for a line that could not be written
        with Path(to_file).open("a", encoding="utf-8") as handle:
            token, line = new_token(name, list(roles))
            handle.write(line + "\n")
    except OSError as exc:
        raise click.ClickException(f"{to_file}: cannot add to it "
                                   f"({exc.strerror or exc})") from None
    click.echo(f"Token      {token}")
    click.echo(f"Added      {name} ({', '.join(sorted(set(roles)))}) to {to_file}")
