"""credit report: the HTML page over the audit trail, its numbers checked against the
trail read with plain SQL (not through engine.report), and the page opened in headless
Chromium: no console error, no network request, the key elements with the right numbers,
tables that sort, and a screenshot in the test's temporary folder.

Two trails, each made once for the module: the example year (the portfolio decided on
2025-12-31, a year of account events, the monitor run on 2026-11-30), and a small
order-time trail with overrides, blocked orders and a release.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from engine.audit.store import AuditStore
from engine.report.gather import gather
from tests.audit_helpers import copy_db, tamper
from tests.audit_helpers import read_only_rows as sql
from tests.credit_cli import credit_stdout as credit
from tests.credit_cli import invoke_credit
from tests.headless_chromium import BrowserUnavailable, Chromium
from tests.order_helpers import order_trail
from tests.paths import ROOT

EXAMPLES = ROOT / "examples"
YEAR_END = "2026-11-30"


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Path:
    """The example year's trail."""
    folder = tmp_path_factory.mktemp("year")
    db = folder / "audit.db"
    credit("batch", EXAMPLES / "portfolio.csv", "--out", folder / "results.jsonl",
           "--as-of", "2025-12-31", "--db", db)
    credit("events", "ingest", EXAMPLES / "events.jsonl", "--db", db)
    credit("monitor", "--as-of", YEAR_END, "--db", db)
    return db


