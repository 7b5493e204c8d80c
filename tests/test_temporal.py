"""Dates, times, date-times and durations (engine/language/temporal.py): ISO 8601 text read
and written, DMN's arithmetic at month ends and leap days, expressions and cells over them
(the compiled cell and the interval static checks read agree), facts read from documents,
the trace, and lint's gap and overlap checks over date and duration columns."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.canonical import canonical_json
from engine.errors import DecisionError, ExpressionError
from engine.language import temporal
from engine.language.expressions import CodeContext, compile_expression
from engine.language.temporal import Duration, YearsMonths
from engine.language.value_types import fits
from engine.quality.lint import lint_ruleset
from tests.credit_cli import invoke_credit
from tests.expression_scope import LOCALS, SCOPE, as_function
from tests.ruleset_factory import FACTS, build_ruleset, compile_ruleset, run, table, trace_entry
from tests.test_unary_tests import compile_cell, matches

D = dt.date
UTC = dt.UTC
DAY = 86_400_000_000
HOUR = 3_600_000_000


def days(n: int) -> Duration:
    return Duration(n * DAY)


# --- ISO 8601 text ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value", "written"), [
    ("P30D", days(30), "P30D"), ("P3DT4H", Duration(3 * DAY + 4 * HOUR), "P3DT4H"),
    ("PT90M", Duration(90 * 60_000_000), "PT1H30M"), ("PT24H", days(1), "P1D"),
    ("PT0S", Duration(0), "PT0S"), ("P0D", Duration(0), "PT0S"), ("-P1D", days(-1), "-P1D"),
    ("PT0.5S", Duration(500_000), "PT0.5S"), ("PT1.000001S", Duration(1_000_001), "PT1.000001S"),
    ("P1Y6M", YearsMonths(18), "P1Y6M"), ("P18M", YearsMonths(18), "P1Y6M"),
    ("P2Y", YearsMonths(24), "P2Y"), ("P0M", YearsMonths(0), "P0M"),
    ("-P1Y", YearsMonths(-12), "-P1Y"), ("P0Y", YearsMonths(0), "P0M"),
])
def test_durations_are_read_and_written_in_dmn_normal_form(text, value, written):
    parsed = temporal.parse("duration", text)
    assert parsed == value and type(parsed) is type(value)
    assert parsed.isoformat() == written
    assert temporal.parse("duration", written) == value  # the written form reads back


@pytest.mark.parametrize(("text", "fragment"), [
    ("P", "not a duration"), ("PT", "not a duration"), ("P1DT", "not a duration"),
    ("P1Y2M3D", "cannot be mixed with days and time"), ("P1MT2H", "cannot be mixed"),
    ("P1W", "weeks are written as days"), ("30D", "not a duration"),
    ("p30d", "not a duration"), ("P-1D", "not a duration"), ("PT0.0000001S", "not a duration"),
    ("P9999999D", "longer than the calendar"), ("P20000Y", "longer than the calendar"),
    ("", "not a duration"),
])
def test_bad_durations_are_refused_saying_why(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        temporal.parse("duration", text)


@pytest.mark.parametrize(("typ", "text", "fragment"), [
    ("datetime", "2026-01-31T09:30:00", "has no offset"),
    ("datetime", "2026-01-31 09:30:00Z", "not a datetime"),
    ("datetime", "2026-02-29T00:00:00Z", "no such day"),
    ("datetime", "2026-01-31T24:00:00Z", "no such time of day"),
    ("datetime", "2026-01-31T09:30:00+24:00", "no such offset"),
    ("time", "09:30Z", "a time of day has no offset"), ("time", "9:30", "not a time"),
    ("time", "09:60", "no such time of day"), ("date", "2026-02-29", "no such day"),
    ("date", "20260131", "not a date"), ("years_months_duration", "P30D", "not a years"),
    ("time", 930, "not a time"),
])
def test_bad_dates_and_times_are_refused_saying_why(typ, text, fragment):
    with pytest.raises(ValueError, match=fragment):
        temporal.parse(typ, text)


def test_a_datetime_names_an_instant_and_keeps_its_offset_when_written():
    paris = temporal.parse("datetime", "2026-01-31T10:00+01:00")
    assert paris == temporal.parse("datetime", "2026-01-31T09:00:00Z")
    assert paris.isoformat() == "2026-01-31T10:00:00+01:00"
    assert temporal.parse("date", "2024-02-29") == D(2024, 2, 29)  # a leap day is a day
    assert temporal.parse("time", "23:59:59.999999") == dt.time(23, 59, 59, 999999)


def test_canonical_json_writes_iso_text_and_old_dates_keep_their_bytes():
    values = [D(2026, 1, 31), dt.time(9, 30), days(30), YearsMonths(18),
              temporal.parse("datetime", "2026-01-31T10:00:00.5+01:00")]
    assert canonical_json(values) == ('["2026-01-31","09:30:00","P30D","P1Y6M",'
                                      '"2026-01-31T10:00:00.500000+01:00"]')
    assert canonical_json({"founded": D(2006, 6, 19)}) == '{"founded":"2006-06-19"}'


@pytest.mark.parametrize(("value", "typ", "expected"), [
    ("P30D", "duration", True), ("P1Y", "duration", False), ("P1Y", "years_months_duration", True),
    ("09:30", "time", True), ("2026-01-31T09:30Z", "datetime", True),
    ("2026-01-31T09:30", "datetime", False), (30, "duration", False), (None, "duration", True),
    ("2026-01-31", "datetime", False),
])
def test_document_values_are_checked_by_fact_type(value, typ, expected):
    assert fits(value, typ) is expected


def test_durations_are_values_that_cross_processes_and_never_change():
    for value in (Duration(-1), YearsMonths(18)):
        assert pickle.loads(pickle.dumps(value)) == value
        assert hash(copy.deepcopy(value)) == hash(value)
        with pytest.raises(AttributeError):
            value._count = 0
    assert Duration(5) != YearsMonths(5) and Duration(0) != 0
    with pytest.raises(TypeError):
        assert Duration(1) < YearsMonths(1)


# --- arithmetic -----------------------------------------------------------------------------

@pytest.mark.parametrize(("left", "op", "right", "expected"), [
    (D(2026, 1, 31), "+", YearsMonths(1), D(2026, 2, 28)),  # month end: the last day
    (D(2024, 1, 31), "+", YearsMonths(1), D(2024, 2, 29)),  # a leap year's February
    (D(2024, 2, 29), "+", YearsMonths(12), D(2025, 2, 28)),
    (D(2024, 2, 29), "-", YearsMonths(48), D(2020, 2, 29)),
    (D(2026, 3, 31), "-", YearsMonths(1), D(2026, 2, 28)),
    (D(2026, 1, 31), "+", YearsMonths(0), D(2026, 1, 31)),
    (D(2026, 1, 31), "+", YearsMonths(-13), D(2024, 12, 31)),
    (D(2026, 1, 1), "+", days(30), D(2026, 1, 31)), (D(2026, 1, 1), "-", days(-1), D(2026, 1, 2)),
    (D(2026, 1, 1), "+", Duration(0), D(2026, 1, 1)),
    (D(2026, 1, 1), "+", Duration(36 * HOUR), D(2026, 1, 2)),  # the rest of a day dropped
    (D(2026, 1, 1), "-", Duration(HOUR), D(2025, 12, 31)),      # (as DMN: from midnight)
    (D(2024, 3, 1), "-", D(2024, 2, 28), days(2)), (D(2026, 3, 1), "-", D(2026, 2, 28), days(1)),
    (D(2026, 1, 1), "-", D(2026, 1, 31), days(-30)),
    (dt.time(23), "+", Duration(2 * HOUR), dt.time(1)), (dt.time(1), "-", Duration(2 * HOUR),
                                                         dt.time(23)),
    (dt.time(9), "-", dt.time(17, 30), Duration(-8 * HOUR - 30 * 60_000_000)),
    (days(1), "+", Duration(-HOUR), Duration(23 * HOUR)), (YearsMonths(6), "-", YearsMonths(18),
                                                           YearsMonths(-12)),
    (D(9999, 12, 31), "+", days(1), None), (D(1, 1, 1), "-", YearsMonths(1), None),
    (D(9999, 12, 1), "+", YearsMonths(1), None),
])
def test_arithmetic_at_month_ends_leap_days_and_the_ends_of_the_calendar(left, op, right,
                                                                          expected):
    result = temporal.add(left, right) if op == "+" else temporal.subtract(left, right)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("result", "expected"), [
    (temporal.multiply(days(1), 3_660_000), days(3_660_000)),  # the longest a text may say
    (temporal.multiply(days(1), 3_660_001), None),
    (temporal.multiply(days(1), 10 ** 13), None), (temporal.multiply(-(10 ** 13), days(1)), None),
    (temporal.add(days(3_000_000), days(660_000)), days(3_660_000)),
    (temporal.add(days(3_000_000), days(660_001)), None),
    (temporal.subtract(days(-3_000_000), days(660_001)), None),
    (temporal.multiply(YearsMonths(12 * 5_000), 2), YearsMonths(120_000)),
    (temporal.add(YearsMonths(120_000), YearsMonths(1)), None),
])
def test_a_computed_duration_past_what_a_text_may_say_is_null(result, expected):
    """As a date moved out of the calendar is: no 10^13-day duration in a trace."""
    assert result == expected and type(result) is type(expected)
    for typ in (temporal.DURATION, temporal.YEARS_MONTHS):  # so the compiler guards it
        assert temporal.can_be_null(typ, "*", "integer") and temporal.can_be_null(typ, "+", typ)


def test_datetimes_subtract_as_instants_across_offsets():
    paris = temporal.parse("datetime", "2026-03-29T03:00:00+02:00")
    utc = temporal.parse("datetime", "2026-03-29T00:30:00Z")
    assert temporal.subtract(paris, utc) == Duration(30 * 60_000_000)
    assert temporal.add(utc, YearsMonths(1)).isoformat() == "2026-04-29T00:30:00+00:00"


@pytest.mark.parametrize(("earlier", "later", "months"), [
    (D(2026, 1, 31), D(2026, 2, 27), 0), (D(2026, 1, 31), D(2026, 2, 28), 1),
    (D(2024, 1, 31), D(2024, 2, 28), 0), (D(2024, 1, 31), D(2024, 2, 29), 1),
    (D(2026, 1, 15), D(2026, 1, 15), 0), (D(2025, 6, 30), D(2026, 6, 29), 11),
    (D(2025, 6, 30), D(2026, 6, 30), 12), (D(2026, 3, 31), D(2026, 1, 31), -2),
    (D(2026, 3, 30), D(2026, 2, 28), -1),
])
def test_months_between_whole_months(earlier, later, months):
    assert temporal.months_between(earlier, later) == months


# --- expressions --------------------------------------------------------------------------

def ev(text, **values):
    ctx = CodeContext()
    compiled = compile_expression(text, SCOPE, ctx)
    return compiled, as_function(compiled.code, ctx)(**{**dict.fromkeys(LOCALS), "k": 1,
                                                        **values})


@pytest.mark.parametrize(("text", "typ", "values", "expected"), [
    ("d - date('2026-01-01')", "duration", {"d": D(2026, 3, 1)}, days(59)),
    ("d + du", "date", {"d": D(2026, 1, 31), "du": days(29)}, D(2026, 3, 1)),
    ("ym + d", "date", {"d": D(2026, 1, 31), "ym": YearsMonths(1)}, D(2026, 2, 28)),
    ("du * 3 - duration('P1D')", "duration", {"du": Duration(HOUR)}, Duration(-21 * HOUR)),
    ("-ym", "years_months_duration", {"ym": YearsMonths(6)}, YearsMonths(-6)),
    ("2 * ym", "years_months_duration", {"ym": YearsMonths(7)}, YearsMonths(14)),
    ("ts - datetime('2026-01-01T00:00:00Z')", "duration",
     {"ts": dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))},
     Duration(0)),
    ("tm + duration('PT30M')", "time", {"tm": dt.time(23, 45)}, dt.time(0, 15)),
    ("max(du, duration('PT0S'))", "duration", {"du": days(-1)}, Duration(0)),
    ("coalesce(du, duration('P1D'))", "duration", {}, days(1)),
    ("d + du", "date", {"d": D(2026, 1, 1)}, None),  # a missing duration: null
    ("d + duration('P1D')", "date", {"d": D(9999, 12, 31)}, None),  # beyond the calendar
])
def test_expressions_over_dates_and_durations(text, typ, values, expected):
    compiled, result = ev(text, **values)
    assert compiled.type == typ
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("d - date('2026-01-01') > duration('P30D')", {"d": D(2026, 1, 31)}, False),  # 30 days
    ("d - date('2026-01-01') > duration('P30D')", {"d": D(2026, 2, 1)}, True),
    ("du >= 'P30D'", {"du": days(30)}, True), ("du == duration('PT720H')", {"du": days(30)}, True),
    ("du < duration('PT0S')", {"du": Duration(-1)}, True),
    ("du < duration('PT0S')", {"du": Duration(0)}, False),
    ("ym <= duration('P1Y')", {"ym": YearsMonths(12)}, True), ("ym > 'P11M'", {"ym": None}, False),
    ("tm < time('09:00')", {"tm": dt.time(9)}, False),
    ("ts == date and time('2026-01-31T10:00:00+01:00')",
     {"ts": dt.datetime(2026, 1, 31, 9, tzinfo=UTC)}, True),
])
def test_comparisons_are_exact(text, values, expected):
    assert ev(text, **values)[1] is expected


@pytest.mark.parametrize(("text", "fragment", "offset"), [
    ("d + 30", "date + integer has no meaning (add or subtract a duration", 0),
    ("du + ym", "duration + years_months_duration has no meaning", 0),
    ("du < ym", "cannot compare a duration with a years_months_duration", 0),
    ("d < ts", "cannot compare a date with a datetime", 0),
    ("du * 1.5", "duration * number has no meaning", 0), ("du / 2", "has no meaning", 0),
    ("d > duration('P1Y2M3D')", "cannot be mixed", 13),
    ("ts > datetime('2026-01-31T09:30')", "has no offset", 14),
    ("ts > date and time('2026-01-31T09:30')", "has no offset", 19),
    ("du > 'P1M'", "'P1M' is a years_months_duration, not a duration", 5),
    ("tm < '25:00'", "no such time of day", 5), ("duration(du)", "takes one text like", 0),
    ("today() > d", "a decision reads no clock; use as_of", 0),
    ("d < now()", "now() does not exist", 4), ("-tm", "a sign needs a number value", 1),
])
def test_errors_are_located(text, fragment, offset):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, SCOPE, CodeContext())
    assert fragment in info.value.message
    assert info.value.offset == offset


# --- cells --------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "typ", "value", "expected"), [
    ('[date("2026-01-01")..date("2026-06-30")]', "date", D(2026, 1, 1), True),
    ('[date("2026-01-01")..date("2026-06-30")]', "date", D(2026, 6, 30), True),
    ('[date("2026-01-01")..date("2026-06-30")]', "date", D(2026, 7, 1), False),
    ('(date("2026-01-01")..date("2026-06-30"))', "date", D(2026, 1, 1), False),
    ('(date("2026-01-01")..date("2026-06-30"))', "date", D(2026, 6, 30), False),
    ('(date("2026-01-01")..date("2026-06-30"))', "date", D(2026, 1, 2), True),
    ("<= date(\"2026-12-31\")", "date", D(2026, 12, 31), True),
    ("< 2024-02-29", "date", D(2024, 2, 29), False),
    ("[2024-02-29..)", "date", D(2024, 2, 29), True),
    ('> duration("P30D")', "duration", days(30), False),
    ('> duration("P30D")', "duration", Duration(30 * DAY + 1), True),
    ("(P30D..P90D]", "duration", days(90), True), ("(P30D..P90D]", "duration", days(30), False),
    ("PT0S", "duration", Duration(0), True), ("= PT0S", "duration", Duration(0), True),
    ("(..PT0S)", "duration", Duration(-1), True), ("(..PT0S)", "duration", Duration(0), False),
    ("[-P1D..PT0S]", "duration", days(-1), True), ("not([-P1D..P1D])", "duration", days(2), True),
    ("[P1Y..P2Y)", "years_months_duration", YearsMonths(24), False),
    ("P1Y6M, P2Y", "years_months_duration", YearsMonths(18), True),
    ("[09:00..17:00)", "time", dt.time(17), False), ("[09:00..17:00)", "time", dt.time(9), True),
    (">= 2026-01-01T00:00:00+01:00", "datetime", dt.datetime(2025, 12, 31, 23, tzinfo=UTC), True),
    (">= 2026-01-01T00:00:00+01:00", "datetime",
     dt.datetime(2025, 12, 31, 22, 59, 59, 999999, tzinfo=UTC), False),
    ("> P30D", "duration", None, False),
])
def test_cells_on_their_edges(cell, typ, value, expected):
    assert matches(cell, typ, value) is expected


@pytest.mark.parametrize(("cell", "typ", "fragment", "offset"), [
    ("> P1M", "duration", "'P1M' is a years_months_duration, not a duration", 2),
    ("[P30X..)", "duration", "'P30X' is not a duration", 1),
    ("[2026-01-31T09:30..)", "datetime", "has no offset", 1),
    ('> duration("P1M")', "duration", "a years_months_duration value in a column of duration", 2),
    ("[P2D..P1D]", "duration", "is empty", 0), ("> 3", "duration", "the number 3", 2),
    ('[date("2026-01-01")..2026-02-30]', "date", "'2026-02-30' is not a date", 21),
    ("[09:00..25:00]", "time", "no such time of day", 8),
    ("> 2026-01-31", "datetime", "'2026-01-31' is a date, not a datetime", 2),
    ("[09:00..)", "duration", "'09:00' is a time, not a duration", 1),
    ("> P1D", "date", "'P1D' is a duration, not a date", 2),
])
def test_bad_cells_are_located(cell, typ, fragment, offset):
    with pytest.raises(ExpressionError) as info:
        compile_cell(cell, typ)
    assert fragment in info.value.message
    assert info.value.offset == offset


DAYS = st.dates(min_value=D(2023, 12, 1), max_value=D(2024, 3, 31))
BRACKETS = st.sampled_from(["[", "("]), st.sampled_from(["]", ")"])


@given(DAYS, DAYS, *BRACKETS, DAYS)
def test_compiled_date_intervals_agree_with_what_lint_reads(low, high, opening, closing,
                                                            value):
    """The code a decision runs and the Interval static checks reason over say the same for
    every date, leap day and month ends included."""
    low, high = min(low, high), max(low, high)
    if low == high and (opening, closing) != ("[", "]"):
        return  # an empty interval is refused
    cell = f'{opening}date("{low}")..date("{high}"){closing}'
    test, fn = compile_cell(cell, "date")
    assert len(test.intervals) == 1
    decided = fn(value, *[None] * (fn.__code__.co_argcount - 1))
    assert decided is test.intervals[0].contains(value)


@given(st.integers(-3, 3), st.sampled_from(["<", "<=", ">", ">="]), st.integers(-3, 3))
def test_compiled_duration_comparisons_agree_with_what_lint_reads(edge, operator, value):
    cell = f'{operator} duration("{Duration(edge * DAY).isoformat()}")'
    test, fn = compile_cell(cell, "duration")
    decided = fn(days(value), *[None] * (fn.__code__.co_argcount - 1))
    assert decided is test.intervals[0].contains(days(value))


# --- through a ruleset: facts, trace, errors ------------------------------------------------

TEMPORAL_FACTS = {"facts": {
    **FACTS["facts"], "attributes.last_review": {"type": "date"},
    "attributes.review_every": {"type": "years_months_duration"},
    "attributes.grace": {"type": "duration"}, "attributes.cutoff": {"type": "time"},
    "attributes.opened_at": {"type": "datetime"}}}
DERIVED = {"derived": {
    "next_review": "attributes.last_review + attributes.review_every",
    "since_review": "as_of - attributes.last_review",
    "early": "attributes.cutoff < time('12:00')",
    "grace_left": "attributes.grace - (as_of - attributes.last_review)",
    "opened": {"table": table([
        {"id": "H1", "when": {"o": '[date and time("2026-01-01T00:00:00Z")..'
                                   'datetime("2026-07-01T00:00:00Z"))'}, "then": {"out": 1}},
    ], inputs=[{"name": "o", "expr": "attributes.opened_at"}], default={"out": 0},
        table_id="opened")},
}}
DOCUMENT = {"attributes.last_review": "2026-05-31", "attributes.review_every": "P1Y6M",
            "attributes.grace": "P45D", "attributes.cutoff": "09:30",
            "attributes.opened_at": "2026-06-30T23:30:00-02:00"}


@pytest.fixture
def dated(tmp_path):
    return compile_ruleset(tmp_path, facts=TEMPORAL_FACTS, derived=DERIVED)


def test_facts_are_read_from_iso_text_and_the_trace_shows_iso_text(dated):
    decision = run(dated, DOCUMENT)
    assert trace_entry(decision, "next_review")["result"] == "2027-11-30"
    assert trace_entry(decision, "next_review")["read"] == {
        "attributes.last_review": "2026-05-31", "attributes.review_every": "P1Y6M"}
    assert trace_entry(decision, "since_review")["result"] == "P30D"
    assert trace_entry(decision, "grace_left")["result"] == "P15D"
    assert trace_entry(decision, "early")["read"] == {"attributes.cutoff": "09:30:00"}
    # 23:30 at -02:00 is 01:30 on 1 July in UTC: outside the first half
    opened = trace_entry(decision, "opened/default")
    assert opened["read"] == {"attributes.opened_at": "2026-06-30T23:30:00-02:00"}
    canonical = canonical_json(decision.to_dict())
    assert '"P1Y6M"' in canonical and json.loads(canonical)["as_of"] == "2026-06-30"


def test_the_same_inputs_give_the_same_bytes(dated):
    first = canonical_json(run(dated, DOCUMENT).to_dict())
    assert canonical_json(run(dated, DOCUMENT).to_dict()) == first


@pytest.mark.parametrize(("field", "text", "message"), [
    ("attributes.opened_at", "2026-06-30T23:30:00",
     "attributes.opened_at: '2026-06-30T23:30:00' has no offset"),
    ("attributes.grace", "P1M", "attributes.grace: 'P1M' is not a duration"),
    ("attributes.grace", 30, "attributes.grace: 30 is not a duration"),
    ("attributes.cutoff", "9am", "attributes.cutoff: '9am' is not a time"),
])
def test_a_bad_value_in_a_document_stops_the_decision_naming_the_fact(dated, field, text,
                                                                       message):
    with pytest.raises(DecisionError, match=message):
        run(dated, {**DOCUMENT, field: text})


def test_missing_values_are_null_and_every_test_on_them_false(dated):
    decision = run(dated, {})
    assert trace_entry(decision, "next_review")["result"] is None
    assert trace_entry(decision, "early")["result"] is False
    assert trace_entry(decision, "opened/default")["result"] == {"out": 0}


def test_validate_locates_bad_constants(tmp_path):
    folder = build_ruleset(tmp_path, facts=TEMPORAL_FACTS, derived={"derived": {
        "late": "attributes.grace > duration('P3DT')",
        "t": {"table": table([{"id": "R1", "when": {"g": "> P1M"}, "then": {"out": 1}}],
                             inputs=[{"name": "g", "expr": "attributes.grace"}])},
        "clock": "today() > founded"}})
    result = invoke_credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{folder}/derived.yaml:2:37: 'P3DT' is not a duration (ISO 8601, like P30D or "
        "PT1H30M)",
        f"{folder}/derived.yaml:16:17: 'P1M' is a years_months_duration, not a duration",
        f"{folder}/derived.yaml:19:10: today() does not exist: a decision reads no clock; "
        "use as_of, the decision's date (recorded with it)"]


# --- lint over date and duration columns ----------------------------------------------------

def lint_messages(tmp_path, derived) -> list[tuple[str, str]]:
    folder = build_ruleset(tmp_path, facts=TEMPORAL_FACTS, derived={"derived": {
        **derived, "probe": " + ".join(derived)}})
    return [(f.code, f.message) for f in lint_ruleset(folder)
            if f.code.startswith(("row", "table", "rows"))]


def test_lint_finds_an_overlap_exactly_on_a_closed_date_end(tmp_path):
    found = lint_messages(tmp_path, {"u": {"table": table([
        {"id": "H1", "when": {"f": '[date("2026-01-01")..date("2026-06-30")]'},
         "then": {"out": 1}},
        {"id": "H2", "when": {"f": "[2026-06-30..)"}, "then": {"out": 2}},
        {"id": "H0", "when": {"f": "< 2025-12-31"}, "then": {"out": 0}},
    ], inputs=[{"name": "f", "expr": "founded"}], table_id="u")}})
    assert found == [
        ("table-gap", "table u: no rule matches when f is 2025-12-31 (the table has no "
                      "default, so its outputs are missing)"),
        ("rows-overlap", "rules H1 and H2 both match under hit policy unique when f is "
                         "2026-06-30: a decision reaching them fails")]


def test_lint_leaves_no_gap_between_neighbouring_days_and_equal_instants(tmp_path):
    assert lint_messages(tmp_path, {
        "u": {"table": table([
            {"id": "H1", "when": {"f": "< 2026-01-01"}, "then": {"out": 1}},
            {"id": "H2", "when": {"f": "[2026-01-01..2026-06-30]"}, "then": {"out": 2}},
            {"id": "H3", "when": {"f": "> 2026-06-30"}, "then": {"out": 3}},
        ], inputs=[{"name": "f", "expr": "founded"}], table_id="u")},
        "z": {"table": table([
            {"id": "Z1", "when": {"z": "< 2026-01-01T00:00:00Z"}, "then": {"out": 1}},
            {"id": "Z2", "when": {"z": ">= 2026-01-01T01:00:00+01:00"}, "then": {"out": 2}},
        ], inputs=[{"name": "z", "expr": "attributes.opened_at"}], table_id="z")}}) == []


def test_lint_over_durations_gaps_at_zero_and_shadowed_rules(tmp_path):
    found = lint_messages(tmp_path, {
        "g": {"table": table([
            {"id": "G1", "when": {"g": '> duration("P30D")'}, "then": {"out": 1}},
            {"id": "G2", "when": {"g": "[PT0S..P30D)"}, "then": {"out": 2}},
            {"id": "G3", "when": {"g": "> P60D"}, "then": {"out": 3}},
        ], inputs=[{"name": "g", "expr": "attributes.grace"}], hit_policy="first",
            table_id="g")},
        "y": {"table": table([
            {"id": "Y1", "when": {"y": "[P0M..P1Y)"}, "then": {"out": 1}},
            {"id": "Y2", "when": {"y": "> P1Y"}, "then": {"out": 2}},
        ], inputs=[{"name": "y", "expr": "attributes.review_every"}], table_id="y")}})
    assert found == [
        ("table-gap", "table g: no rule matches when g is (..PT0S), P30D (the table has no "
                      "default, so its outputs are missing)"),
        ("row-shadowed", "rule G3 can never fire: every input it matches is taken first by "
                         "rule G1 (hit policy first)"),
        ("table-gap", "table y: no rule matches when y is (..P0M), P1Y (the table has no "
                      "default, so its outputs are missing)")]
