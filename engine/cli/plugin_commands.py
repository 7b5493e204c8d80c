"""``credit plugins``, and the commands plugins add to ``credit``."""

from __future__ import annotations

import json
import sys

import click

from ..enrich.plugin_manager import PluginCallError, installed_plugins
from .output import format_rows, output_options


@click.command("plugins")
@output_options
def plugins_command(fmt: str) -> None:
    """List the loaded plugins with their versions and hooks.

    A plugin that failed to load is named on stderr, one line each, and the exit code is 1.

    Examples:

    \b
      credit plugins
      credit plugins --json
    """
    plugins = installed_plugins()
    rows = [{"name": i.name, "version": i.version, "source": i.source,
             "hooks": list(i.hooks)} for i in plugins.infos]
    if fmt == "json":
        click.echo(json.dumps({"plugins": rows, "failed": [
            {"name": f.name, "error": f.error} for f in plugins.failures]}, indent=2))
    else:
        for line in format_rows([{**r, "hooks": ", ".join(r["hooks"])} for r in rows],
                                ("name", "version", "source", "hooks"), fmt):
            click.echo(line)
    for failure in plugins.failures:
        click.echo(f"credit: error: plugin {failure.name} failed to load: {failure.error}",
                   err=True)
    if plugins.failures:
        sys.exit(1)


def register_plugin_commands(group: click.Group) -> None:
    """Let plugins add subcommands; a plugin that fails doing so is a warning line."""
    for plugin, result in installed_plugins().call_each("credit_rules_register_commands",
                                                        cli=group):
        if isinstance(result, PluginCallError):
            click.echo(f"credit: warning: plugin {plugin} (register commands) {result}",
                       err=True)
