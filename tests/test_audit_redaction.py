"""Personal data the ruleset redacts is stored only as a salted HMAC: never in clear in the
audit file, matchable under the same salt, and without effect on the decision id or on
replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

from engine.audit.body_codec import BodyReader
from engine.canonical import canonical_json
from tests.audit_helpers import AS_OF, copy_ruleset, full_body, write_json
from tests.credit_cli import invoke_credit
from tests.sample_customers import strong_customer

PHONE = "+49 30 5550199"
EMAIL = "erika.mustermann@example.org"
NAME = "Erika Mustermann"


def customer(id_: str = "T-STRONG", phone: str = PHONE) -> dict:
    return strong_customer(id=id_, contact={"name": NAME, "email": EMAIL, "phone": phone})


def decide(tmp_path, doc: dict, db, *extra: str, env: dict | None = None) -> tuple[int, dict]:
    path = write_json(tmp_path / f"{doc['id']}-{abs(hash(json.dumps(doc)))}.json", doc)
    result = invoke_credit("decide", path, "--as-of", AS_OF, "--db", db, "--json", *extra, env=env)
    assert result.exit_code == 0, result.output
    seq = int(result.stderr.split("audited as record ")[1].split()[0])
    return seq, json.loads(result.stdout)


def stored_input(db, seq: int) -> dict:
    return full_body(db, seq)["input"]


def file_salt(db) -> bytes:
    """The redaction key kept beside the audit file (never inside it)."""
    return Path(f"{db}.key").read_text().strip().encode()


def expected_digest(salt: bytes, value: str) -> str:
    mac = hmac.new(salt, canonical_json(value).encode("utf-8"), hashlib.sha256)
    return "hmac-sha256:" + mac.hexdigest()


def test_contact_is_stored_as_salted_hashes_only(tmp_path, monkeypatch, credit):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    db = tmp_path / "audit.db"
    seq, decision = decide(tmp_path, customer(), db)
    contact = stored_input(db, seq)["contact"]
    salt = file_salt(db)
    assert contact == {"name": expected_digest(salt, NAME),
                       "email": expected_digest(salt, EMAIL),
                       "phone": expected_digest(salt, PHONE)}
    assert stored_input(db, seq)["financials"]["revenue"] == 12000000  # the rest is clear

    files = sorted(tmp_path.glob("audit.db*"))
    assert files
    conn = sqlite3.connect(db)
    reader = BodyReader(conn)  # decision bodies are compressed: search what they hold too
    texts = "".join(reader.text(body) for (body,) in conn.execute("SELECT body FROM records"))
    conn.close()
    data = b"".join(f.read_bytes() for f in files) + texts.encode("utf-8")
    assert b"Strong Tools GmbH" in data  # the bytes are readable: a fair search
    for secret in (PHONE, EMAIL, NAME, "5550199", "Mustermann", "mustermann"):
        assert secret.encode() not in data
    for command in (["audit", "export"], ["audit", "show", str(seq)],
                    ["audit", "show", str(seq), "--json"], ["audit", "export", "--format",
                                                           "csv"]):
        output = credit(*command, "--db", db).stdout
        assert "5550199" not in output and "Mustermann" not in output
    assert decision["customer_id"] == "T-STRONG"


def test_same_phone_same_salt_same_digest(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    db = tmp_path / "audit.db"
    first, _ = decide(tmp_path, customer("T-1"), db)
    second, _ = decide(tmp_path, customer("T-2"), db)
    other, _ = decide(tmp_path, customer("T-3", phone="+49 30 5550100"), db)
    phones = [stored_input(db, seq)["contact"]["phone"] for seq in (first, second, other)]
    assert phones[0] == phones[1] != phones[2]


def test_another_file_has_another_salt(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    seq_one, _ = decide(tmp_path, customer(), one)
    seq_two, _ = decide(tmp_path, customer(), two)
    assert stored_input(one, seq_one)["contact"]["phone"] != \
        stored_input(two, seq_two)["contact"]["phone"]


def test_salt_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_AUDIT_SALT", raising=False)
    db = tmp_path / "audit.db"
    plain, _ = decide(tmp_path, customer("T-1"), db)
    salted, _ = decide(tmp_path, customer("T-2"), db, env={"CREDIT_AUDIT_SALT": "pepper"})
    again, _ = decide(tmp_path, customer("T-3"), db, env={"CREDIT_AUDIT_SALT": "pepper"})
    phones = [stored_input(db, seq)["contact"]["phone"] for seq in (plain, salted, again)]
    assert phones[0] == expected_digest(file_salt(db), PHONE)
    assert phones[1] == phones[2] == expected_digest(b"pepper", PHONE)
    assert phones[0] != phones[1]


def test_decision_id_does_not_depend_on_the_phone(tmp_path):
    db = tmp_path / "audit.db"
    _, one = decide(tmp_path, customer(phone=PHONE), db)
    _, two = decide(tmp_path, customer(phone="+33 1 99 00 00 00"), db)
    _, three = decide(tmp_path, strong_customer(contact={"name": "Someone Else",
                                                         "email": "x@example.com",
                                                         "phone": "0"}), db)
    assert one["decision_id"] == two["decision_id"] == three["decision_id"]
    assert one["customer_id"] == two["customer_id"]


def test_redacted_record_replays(tmp_path, credit):
    db = tmp_path / "audit.db"
    seq, decision = decide(tmp_path, customer(), db)
    result = credit("replay", str(seq), "--db", db)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"ok: record {seq} ({decision['decision_id']}) replays "
                                     "identically")


def test_validate_refuses_reading_a_redacted_field(tmp_path, credit):
    ruleset = copy_ruleset(tmp_path)
    assert credit("validate", ruleset).exit_code == 0
    facts = ruleset / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8")
                     + "  contact.phone: {type: string}\n", encoding="utf-8")
    result = credit("validate", ruleset)
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 1, problems
    assert "'contact.phone' is redacted in the audit trail but the rules read " \
        "'contact.phone' (facts.yaml)" in problems[0]
    assert problems[0].startswith(str(ruleset / "ruleset.yaml"))
