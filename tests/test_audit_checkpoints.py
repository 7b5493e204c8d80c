"""Signed checkpoints and inclusion proofs: a consistent rewrite of the whole chain passes
plain verify but not a signed head; one record can be proven to an outsider with only the
proof file and the public key, in log2(size) hashes."""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat

import pytest

from engine.audit.merkle import (
    inclusion_path,
    leaf_hash,
    node_hash,
    root_from_path,
    tree_root,
)
from tests.audit_helpers import (
    AS_OF,
    batched_trail,
    connect,
    copy_db,
    generate,
    one_invoice_event,
    rechain_from,
    tamper,
)

# -- the Merkle tree, against RFC 6962's recursive definition -------------------------------

def reference_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 section 2.1 writes it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100])
def test_the_root_is_rfc_6962s(n):
    assert tree_root(leaves_of(n)) == reference_root(leaves_of(n))


def test_the_empty_tree_is_the_hash_of_nothing():
    assert tree_root([]).hex() == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 65, 100])
def test_every_leaf_has_a_path_of_log_size_to_the_root(n):
    leaves = leaves_of(n)
    root = tree_root(leaves)
    for index in range(n):
        path = inclusion_path(leaves, index)
        assert len(path) <= math.ceil(math.log2(n)) if n > 1 else path == []
        assert root_from_path(leaves[index], index, n, path) == root


def test_a_path_proves_nothing_for_another_leaf_place_or_size():
    leaves = leaves_of(13)
    root, path = tree_root(leaves), inclusion_path(leaves, 6)
    assert root_from_path(leaves[7], 6, 13, path) != root
    assert root_from_path(leaves[6], 7, 13, path) != root
    assert root_from_path(leaves[6], 6, 7, path) != root  # (the size comes signed)
    assert root_from_path(leaves[6], 6, 13, path[:-1]) is None
    assert root_from_path(leaves[6], 13, 13, path) is None


# -- keys, signed heads and verify ----------------------------------------------------------

@pytest.fixture(scope="module")
def signer(tmp_path_factory, credit):
    folder = tmp_path_factory.mktemp("keys")
    made = credit("audit", "keygen", "--out", folder / "signer.key")
    assert made.exit_code == 0, made.stderr
    other = credit("audit", "keygen", "--out", folder / "other.key")
    assert other.exit_code == 0
    return folder / "signer.key", folder / "signer.key.pub", folder / "other.key.pub"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, credit):
    """A 30-row batch, built once."""
    return batched_trail(tmp_path_factory.mktemp("trail"), 30, seed=9)


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "trail.db")


def test_the_private_key_is_for_its_owner_only_and_never_overwritten(signer, credit):
    private, public, _ = signer
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = credit("audit", "keygen", "--out", private)
    assert again.exit_code == 1
    assert again.stderr == (f"credit: error: {private}: already exists; not overwriting a "
                            "key\n")


def sign(credit, db, private, out):
    result = credit("audit", "head", "--db", db, "--sign", private, "--out", out)
    assert result.exit_code == 0, result.stderr
    return json.loads(out.read_text())


def verify(credit, db, statement, public):
    return credit("audit", "verify", "--db", db, "--head", statement, "--public-key", public)


def test_a_signed_head_verifies_and_still_does_after_more_records(trail, signer, credit,
                                                                  tmp_path):
    private, public, _ = signer
    statement = sign(credit, trail, private, tmp_path / "head.json")
    assert statement["size"] == 33 and statement["format"] == "credit-rules checkpoint 1"
    result = verify(credit, trail, tmp_path / "head.json", public)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: 33 records verified, head 33:")
    assert result.stdout.rstrip().endswith(f"extends the head signed "
                                           f"{statement['signed_at']} (record 33)")
    more = generate(tmp_path / "more.csv", 3, seed=10)
    assert credit("batch", more, "--out", tmp_path / "m.jsonl", "--as-of", AS_OF,
                  "--db", trail).exit_code == 0
    assert verify(credit, trail, tmp_path / "head.json", public).exit_code == 0


def better_grade(row: dict) -> None:
    """Record a better grade (in a format-2 record the header is the only place that says
    it)."""
    assert isinstance(row["body"], bytes)
    row["grade"] = "AAA"


def test_a_consistent_rewrite_passes_plain_verify_but_not_the_signed_head(trail, signer,
                                                                         credit, tmp_path):
    private, public, _ = signer
    sign(credit, trail, private, tmp_path / "head.json")
    tamper(trail, lambda conn: rechain_from(conn, 10, better_grade))
    plain = credit("audit", "verify", "--db", trail)
    assert plain.exit_code == 0  # nothing inside the file shows it
    result = verify(credit, trail, tmp_path / "head.json", public)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(
        "FAILED at record 33: it is not the noted head (its hash differs: the trail was "
        "rewritten)")


def test_a_trail_cut_short_of_the_signed_head_fails(trail, signer, credit, tmp_path):
    private, public, _ = signer
    sign(credit, trail, private, tmp_path / "head.json")
    tamper(trail, lambda conn: conn.execute("DELETE FROM records WHERE seq > 30"))
    result = verify(credit, trail, tmp_path / "head.json", public)
    assert result.exit_code == 1
    assert "the trail was cut short: record 33 (the noted head) is gone, the last record " \
           "is 30" in result.stderr