@pytest.fixture(scope="module")
def year_page(year, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("year-report") / "report.html"
    credit("report", "--out", out, "--to", YEAR_END, "--db", year)
    return out


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> Path:
    """Two customers decided, the order events, three orders checked on 2026-11-30 (one
    passes, two are blocked); then two overrides (one within the analyst's authority, one
    beyond it), both customers decided again, SO-201 released and checked again."""
    folder = tmp_path_factory.mktemp("orders")
    db = order_trail(folder, orders=("within-limit", "over-limit", "overdue-customer"))
    for command in (
            ("override", "add", "CUST-10005", "--notches", "1", "--reason", "parent support",
             "--by", "ana", "--role", "credit_analyst"),
            ("override", "add", "CUST-10004", "--grade", "CCC", "--reason", "fraud suspicion",
             "--by", "ana", "--role", "credit_analyst"),
            ("decide", EXAMPLES / "customers" / "bbb-distributor.json", "--as-of",
             "2026-12-01"),
            ("decide", EXAMPLES / "customers" / "bb-construction.json", "--as-of",
             "2026-12-01"),
            ("order", "release", "SO-201", "--reason", "overdue paid", "--by", "ana", "--role",
             "credit_analyst", "--as-of", "2026-12-01"),
            ("check-order", EXAMPLES / "orders" / "overdue-customer.json", "--as-of",
             "2026-12-02")):
        credit(*command, "--db", db)
    return db


@pytest.fixture(scope="module")
def orders_page(orders, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("orders-report") / "report.html"
    credit("report", "--out", out, "--db", orders)
    return out


def decisions_by_customer(db: Path, until: str) -> dict[str, list[tuple]]:
    """(grade, outcome, credit_limit) of each customer's decisions up to ``until``, in
    date and trail order, read with plain SQL."""
    found: dict[str, list[tuple]] = {}
    for customer, grade, outcome, limit in sql(
            db, "SELECT customer_id, grade, outcome, credit_limit FROM records WHERE kind = "
                "'decision' AND as_of <= ? ORDER BY as_of, seq", (until,)):
        found.setdefault(customer, []).append((grade, outcome, limit))
    return found


GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")


# -- the command ------------------------------------------------------------------------------
def test_the_command_says_what_it_wrote_and_from_which_head(year, tmp_path):
    out = tmp_path / "r.html"
    result = invoke_credit("report", "--out", out, "--to", YEAR_END, "--db", year)
    assert result.exit_code == 0, result.output
    head = credit("audit", "head", "--db", year).strip()
    seq, _, digest = head.partition(":")
    count = sql(year, "SELECT count(*) FROM records WHERE kind = 'decision'")[0][0]
    assert result.stdout.splitlines() == [
        f"{out}: {count:,} decisions of 1,000 customers from 2025-12-31 to {YEAR_END}; "
        f"trail head {seq}:{digest[:12]}",
        f"verified: {int(seq):,} records, chain intact"]
    page = out.read_text(encoding="utf-8")
    assert head in page


def test_the_same_trail_and_period_give_the_same_bytes(year, year_page, tmp_path):
    again = tmp_path / "again.html"
    credit("report", "--out", again, "--to", YEAR_END, "--db", year)
    assert again.read_bytes() == year_page.read_bytes()


def test_the_page_fetches_nothing(year_page):
    """Nothing to fetch: no script, style sheet, image or font from a file or the
    network (the browser test below watches the requests too)."""
    page = year_page.read_text(encoding="utf-8")
    for needle in ("src=", "<link", "@import", "url(", "https://", "@font-face"):
        assert needle not in page
    assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--db", "missing.db"), 1, "missing.db: no audit file here"),
    (("--from", "2026-13-01"), 2, "'2026-13-01' is not a date"),
    (("--from", "2026-05-01", "--to", "2026-04-01"), 1,
     "the period is backwards: from 2026-05-01 to 2026-04-01"),
    (("--from", "2030-01-01"), 1, "no record from 2030-01-01 on"),
    (("--from", "2026-09-01", "--to", "2026-09-02"), 1, "no decision from 2026-09-01 to"),
])
def test_bad_input_is_one_line(orders, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    if "--db" not in args:
        args = (*args, "--db", orders)
    result = invoke_credit("report", "--out", tmp_path / "r.html", *args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_out_must_be_a_file(orders, tmp_path):
    result = invoke_credit("report", "--out", tmp_path, "--db", orders)
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


def test_the_page_never_overwrites_the_audit_file_or_any_sqlite_file(orders, tmp_path):
    db = copy_db(orders, tmp_path / "audit.db")
    other = copy_db(orders, tmp_path / "other.db")
    before = db.read_bytes()
    for target, says in ((db, "is the command's input"), (other, "is an SQLite file")):
        result = invoke_credit("report", "--out", target, "--db", db)
        assert result.exit_code == 2, result.output
        assert says in result.stderr and len(result.stderr.splitlines()) == 1
    assert db.read_bytes() == before and invoke_credit("audit", "verify", "--db",
                                                       db).exit_code == 0


def test_a_page_is_written_whole_over_an_old_one(orders, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("an old page", encoding="utf-8")
    assert invoke_credit("report", "--out", out, "--db", orders).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no partial file left


def test_a_trail_that_fails_verification_is_reported_as_such(orders, tmp_path):
    db = copy_db(orders, tmp_path / "tampered.db")
    tamper(db, lambda conn: conn.execute(
        "UPDATE records SET outcome = 'pass' WHERE seq = 15"))
    out = tmp_path / "r.html"
    result = invoke_credit("report", "--out", out, "--db", db)
    assert result.exit_code == 1
    assert "the trail failed verification (FAILED at record 15" in result.stderr
    page = out.read_text(encoding="utf-8")
    assert 'data-verified="no"' in page and "Verification FAILED at record 15" in page


# -- the numbers, against the trail -----------------------------------------------------------
@pytest.fixture(scope="module")
def year_data(year) -> dict:
    with AuditStore(year, create=False) as store:
        return gather(store, until=dt.date.fromisoformat(YEAR_END))


def test_grades_limits_and_outcomes_are_the_trails(year, year_data):
    customers = decisions_by_customer(year, YEAR_END)
    latest = {c: d[-1] for c, d in customers.items()}
    grades = Counter(grade for grade, _, _ in latest.values())
    assert year_data["grades"] == [{"grade": g, "customers": grades[g]} for g in GRADES]
    granted = {g: sum((Decimal(limit) for grade, outcome, limit in latest.values()
                       if grade == g and outcome == "accept"), Decimal(0)) for g in GRADES}
    assert {r["grade"]: r["granted"] for r in year_data["limits"]} == granted
    outcomes = dict(sql(year, "SELECT outcome, count(*) FROM records WHERE kind = 'decision' "
                              "AND as_of <= ? GROUP BY 1", (YEAR_END,)))
    assert year_data["admission"]["outcomes"] == [
        {"outcome": o, "decisions": outcomes.get(o, 0)} for o in ("accept", "refer", "reject")]
    assert year_data["count"] == sum(outcomes.values())


def test_migration_is_first_to_latest_grade(year, year_data):
    moves = Counter((d[0][0], d[-1][0]) for d in decisions_by_customer(year, YEAR_END).values())
    assert year_data["migration"]["cells"] == [[moves[(a, b)] for b in GRADES] for a in GRADES]
    assert year_data["migration"]["downgraded"] == sum(
        n for (a, b), n in moves.items() if GRADES.index(b) > GRADES.index(a)) > 0


def test_monitor_actions_and_rule_coverage_are_the_trails(year, year_data):
    actions = dict(sql(year, "SELECT outcome, count(*) FROM records WHERE kind = 'action' "
                             "GROUP BY 1"))
    assert {r["action"]: r["actions"] for r in year_data["actions"]} == actions
    [coverage] = year_data["coverage"]
    bands = [i for i in coverage["items"] if i["kind"] == "band"]
    assert sum(i["hits"] for i in bands) == year_data["count"]  # one band a decision
    fired = {rule for (rule,) in sql(year, "SELECT DISTINCT json_extract(body, '$.rule') "
                                           "FROM records WHERE kind = 'action'")}
    assert {i["id"] for i in coverage["items"] if i["stage"] == "monitoring" and i["hits"]} \
        == fired
    assert coverage["covered"] == sum(1 for i in coverage["items"] if i["counted"] and i["hits"])
    assert coverage["missed"] and all(i["hits"] == 0 for i in coverage["missed"])


def test_a_period_counts_only_the_decisions_dated_in_it(year):
    """From 2026-06-01 to 2026-08-31: the monitor's re-grades of those months only."""
    since, until = "2026-06-01", "2026-08-31"
    with AuditStore(year, create=False) as store:
        data = gather(store, dt.date.fromisoformat(since), dt.date.fromisoformat(until))
    rows = sql(year, "SELECT customer_id, grade FROM records WHERE kind = 'decision' AND "
                     "as_of BETWEEN ? AND ? ORDER BY as_of, seq", (since, until))
    assert data["count"] == len(rows) > 0 and data["period"] == {"from": since, "to": until}
    first: dict[str, str] = {}
    latest: dict[str, str] = {}
    for customer, grade in rows:
        first.setdefault(customer, grade)
        latest[customer] = grade
    moves = Counter((first[c], latest[c]) for c in latest)
    assert data["migration"]["cells"] == [[moves[(a, b)] for b in GRADES] for a in GRADES]
    actions = dict(sql(year, "SELECT outcome, count(*) FROM records WHERE kind = 'action' AND "
                             "as_of BETWEEN ? AND ? GROUP BY 1", (since, until)))
    assert {r["action"]: r["actions"] for r in data["actions"]} == actions
    assert data["accounts"]["as_of"] == until
    [coverage] = data["coverage"]
    assert sum(i["hits"] for i in coverage["items"] if i["kind"] == "band") == len(rows)


def test_accounts_agree_with_the_exposure_command(year, year_data):
    accounts = year_data["accounts"]
    with_events = sql(year, "SELECT count(DISTINCT customer_id) FROM records WHERE kind = "
                            "'event' AND as_of <= ?", (YEAR_END,))[0][0]
    assert accounts["customers"] == with_events
    assert sum(b["customers"] for b in accounts["utilisation"]) == with_events
    top = accounts["most_used"][0]
    exposure = json.loads(credit("exposure", top["customer_id"], "--as-of", YEAR_END,
                                 "--json", "--db", year))
    receivables = next(c for c in exposure["categories"] if c["category"] == "open_receivables")
    assert Decimal(receivables["amount"]) == top["balance"]
    assert top["percent"] == (top["balance"] * 100 / top["credit_limit"]).quantize(
        Decimal("0.1")) > 100
    open_invoices = sum(b["invoices"] for b in accounts["ageing"])
    assert open_invoices > 0 and accounts["ageing"][-1]["amount"] > 0


def test_orders_overrides_and_releases(orders):
    with AuditStore(orders, create=False) as store:
        data = gather(store)
    assert data["orders"]["outcomes"] == [{"outcome": "pass", "checks": 1},
                                          {"outcome": "block", "checks": 2},
                                          {"outcome": "released", "checks": 1}]
    assert data["orders"]["reasons"] == [{"code": "OVERDUE_ITEMS", "checks": 2},
                                         {"code": "CREDIT_LIMIT_EXCEEDED", "checks": 1}]
    [release] = data["orders"]["releases"]
    assert (release["event"], release["order_id"], release["by"], release["role"]) == \
        ("released", "SO-201", "ana", "credit_analyst")
    # BB -> BBB by one notch is within an analyst's authority; BBB -> CCC is not.
    assert data["overrides"] == [
        {"role": "credit_analyst", "direction": "downgrade", "applied": False, "decisions": 1},
        {"role": "credit_analyst", "direction": "upgrade", "applied": True, "decisions": 1}]
    assert data["migration"]["upgraded"] == 1


# -- in a real browser ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    try:
        chromium = Chromium()
    except BrowserUnavailable as exc:
        pytest.skip(str(exc))
    yield chromium
    chromium.close()


def opened(browser: Chromium, page: Path) -> str:
    browser.events.clear()
    url = page.as_uri()
    browser.open(url)
    return url


def table(browser: Chromium, selector: str) -> dict[str, list[str]]:
    """The rows of a table: data-key -> the cells' text."""
    return dict(browser.evaluate(
        f"Array.from(document.querySelectorAll({json.dumps(selector + ' tbody tr')}))"
        ".map(r => [r.dataset.key, Array.from(r.cells).map(c => c.textContent.trim())])"))


def test_the_year_report_in_chromium(browser, year, year_page, tmp_path):
    url = opened(browser, year_page)
    assert browser.console_errors() == []
    assert browser.requests() == [url]
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000

    head = credit("audit", "head", "--db", year).strip()
    assert browser.evaluate("document.getElementById('head').textContent") == head
    assert browser.evaluate("document.getElementById('verify').className") == "verified"
    customers = decisions_by_customer(year, YEAR_END)
    count = sum(len(d) for d in customers.values())
    assert browser.evaluate("document.getElementById('decision-count').textContent") == \
        f"{count:,}"
    grades = Counter(d[-1][0] for d in customers.values())
    assert {g: cells[1] for g, cells in table(browser, "#grades").items()} == \
        {g: f"{grades[g]:,}" for g in GRADES}
    moves = Counter((d[0][0], d[-1][0]) for d in customers.values())
    cells = browser.evaluate(
        "Array.from(document.querySelectorAll('#migration g.cell'))"
        ".map(g => [g.dataset.row, g.dataset.column, Number(g.dataset.count)])")
    assert len(cells) == len(GRADES) ** 2
    assert all(n == moves[(a, b)] for a, b, n in cells)
    assert browser.evaluate("document.querySelectorAll('#grades svg .bar').length") == 7
    assert browser.evaluate("document.querySelectorAll('#coverage .ruleset').length") == 1


def test_tables_sort_when_their_heading_is_clicked(browser, year_page):
    opened(browser, year_page)
    column = "document.querySelectorAll('#grades thead th')[1]"
    counts = ("Array.from(document.querySelectorAll('#grades tbody tr'))"
              ".map(r => Number(r.cells[1].dataset.value))")
    before = browser.evaluate(counts)
    browser.evaluate(f"{column}.click()")
    assert browser.evaluate(counts) == sorted(before)
    assert browser.evaluate(f"{column}.getAttribute('aria-sort')") == "ascending"
    browser.evaluate(f"{column}.click()")
    assert browser.evaluate(counts) == sorted(before, reverse=True)
    assert browser.console_errors() == []


def test_the_order_report_in_chromium(browser, orders_page, tmp_path):
    url = opened(browser, orders_page)
    assert browser.console_errors() == []
    assert browser.requests() == [url]
    browser.screenshot(tmp_path / "orders.png")
    assert table(browser, "#order-outcomes") == {
        "pass": ["pass", "1"], "block": ["block", "2"], "released": ["released", "1"]}
    assert table(browser, "#order-releases")["SO-201"][5:8] == ["released", "ana",
                                                                "credit_analyst"]
    assert table(browser, "#overrides") == {
        "credit_analyst/downgrade": ["credit_analyst", "downgrade", "0", "1"],
        "credit_analyst/upgrade": ["credit_analyst", "upgrade", "1", "0"]}


def test_the_checks_would_see_a_request_and_a_console_error(browser, tmp_path):
    """The two checks above are not empty: a page that fetches an image and logs an
    error is caught by both."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/pixel.png">'
                    '<script>console.error("boom")</script>', encoding="utf-8")
    url = opened(browser, page)
    assert browser.requests() == [url, "http://127.0.0.1:9/pixel.png"]
    assert "boom" in browser.console_errors()


def test_version_and_other_commands_do_not_load_the_report():
    """Jinja2 and engine.report are imported when a report is made, not at start-up."""
    probe = ("import sys\nfrom engine.cli.main import main\nsys.argv = ['credit', '--version']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('jinja2', 'markupsafe', "
             "'engine.report', 'engine.cli.report'))))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- credit simulate --html -------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulation(tmp_path_factory) -> tuple[Path, dict]:
    """The first 200 customers of the example portfolio under the shipped ruleset and a
    candidate that gives more points to a current ratio from 1.0 to 1.5: the page, and
    the same simulation as --json gives it."""
    folder = tmp_path_factory.mktemp("simulation")
    candidate = folder / "candidate"
    shutil.copytree(ROOT / "rulesets" / "default", candidate)
    for name, old, new in (("ruleset.yaml", 'version: "1.0.0"', 'version: "1.1.0"'),
                           ("grading.yaml", '{range: "[1.0..1.5)", points: 50}',
                            '{range: "[1.0..1.5)", points: 60}')):
        text = (candidate / name).read_text(encoding="utf-8")
        assert old in text
        (candidate / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    portfolio = folder / "portfolio.csv"
    lines = (EXAMPLES / "portfolio.csv").read_text(encoding="utf-8").splitlines(True)
    portfolio.write_text("".join(lines[:201]), encoding="utf-8")
    out = folder / "simulation.html"
    stdout = credit("simulate", "--baseline", ROOT / "rulesets" / "default", "--candidate",
                    candidate, portfolio, "--as-of", "2025-12-31", "--json", "--html", out)
    return out, json.loads(stdout)


def test_simulate_html_is_written_beside_the_usual_output(simulation):
    page, data = simulation
    assert data["summary"]["customers"] == 200 and data["summary"]["upgraded"] > 0
    text = page.read_text(encoding="utf-8")
    assert data["baseline"]["hash"] in text and data["candidate"]["hash"] in text
    for needle in ("src=", "<link", "@import", "url(", "https://"):
        assert needle not in text


def test_simulate_html_refuses_a_folder_before_deciding(tmp_path):
    result = invoke_credit("simulate", "--baseline", ROOT / "rulesets" / "default",
                           "--candidate", ROOT / "rulesets" / "default",
                           EXAMPLES / "portfolio.csv", "--html", tmp_path)
    assert result.exit_code == 2
    assert result.stdout == "" and "'--html': " in result.stderr and "is a folder" in \
        result.stderr


def test_simulate_html_never_overwrites_the_portfolio(tmp_path):
    portfolio = tmp_path / "p.csv"
    portfolio.write_bytes((EXAMPLES / "portfolio.csv").read_bytes())
    result = invoke_credit("simulate", "--baseline", ROOT / "rulesets" / "default",
                           "--candidate", ROOT / "rulesets" / "default", portfolio,
                           "--html", portfolio)
    assert result.exit_code == 2 and "is the command's input" in result.stderr
    assert portfolio.read_bytes() == (EXAMPLES / "portfolio.csv").read_bytes()


def test_the_simulation_page_in_chromium(browser, simulation, tmp_path):
    page, data = simulation
    url = opened(browser, page)
    assert browser.console_errors() == []
    assert browser.requests() == [url]
    browser.screenshot(tmp_path / "simulation.png")
    matrix = {row["old_grade"]: row for row in data["migration"]}
    cells = browser.evaluate(
        "Array.from(document.querySelectorAll('#migration g.cell'))"
        ".map(g => [g.dataset.row, g.dataset.column, Number(g.dataset.count)])")
    assert len(cells) == (len(matrix) - 1) ** 2  # less the total row and column
    assert all(matrix[old][new] == n for old, new, n in cells)
    assert browser.evaluate("document.getElementById('upgraded').textContent") == \
        str(data["summary"]["upgraded"])
    movers = table(browser, "#movers")
    assert list(movers) == [row["customer_id"] for row in data["movers"]]
    assert table(browser, "#limits")["AAA"][5] == \
        f"{'+' if Decimal(data['limits'][0]['change']) > 0 else ''}" \
        f"{Decimal(data['limits'][0]['change']):,.2f}"


def test_ageing_counts_invoices_that_name_the_rulesets_own_currency(tmp_path):
    """A trail whose only decision is a rejection (no policy to say the currency): the
    currency is the stored ruleset's, so an invoice marked EUR is no foreign one."""
    from engine.audit.store import AuditStore
    from engine.report.gather import gather

    db = tmp_path / "audit.db"
    customer = EXAMPLES / "customers" / "reject-sanctions.json"
    credit("decide", customer, "--as-of", YEAR_END, "--db", db)
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({
        "id": "E1", "customer_id": json.loads(customer.read_text())["id"],
        "type": "invoice_issued", "occurred_at": "2026-11-01", "invoice_id": "I1",
        "amount": 1000, "due_date": "2026-11-10", "currency": "EUR"}) + "\n")
    credit("events", "ingest", events, "--db", db)
    with AuditStore(db) as store:
        accounts = gather(store)["accounts"]
    assert accounts["currency"] == "EUR" and accounts["not_converted"] == []
    assert [b["invoices"] for b in accounts["ageing"]] == [0, 1, 0, 0, 0]
