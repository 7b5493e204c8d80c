"""The redaction key lives outside the audit file (created owner-only beside it, or where
$CREDIT_AUDIT_KEY_FILE says); the file's meta table is covered by the chain; verify warns
when the append-only triggers are gone or an old trail still keeps its salt."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from click.testing import CliRunner

from engine.audit.chain import GENESIS
from engine.audit.store import AuditStore
from engine.cli.main import cli
from tests.audit_helpers import tamper

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER = ROOT / "examples" / "customers" / "bbb-distributor.json"
TRIGGERS_GONE = "credit: warning: the append-only triggers are missing"


def credit(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def decide(db: Path, env=None):
    result = credit("decide", CUSTOMER, "--as-of", "2026-11-30", "--db", db, env=env)
    assert result.exit_code == 0, result.stderr
    return result


def test_the_key_is_made_beside_the_file_for_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    monkeypatch.delenv("CREDIT_AUDIT_KEY_FILE", raising=False)
    db = tmp_path / "audit.db"
    decide(db)
    key_file = tmp_path / "audit.db.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) == 64
    conn = sqlite3.connect(db)
    assert [k for (k,) in conn.execute("SELECT key FROM meta")] == ["created_at"]
    conn.close()
    assert key.encode() not in db.read_bytes()
    decide(db)  # the same key again, not a new one
    assert key_file.read_text().strip() == key


def test_the_key_file_can_live_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    elsewhere = tmp_path / "vault" / "trail.key"
    elsewhere.parent.mkdir()
    decide(tmp_path / "audit.db", env={"CREDIT_AUDIT_KEY_FILE": str(elsewhere)})
    assert elsewhere.exists()
    assert not (tmp_path / "audit.db.key").exists()


def test_a_key_that_cannot_be_made_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    missing = tmp_path / "no-such-folder" / "trail.key"
    result = credit("decide", CUSTOMER, "--as-of", "2026-11-30", "--db", tmp_path / "a.db",
                    env={"CREDIT_AUDIT_KEY_FILE": str(missing)})
    assert result.exit_code == 1
    assert result.stderr == (f"credit: error: {missing}: cannot create the redaction key "
                             "(No such file or directory)\n")


def test_a_changed_meta_table_breaks_the_chain(tmp_path):
    db = tmp_path / "audit.db"
    decide(db)
    tamper(db, lambda conn: conn.execute(
        "UPDATE meta SET value = '2001-01-01T00:00:00.000000Z' WHERE key = 'created_at'"))
    result = credit("audit", "verify", "--db", db)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{TRIGGERS_GONE} (body_dictionaries_no_delete, body_dictionaries_no_replace, "
        "body_dictionaries_no_update, idempotency_keys_no_delete, idempotency_keys_no_replace, "
        "idempotency_keys_no_update, meta_no_delete, meta_no_replace, meta_no_update, "
        "records_no_delete, records_no_replace, records_no_update, rulesets_no_delete, "
        "rulesets_no_replace, rulesets_no_update, trace_slots_no_delete, "
        "trace_slots_no_replace, trace_slots_no_update): something removed them, and the "
        "file no longer refuses changes",
        "FAILED at record 1: its previous-record hash does not match the trail's meta table "
        "(meta was changed, or records were put before it) (0 records before it are intact)"]


def test_missing_triggers_are_a_warning_on_an_intact_chain(tmp_path):
    db = tmp_path / "audit.db"
    decide(db)
    tamper(db, lambda conn: None)  # drops every trigger, changes nothing
    result = credit("audit", "verify", "--db", db)
    assert result.exit_code == 0
    assert result.stderr.startswith(TRIGGERS_GONE)
    assert result.stdout.startswith("ok: 2 records verified")


def test_a_trail_made_before_the_key_moved_out_still_verifies(tmp_path):
    """A trail whose meta holds 'salt' (as files made before did) chains to the old
    genesis: it verifies, and verify says the salt is there."""
    db = tmp_path / "audit.db"
    AuditStore(db).close()  # a fresh, empty trail; then its meta as an old one had it
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO meta (key, value) VALUES ('salt', ?)", ("ab" * 32,))
    conn.commit()
    conn.close()
    decide(db)
    assert sqlite3.connect(db).execute(
        "SELECT prev_hash FROM records WHERE seq = 1").fetchone()[0] == GENESIS
    result = credit("audit", "verify", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("credit: warning: this trail keeps its old redaction salt in "
                             "its meta table, which the chain does not cover (made before "
                             "the key moved out of the file): hand out copies without it\n")


def test_a_meta_key_added_later_breaks_the_chain(tmp_path):
    db = tmp_path / "audit.db"
    decide(db)
    conn = sqlite3.connect(db)  # (the triggers allow a new key; the chain does not)
    conn.execute("INSERT INTO meta (key, value) VALUES ('owner', 'someone else')")
    conn.commit()
    conn.close()
    result = credit("audit", "verify", "--db", db)
    assert result.exit_code == 1
    assert "FAILED at record 1: its previous-record hash does not match the trail's meta" \
        in result.stderr


def test_processes_starting_together_agree_on_one_key(tmp_path, monkeypatch):
    """Two batches into one fresh file both need its key at once: one makes it, the other
    reads it whole (never half-written)."""
    import subprocess
    import sys

    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    code = ("import sys; from engine.audit.keys import redaction_key; "
            "print(redaction_key(sys.argv[1]).decode())")
    for attempt in range(3):
        db = tmp_path / f"audit{attempt}.db"
        runs = [subprocess.Popen([sys.executable, "-c", code, str(db)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
        keys = {run.communicate(timeout=60)[0].strip() for run in runs}
        assert all(run.returncode == 0 for run in runs)
        assert keys == {(tmp_path / f"audit{attempt}.db.key").read_text().strip()}
        assert len(keys.pop()) == 64