def test_a_changed_statement_or_another_key_is_refused(trail, signer, credit, tmp_path):
    private, public, other = signer
    statement = sign(credit, trail, private, tmp_path / "head.json")
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**statement, "size": 30}))
    result = verify(credit, trail, forged, public)
    assert result.exit_code == 1
    assert result.stderr == ("credit: error: the statement's signature does not match it "
                             "(the statement was changed, or signed by another key)\n")
    result = verify(credit, trail, tmp_path / "head.json", other)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"credit: error: the statement was signed with key "
                                    f"{statement['key_id']}, not this public key")


def test_a_statement_needs_its_public_key(trail, signer, credit, tmp_path):
    private, _, _ = signer
    sign(credit, trail, private, tmp_path / "head.json")
    result = credit("audit", "verify", "--db", trail, "--head", tmp_path / "head.json")
    assert result.exit_code == 2
    assert "a signed --head statement needs --public-key" in result.stderr


def test_a_batch_can_sign_its_end(tmp_path, signer, credit):
    private, public, _ = signer
    db = tmp_path / "audit.db"
    portfolio = generate(tmp_path / "p.csv", 5, seed=4)
    result = credit("batch", portfolio, "--out", tmp_path / "r.jsonl", "--as-of", AS_OF,
                    "--db", db, "--checkpoint", private)
    assert result.exit_code == 0, result.stderr
    written = tmp_path / "audit.db.checkpoint-8.json"
    assert f"Checkpoint {written}" in result.stdout
    assert verify(credit, db, written, public).exit_code == 0
    refused = credit("batch", portfolio, "--out", tmp_path / "r.jsonl", "--as-of", AS_OF,
                     "--no-audit", "--checkpoint", private)
    assert refused.exit_code == 2


# -- proofs -----------------------------------------------------------------------------------

def decision_ids(db) -> list[str]:
    conn = connect(db)
    try:
        return [r[0] for r in conn.execute(
            "SELECT decision_id FROM records WHERE kind = 'decision' ORDER BY seq")]
    finally:
        conn.close()


@pytest.fixture
def proof(trail, signer, credit, tmp_path):
    private, _, _ = signer
    sign(credit, trail, private, tmp_path / "head.json")
    decision = decision_ids(trail)[12]
    result = credit("audit", "prove", decision, "--db", trail, "--head",
                    tmp_path / "head.json", "--out", tmp_path / "proof.json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("record 15 under the head signed ")
    return tmp_path / "proof.json", decision


def check(credit, proof_file, public):
    return credit("audit", "check-proof", proof_file, "--public-key", public)


def test_a_proof_checks_with_only_the_public_key(proof, signer, credit, monkeypatch,
                                                 tmp_path):
    proof_file, decision = proof
    _, public, _ = signer
    monkeypatch.setenv("CREDIT_DB", str(tmp_path / "no-such-trail.db"))
    result = check(credit, proof_file, public)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok: record 15 (decision {decision}, customer ")
    assert "is in the trail of 33 records signed " in result.stdout
    data = json.loads(proof_file.read_text())
    assert len(data["path"]) <= math.ceil(math.log2(33))
    assert not (tmp_path / "no-such-trail.db").exists()


def forged(proof_file, change) -> None:
    data = json.loads(proof_file.read_text())
    change(data)
    proof_file.write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "reason"), [
    (lambda p: p["record"].update(grade="AAA"), "the record's header does not give its hash"),
    (lambda p: p["record"].update(body_stored=p["record"]["body_stored"][:-4] + "AAA="),
     "the record's body is not the one its header names"),
    (lambda p: p["path"].__setitem__(0, "00" * 32),
     "the record is not in the signed trail (its path does not lead to the signed root)"),
    (lambda p: p.update(index=p["index"] + 1),
     "the record's number is not the one the proof is for"),
    (lambda p: p["statement"].update(root="11" * 32),
     "the statement's signature does not match it (the statement was changed, or signed "
     "by another key)"),
])
def test_a_changed_proof_fails_naming_what(proof, signer, credit, change, reason):
    proof_file, _ = proof
    _, public, _ = signer
    forged(proof_file, change)
    result = check(credit, proof_file, public)
    assert result.exit_code == 1
    assert result.stderr == f"FAILED: {reason}\n"


def test_a_record_after_the_signed_head_cannot_be_proven_under_it(trail, signer, credit,
                                                                  tmp_path):
    private, _, _ = signer
    sign(credit, trail, private, tmp_path / "head.json")
    more = generate(tmp_path / "more.csv", 1, seed=12)
    assert credit("batch", more, "--out", tmp_path / "m.jsonl", "--as-of", AS_OF,
                  "--db", trail).exit_code == 0
    result = credit("audit", "prove", "35", "--db", trail, "--head", tmp_path / "head.json",
                    "--out", tmp_path / "p.json")
    assert result.exit_code == 1
    assert result.stderr == ("credit: error: record 35 came after the signed head (record "
                             "33): sign a newer head to prove it\n")


def test_a_monitor_run_can_sign_its_end(tmp_path, signer, credit):
    private, public, _ = signer
    db = tmp_path / "audit.db"
    events = one_invoice_event(tmp_path / "events.jsonl", "C-1")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    result = credit("monitor", "--as-of", "2026-03-31", "--db", db, "--checkpoint", private)
    assert result.exit_code == 0, result.stderr
    [written] = tmp_path.glob("audit.db.checkpoint-*.json")
    assert f"credit: checkpoint {written}" in result.stderr
    assert verify(credit, db, written, public).exit_code == 0
    dry = credit("monitor", "--as-of", "2026-03-31", "--db", db, "--dry-run",
                 "--checkpoint", private)
    assert dry.exit_code == 2
