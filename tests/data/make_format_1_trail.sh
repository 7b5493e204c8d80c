#!/usr/bin/env bash
# Makes format-1-trail.db: an audit trail written by credit-rules before decision bodies
# were compressed (format 1, schema version 4), at commit ccea909. Kept in the repository
# so that the tests can show such a trail still verifies, replays identically, and takes
# new records. Not run by the tests; to make it again:
#   git worktree add --detach /tmp/old ccea909
#   tests/data/make_format_1_trail.sh /tmp/old
set -euo pipefail
OLD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$HERE/format-1-trail.db"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
credit() { (cd "$OLD" && PYTHONPATH="$OLD" "$ROOT/.venv/bin/python" -c \
    "from engine.cli.main import main; main()" "$@"); }
export CREDIT_AUDIT_SALT=format-1-fixture CREDIT_DB="$OUT"
rm -f "$OUT" "$OUT-wal" "$OUT-shm"
# A champion that decides a half of its customers with the challenger too.
cp -r "$ROOT/rulesets/default" "$WORK/champion"
cp -r "$ROOT/rulesets/challenger-example" "$WORK/challenger-example"
echo "challenger: {ruleset: ../challenger-example, share: 0.5}" >> "$WORK/champion/ruleset.yaml"
head -13 "$ROOT/examples/portfolio.csv" > "$WORK/portfolio.csv"
credit batch "$WORK/portfolio.csv" --ruleset "$WORK/champion" --as-of 2025-12-31 \
    --out "$WORK/results.jsonl"
credit decide "$ROOT/examples/customers/bbb-distributor.json" --as-of 2026-11-30 > /dev/null
added=$(credit override add C-000003 --refer --reason "site visit found stock piling up" \
    --by ana --role credit_manager)
credit override approve "$(echo "$added" | cut -d' ' -f2 | tr -d :)" --by ben \
    --role credit_manager
grep -E '"customer_id":"C-00000[1-6]"' "$ROOT/examples/events.jsonl" \
    > "$WORK/events.jsonl"
credit events ingest "$WORK/events.jsonl"
credit monitor --as-of 2026-11-30 --ruleset "$WORK/champion" > /dev/null
credit audit verify
sqlite3 "$OUT" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" > /dev/null
rm -f "$OUT.monitor-lock"
