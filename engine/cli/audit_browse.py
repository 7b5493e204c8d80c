"""``credit audit browse``: datasette over the audit file, locked down. Imported only when
the command runs (datasette is the optional ``[browse]`` extra).

The shipped metadata (``engine/audit/datasette-metadata.yaml``) turns free SQL off, refuses
the ``meta`` table to everyone, describes every column, facets records on kind, grade
and outcome, and names the canned queries an auditor needs. Besides it: the file cannot be
downloaded, datasette opens it read-only (``mode=ro``), listens on 127.0.0.1 only, and
every connection gets ``body_json(body)`` so that a compressed decision body reads as JSON.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import yaml
from datasette import hookimpl
from datasette.cli import cli as datasette_cli
from datasette.plugins import pm

from ..audit.body_codec import register_body_json

METADATA = Path(__file__).resolve().parent.parent / "audit" / "datasette-metadata.yaml"
SETTINGS = {"default_allow_sql": "off", "allow_download": "off", "max_returned_rows": "1000"}
PLUGIN_NAME = "credit-rules-audit"


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    """Every datasette connection reads stored bodies with ``body_json``."""
    register_body_json(conn)


def metadata_for(db_path: Path) -> dict:
    """The shipped metadata, its database named as datasette names the file (its stem)."""
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    metadata["databases"] = {db_path.stem: metadata["databases"]["audit"]}
    return metadata


def serve(db_path: Path, port: int) -> None:
    """Serve ``db_path`` on 127.0.0.1:``port`` until interrupted."""
    import sys

    if not pm.has_plugin(PLUGIN_NAME):
        pm.register(sys.modules[__name__], name=PLUGIN_NAME)
    with tempfile.TemporaryDirectory(prefix="credit-browse-") as folder:
        metadata = Path(folder) / "metadata.json"
        metadata.write_text(json.dumps(metadata_for(db_path)), encoding="utf-8")
        args = ["serve", str(db_path), "--metadata", str(metadata), "--host", "127.0.0.1",
                "--port", str(port)]
        for name, value in SETTINGS.items():
            args += ["--setting", name, value]
        datasette_cli.main(args, prog_name="credit audit browse", standalone_mode=False)
