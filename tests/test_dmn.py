"""DMN XML in and out: the DMN specification's decision-table examples (hit policies
unique, first, priority, any, collect with and without an aggregation, rule order, output
order), a credit terms file (several outputs read by another decision, types with
allowed values, input and output values, an expression output, a collect default) and a
file of dates, times and durations (every temporal typeRef of FEEL), written by hand in
tests/data/dmn, imported into a derived stage, checked by validate, decided as the
examples say, exported back and imported again to the same stage; and the
files that must be refused."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest

from engine.dmn.exporting import export_stage
from engine.dmn.importing import import_dmn, stage_text
from engine.errors import ProblemsError
from engine.ruleset.loader import load_ruleset
from tests.credit_cli import invoke_credit
from tests.ruleset_factory import FACTS, build_ruleset, run, trace_entries, trace_entry

DATA = Path(__file__).resolve().parent / "data" / "dmn"

# (file, {decision: [(facts by name under attributes, expected value)]}), from section
# 8.2.11 of the DMN specification and the engines that reproduce it.
SPEC_EXAMPLES = [
    ("unique-applicant-risk-rating.dmn", {"applicant_risk_rating": [
        ({"applicant_age": 65, "medical_history": "good"}, "Medium"),
        ({"applicant_age": 65, "medical_history": "bad"}, "High"),
        ({"applicant_age": 40, "medical_history": "bad"}, "Medium"),
        ({"applicant_age": 60, "medical_history": "bad"}, "Medium"),  # [25..60] holds 60
        ({"applicant_age": 25, "medical_history": "good"}, "Medium"),
        ({"applicant_age": 22, "medical_history": "bad"}, "Medium"),
        ({"applicant_age": 22, "medical_history": "good"}, "Low")]}),
    ("first-special-discount.dmn", {"special_discount": [
        ({"type_of_order": "Web", "customer_location": "Non-US",
          "type_of_customer": "Retailer"}, 0),
        ({"type_of_order": "Web", "customer_location": "US", "type_of_customer": "Retailer"},
         5),
        ({"type_of_order": "Web", "customer_location": "US",
          "type_of_customer": "Wholesaler"}, 10)]}),
    ("priority-applicant-risk-rating.dmn", {"applicant_risk_rating": [
        ({"applicant_age": 65, "medical_history": "bad"}, "High"),
        ({"applicant_age": 55, "medical_history": "bad"}, "Medium"),
        ({"applicant_age": 30, "medical_history": "good"}, "Medium"),
        ({"applicant_age": 20, "medical_history": "bad"}, "Medium"),
        ({"applicant_age": 20, "medical_history": "good"}, "Low")]}),
    ("any-person-loan-compliance.dmn", {"person_loan_compliance": [
        ({"persons_credit_rating_from_bureau": "B", "person_credit_card_balance": 10000,
          "person_education_loan_balance": 50000}, "Not Compliant"),
        ({"persons_credit_rating_from_bureau": "A", "person_credit_card_balance": 5000,
          "person_education_loan_balance": 10000}, "Compliant")]}),
    ("collect-holidays.dmn", {
        "holidays": [({"age": 58, "years_of_service": 31}, 30),
                     ({"age": 25, "years_of_service": 2}, 22),
                     ({"age": 16, "years_of_service": 1}, 27),
                     ({"age": 46, "years_of_service": 19}, 24),
                     ({"age": 60, "years_of_service": 30}, 38)],  # both edges included
        "holiday_entitlements": [({"age": 58, "years_of_service": 31}, [22, 5, 3]),
                                 ({"age": 25, "years_of_service": 2}, [22])],
        "holiday_rules_applied": [({"age": 58, "years_of_service": 31}, 3),
                                  ({"age": 25, "years_of_service": 2}, 1)]}),
    ("rule-order-student-package.dmn", {"student_financial_package_eligibility": [
        ({"student_gpa": 3.6, "student_extra_curricular_activities_count": 4,
          "student_national_honor_society_membership": "Yes"},
         ["20% Scholarship", "30% Loan"]),
        ({"student_gpa": 3.6, "student_extra_curricular_activities_count": 4,
          "student_national_honor_society_membership": "No"}, ["20% Work-On-Campus"]),
        ({"student_gpa": 3.0, "student_extra_curricular_activities_count": 4,
          "student_national_honor_society_membership": "Yes"}, ["5% Work-On-Campus"])]}),
    ("output-order-holidays.dmn", {"holidays": [  # sorted by the output values 22, 5, 3, 2
        ({"age": 58, "years_of_service": 31}, [22, 5, 3]),
        ({"age": 60, "years_of_service": 30}, [22, 5, 5, 3, 3]),  # rule order among equals
        ({"age": 16, "years_of_service": 1}, [22, 5]),
        ({"age": 46, "years_of_service": 19}, [22, 2]),
        ({"age": 25, "years_of_service": 2}, [22])]}),
]
# A decision with several outputs is read by its parts (credit_terms.days...).
TERMS_EXAMPLE = ("credit-terms.dmn", {
    "credit_terms.days": [({"sector": "construction", "employees": 300}, 14),
                          ({"sector": "retail", "employees": 250}, 60),  # the edge holds
                          ({"sector": "mining", "employees": 249}, 30)],
    "credit_terms.label": [({"sector": "construction", "employees": 3},
                            "construction (short terms)"),
                           ({"sector": "retail", "employees": 300}, "large"),
                           ({"sector": "mining"}, "standard")],
    "credit_terms.discount": [({"sector": "construction"}, 0),
                              ({"sector": "retail", "employees": 300}, 0.01),
                              ({"sector": "mining", "employees": 5}, 0.02)],
    "review_points": [({"sector": "construction"}, 0),  # no rule: the default
                      ({"sector": "retail", "employees": 300}, 10),
                      ({"sector": "mining", "employees": 5}, 5)]})
# FEEL's temporal types: days and time duration, date, years and months duration, date and
# time, time; each interval's ends at the edge.
DATES_EXAMPLE = ("dates-and-durations.dmn", {
    "collection_action": [
        ({"overdue_for": "P90DT1S"}, "legal"),
        ({"overdue_for": "P90D", "promised_until": "2026-07-01"}, "wait for the promise"),
        ({"overdue_for": "P90D", "promised_until": "2026-06-30"}, "letter"),
        ({"overdue_for": "PT720H"}, "letter"),  # 30 days: [ holds it
        ({"overdue_for": "P29DT23H59M59S"}, "reminder"),
        ({"overdue_for": "PT1S"}, "reminder"),
        ({"overdue_for": "PT0S"}, "none"),  # ( leaves it out
        ({}, "none")],
    "review_frequency": [({"relationship_age": "P11M"}, "quarterly"),
                         ({"relationship_age": "P12M"}, "half-yearly"),  # P1Y
                         ({"relationship_age": "P5Y5M"}, "half-yearly"),
                         ({"relationship_age": "P66M"}, "yearly"),
                         ({}, None)],
    "call_slot": [
        # 10:00 UTC is 12:00 at +02:00: the same instant, which >= holds
        ({"last_contact": "2026-06-29T10:00:00Z", "preferred_time": "09:00"}, "wait"),
        ({"last_contact": "2026-06-29T09:59:59Z", "preferred_time": "08:00"}, "morning"),
        ({"last_contact": "2026-06-29T11:59:59+02:00", "preferred_time": "11:59:59"},
         "morning"),
        ({"last_contact": "2026-06-29T09:59:59Z", "preferred_time": "12:00"}, "afternoon"),
        ({}, "afternoon")]})
EXAMPLES = [*SPEC_EXAMPLES, TERMS_EXAMPLE, DATES_EXAMPLE]
EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "examples" / "dmn"


def located(file: str) -> Path:
    """A DMN file of the tests' data, or of the examples (credit-terms.dmn, in the docs)."""
    return DATA / file if (DATA / file).exists() else EXAMPLE_DIR / file


def ruleset_with(folder: Path, imported, types: dict | None = None) -> Path:
    """A ruleset whose derived stage is the imported one (plus a probe per decision, so
    its value shows in the trace) and whose facts declare what it reads, with ``types``
    for facts the file gives no type (a name read without a typeRef, or one a cell's
    expression names)."""
    facts = copy.deepcopy(FACTS)
    for path, typ in {**imported.reads, **(types or {})}.items():
        facts["facts"][path] = {"type": typ}
    stage = copy.deepcopy(imported.stage)
    for name, entry in list(stage["derived"].items()):
        outputs = entry["table"]["outputs"]
        for part in [f"{name}.{o['name']}" for o in outputs] if len(outputs) > 1 else [name]:
            stage["derived"][f"probe_{part.replace('.', '_')}"] = part
    return build_ruleset(folder, facts=facts, derived=stage_text(stage))


def value_of(ruleset, decision_name: str, attributes: dict):
    decision = run(ruleset, {f"attributes.{k}": v for k, v in attributes.items()})
    return trace_entry(decision, f"probe_{decision_name.replace('.', '_')}")["result"]


@pytest.mark.parametrize(("file", "cases"), EXAMPLES, ids=[f for f, _ in EXAMPLES])
def test_an_example_imports_validates_and_decides_as_the_spec_says(tmp_path, file, cases):
    imported = import_dmn(located(file), under="attributes")
    assert sorted(name for name, _ in imported.tables) == sorted(
        {name.split(".")[0] for name in cases})
    folder = ruleset_with(tmp_path / "rs", imported)
    result = invoke_credit("validate", folder)
    assert result.exit_code == 0, result.output
    ruleset = load_ruleset(folder)
    for name, examples in cases.items():
        for attributes, expected in examples:
            assert value_of(ruleset, name, attributes) == expected, (name, attributes)


@pytest.mark.parametrize("file", [f for f, _ in EXAMPLES])
def test_import_export_import_gives_the_same_stage(tmp_path, file):
    first = stage_text(import_dmn(located(file), under="attributes").stage)
    (tmp_path / "derived.yaml").write_text(first, encoding="utf-8")
    exported = export_stage(tmp_path / "derived.yaml")
    (tmp_path / "back.dmn").write_text(exported.text, encoding="utf-8")
    again = stage_text(import_dmn(tmp_path / "back.dmn").stage)  # names are fact paths now
    assert again == first
    # and the second export is the first, byte for byte
    (tmp_path / "again.yaml").write_text(again, encoding="utf-8")
    assert export_stage(tmp_path / "again.yaml").text.replace("again", "derived") == \
        exported.text


def test_the_round_trip_through_the_command_line(tmp_path):
    stage, dmn, back = tmp_path / "derived.yaml", tmp_path / "out.dmn", tmp_path / "back.yaml"
    result = invoke_credit("dmn", "import", DATA / "first-special-discount.dmn", "--out", stage,
                           "--facts-under", "attributes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {stage}: 1 decision table: special_discount (first)",
        "reads: attributes.type_of_order (string), attributes.customer_location (string), "
        "attributes.type_of_customer (string)"]
    result = invoke_credit("dmn", "export", stage, "--out", dmn)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {dmn}: 1 decision: special_discount (first)\n"
    assert invoke_credit("dmn", "import", dmn, "--out", back).exit_code == 0
    assert back.read_text() == stage.read_text()


def test_a_name_that_is_no_fact_path_is_refused_with_the_ways_to_map_it():
    result = invoke_credit("dmn", "import", DATA / "unique-applicant-risk-rating.dmn",
                           "--out", "never.yaml")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{DATA / 'unique-applicant-risk-rating.dmn'}:9:43: "
                            "<inputExpression> decision 'Applicant Risk Rating', input 1 "
                            "'Applicant Age': 'Applicant Age' is not a fact path: map it with "
                            "--fact 'Applicant Age=attributes.applicant_age' (or any fact), "
                            "or read such names under attributes with --facts-under "
                            "attributes")
    assert not Path("never.yaml").exists()


def test_fact_mappings_name_the_fields_each_feel_name_reads():
    imported = import_dmn(DATA / "unique-applicant-risk-rating.dmn", facts={
        "Applicant Age": "operating.employees", "Medical History": "industry.risk_class"})
    table = imported.stage["derived"]["applicant_risk_rating"]["table"]
    assert [c["name"] for c in table["inputs"]] == ["operating.employees",
                                                    "industry.risk_class"]
    assert imported.reads == {"operating.employees": "number", "industry.risk_class": "string"}


# --- files made to be refused ---------------------------------------------------------------

def dmn(body: str, namespace: str = "https://www.omg.org/spec/DMN/20191111/MODEL/") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{namespace}" '
            f'id="d" name="d" namespace="https://example.org/d">\n{body}\n</definitions>\n')


def table(rules: str, *, output: str = '<output name="Out" typeRef="number"/>',
          hit_policy: str = "UNIQUE", inputs: str | None = None) -> str:
    inputs = inputs or ('<input label="A"><inputExpression typeRef="number">'
                        '<text>attributes.a</text></inputExpression></input>')
    return (f'<decision id="t" name="T"><decisionTable id="tt" hitPolicy="{hit_policy}">\n'
            f'{inputs}\n{output}\n{rules}\n</decisionTable></decision>')


def rule(cell: str, out: str = "1") -> str:
    return (f'<rule id="r"><inputEntry><text>{cell}</text></inputEntry>'
            f'<outputEntry><text>{out}</text></outputEntry></rule>')


def refused(tmp_path, text: str) -> list[str]:
    path = tmp_path / "f.dmn"
    path.write_text(text, encoding="utf-8")
    result = invoke_credit("dmn", "import", path, "--out", tmp_path / "out.yaml")
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "out.yaml").exists()
    assert "Traceback" not in result.output
    return [line.replace(str(path), "f.dmn") for line in result.stderr.splitlines()]


def test_an_external_entity_is_refused_before_anything_is_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = ('<?xml version="1.0"?>\n<!DOCTYPE definitions [<!ENTITY x SYSTEM '
            f'"file://{secret}">]>\n' + dmn(table(rule("&x;")))[22:])
    lines = refused(tmp_path, text)
    assert lines == ["f.dmn:2:1: a DTD (<!DOCTYPE ...>) is not allowed in a DMN file"]


def test_a_billion_laughs_is_refused(tmp_path):
    entities = "".join(f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" * 1}' * 1 + "&l"
                       f'{i - 1};&l{i - 1};&l{i - 1};">' for i in range(1, 10))
    text = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY l0 "ha">' + entities + ']>\n'
            '<d>&l9;</d>\n')
    assert refused(tmp_path, text) == [
        "f.dmn:2:1: a DTD (<!DOCTYPE ...>) is not allowed in a DMN file"]


def test_xml_that_is_not_well_formed_is_refused_at_its_place(tmp_path):
    assert refused(tmp_path, dmn("<decision id='t'>")) == [
        "f.dmn:4:3: not well-formed XML: mismatched tag"]


def test_an_empty_file_and_a_file_of_another_kind_are_refused(tmp_path):
    assert refused(tmp_path, "") == ["f.dmn: the file is empty"]
    assert refused(tmp_path, '<?xml version="1.0"?>\n<definitions/>\n') == [
        "f.dmn:2:1: not a DMN 1.3-1.5 file: found <definitions> without a namespace, "
        "expected <definitions> in a DMN MODEL namespace"]


def test_a_file_with_no_decision_tables_says_so_in_one_line(tmp_path):
    text = dmn('<inputData id="i" name="Age"><variable name="Age" typeRef="number"/>'
               '</inputData>')
    assert refused(tmp_path, text) == [
        "f.dmn: no decision tables in this file (no <decision> holds a <decisionTable>)"]


def test_a_decision_that_is_not_a_table_is_refused_where_its_logic_is(tmp_path):
    text = dmn(table(rule("&lt; 5")) + '\n<decision id="g" name="Greeting">\n'
               '  <literalExpression><text>"Hello"</text></literalExpression>\n</decision>')
    assert refused(tmp_path, text) == [
        "f.dmn:9:3: decision 'Greeting': its logic is a literal expression, not a decision "
        "table; only decision tables can be imported"]


@pytest.mark.parametrize(("cell", "out", "message"), [
    ("string length(\"abc\")", "1",
     "<inputEntry> of rule 1 (r) of decision 'T', input 'attributes.a': the FEEL function "
     "string length() is not supported"),
    # a local date and time (no offset) names no single instant: the ruleset refuses it
    ("date and time(\"2026-01-01T00:00:00\")", "1",
     "<inputEntry> of rule 1 (r) of decision 'T', input 'attributes.a': '2026-01-01T00:00:00' "
     "has no offset: a datetime needs one (Z or +01:00)"),
    ("&gt; duration(\"P1Y2M3D\")", "1", "'P1Y2M3D' is not a duration: years and months cannot "
     "be mixed with days and time"),
    ("time(\"25:00:00\")", "1", "'25:00:00' is not a time: no such time of day"),
    ("&lt; 5", "{a: 1}", "<outputEntry> of rule 1 (r) of decision 'T': FEEL contexts ({...}) "
     "are not supported"),
    ("[1, 2, 3]", "1", "FEEL lists and ranges as values are not supported"),
    ("? &gt; 5, 7", "1", "a test with ? (or null) must be the only test of its cell"),
    ("&lt; 5", "if a &gt; 1 then 2 else 3", "FEEL if-then-else expressions are not "
                                             "supported"),
    ("&lt; 5", "2 ** 3", "exponentiation (**) is not supported"),
])
def test_feel_the_ruleset_cannot_say_is_refused_at_its_cell(tmp_path, cell, out, message):
    lines = refused(tmp_path, dmn(table(rule(cell, out))))
    assert len(lines) == 1 and message in lines[0], lines
    assert lines[0].startswith("f.dmn:6:")


def imported_table(tmp_path, text: str, key: str = "t") -> dict:
    path = tmp_path / "f.dmn"
    path.write_text(text, encoding="utf-8")
    return import_dmn(path).stage["derived"][key]["table"]


def test_value_lists_and_several_outputs_come_across(tmp_path):
    outputs = ('<output name="Out" typeRef="number"><outputValues><text>1, 2</text>'
               '</outputValues></output>\n<output name="Second" typeRef="string"/>')
    inputs = ('<input label="A"><inputExpression typeRef="number"><text>attributes.a</text>'
              '</inputExpression><inputValues><text>[0..9], 12, &lt; -5</text></inputValues>'
              '</input>')
    rules = ('<rule id="r"><inputEntry><text>-</text></inputEntry><outputEntry><text>1'
             '</text></outputEntry><outputEntry><text>"x"</text></outputEntry></rule>')
    spec = imported_table(tmp_path, dmn(table(rules, output=outputs, inputs=inputs)))
    assert spec["inputs"] == [{"name": "attributes.a", "description": "A",
                               "values": ["[0..9]", 12, "(..-5)"]}]
    assert spec["outputs"] == [{"name": "out", "type": "number", "values": [1, 2]},
                               {"name": "second", "type": "string"}]
    assert spec["rules"] == [{"id": "r", "then": {"out": 1, "second": "x"}}]


def test_priority_on_a_number_output_ranks_by_its_values(tmp_path):
    output = ('<output name="Days" typeRef="number"><outputValues><text>60, 30, 14</text>'
              '</outputValues></output>')
    rules = (rule("&lt; 10", "14") + rule("-", "30").replace('"r"', '"r2"') +
             rule("&gt;= 250", "60").replace('"r"', '"r3"'))
    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(rules, output=output, hit_policy="P")))
    imported = import_dmn(path)
    assert imported.stage["derived"]["t"]["table"]["outputs"] == [
        {"name": "days", "type": "number", "values": [60, 30, 14]}]
    ruleset = load_ruleset(ruleset_with(tmp_path / "rs", imported))
    # 30 outranks 14 (5 staff); 60 outranks 30 (250, on the edge)
    assert [value_of(ruleset, "t", {"a": a}) for a in (5, 10, 250)] == [30, 30, 60]


def test_a_type_with_allowed_values_gives_the_values_of_each_column_it_types(tmp_path):
    definitions = ('<itemDefinition name="tRating"><typeRef>string</typeRef><allowedValues>'
                   '<text>"A", "B"</text></allowedValues></itemDefinition>\n'
                   '<itemDefinition name="tGrade"><typeRef>tRating</typeRef></itemDefinition>'
                   '\n<itemDefinition name="tFlag"><typeRef>boolean</typeRef><allowedValues>'
                   '<text>true</text></allowedValues></itemDefinition>')
    inputs = ('<input label="a"><inputExpression typeRef="tRating"><text>attributes.a</text>'
              '</inputExpression></input><input label="b"><inputExpression typeRef="tGrade">'
              '<text>attributes.b</text></inputExpression><inputValues><text>"B"</text>'
              '</inputValues></input>')
    rules = ('<rule id="r"><inputEntry><text>"A"</text></inputEntry><inputEntry><text>-</text>'
             '</inputEntry><outputEntry><text>true</text></outputEntry></rule>')
    spec = imported_table(tmp_path, dmn(definitions + "\n" + table(
        rules, inputs=inputs, output='<output name="Ok" typeRef="tFlag"/>')))
    # a type built on a restricted one keeps its values; an input's own values come first
    assert [c.get("values") for c in spec["inputs"]] == [["A", "B"], ["B"]]
    assert spec["outputs"] == [{"name": "ok", "type": "boolean", "values": [True]}]


@pytest.mark.parametrize(("values", "message"), [
    ('"A", Other', "a value list holds texts, numbers, true/false, dates, times, durations "
                   "and intervals of them, each written as itself (not names or expressions)"),
    ('not("A")', "a value list written as not(...) is not supported: list the values it "
                 "allows"),
    ("? &gt; 1", "a value list holds texts"),
])
def test_an_input_value_list_that_is_not_values_is_refused_at_it(tmp_path, values, message):
    inputs = ('<input label="A"><inputExpression typeRef="string"><text>attributes.a</text>'
              f'</inputExpression><inputValues><text>{values}</text></inputValues></input>')
    lines = refused(tmp_path, dmn(table(rule("-"), inputs=inputs)))
    assert len(lines) == 1 and message in lines[0], lines
    assert lines[0].startswith("f.dmn:4:108: <inputValues> decision 'T', input 1 'A': ")


def test_output_values_with_an_interval_are_refused(tmp_path):
    output = ('<output name="Out" typeRef="number"><outputValues><text>[1..2]</text>'
              '</outputValues></output>')
    assert refused(tmp_path, dmn(table(rule("-"), output=output))) == [
        "f.dmn:5:51: <outputValues> decision 'T', output 'out': a value list holds texts, "
        "numbers and true/false, each written as itself (not names or expressions) (the "
        "cell reads '[1..2]')"]


def test_a_ranked_table_needs_output_values_and_values_in_its_ranked_cells(tmp_path):
    assert refused(tmp_path, dmn(table(rule("-"), hit_policy="PRIORITY"))) == [
        "f.dmn:5:1: decision 'T': hit policy PRIORITY needs <outputValues> on an output (or "
        "a typeRef with allowed values): its values in priority order"]
    output = ('<output name="Out" typeRef="number"><outputValues><text>1, 2</text>'
              '</outputValues></output>')
    assert refused(tmp_path, dmn(table(rule("-", "attributes.a + 1"), output=output,
                                       hit_policy="O"))) == [
        "f.dmn:6:66: <outputEntry> of rule 1 (r) of decision 'T': this output's values rank "
        "the rules: its cells must be values, not expressions (the cell reads "
        "'attributes.a + 1')"]


def test_a_default_output_of_a_collect_or_rule_order_table_is_its_default(tmp_path):
    output = ('<output name="Out" typeRef="number"><outputValues><text>1, 0</text>'
              '</outputValues><defaultOutputEntry><text>0</text></defaultOutputEntry>'
              '</output>')
    for policy in ("COLLECT", "RULE ORDER", "OUTPUT ORDER"):
        spec = imported_table(tmp_path, dmn(table(rule("&lt; 5"), output=output,
                                                  hit_policy=policy)))
        assert spec["default"] == {"out": 0}, policy


def test_a_default_output_of_a_count_table_is_refused(tmp_path):
    output = ('<output name="Out" typeRef="number"><defaultOutputEntry><text>0</text>'
              '</defaultOutputEntry></output>')
    text = dmn(table(rule("&lt; 5"), output=output, hit_policy="COLLECT")).replace(
        'hitPolicy="COLLECT"', 'hitPolicy="COLLECT" aggregation="COUNT"')
    assert refused(tmp_path, text) == [
        "f.dmn:5:57: decision 'T': a COUNT table takes no default output: a count over no "
        "matching rule is 0"]


def test_a_default_output_of_a_single_hit_table_is_its_default(tmp_path):
    output = ('<output name="Out" typeRef="number"><defaultOutputEntry><text>0</text>'
              '</defaultOutputEntry></output>')
    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(rule("&lt; 5"), output=output, hit_policy="FIRST")))
    spec = import_dmn(path).stage["derived"]["t"]["table"]
    assert spec["default"] == {"out": 0}
    assert spec["rules"] == [{"id": "r", "when": {"attributes.a": "< 5"}, "then": {"out": 1}}]


def test_older_dmn_versions_are_refused_by_name(tmp_path):
    lines = refused(tmp_path, dmn(table(rule("1")),
                                  namespace="http://www.omg.org/spec/DMN/20151101/dmn.xsd"))
    assert lines == ["f.dmn:2:1: not a DMN 1.3-1.5 file: found <definitions> in namespace "
                     "http://www.omg.org/spec/DMN/20151101/dmn.xsd, expected <definitions> in "
                     "a DMN MODEL namespace"]


# --- cells, one by one ----------------------------------------------------------------------

@pytest.mark.parametrize(("feel", "ruleset"), [
    ("-", None), ("", None), ("<5", "< 5"), ("<= 5.50", "<= 5.50"), ("[1..10]", "[1..10]"),
    ("]1..10[", "(1..10)"), ("(1..10]", "(1..10]"), ('"a","b"', '"a", "b"'),
    ('not("a", "b")', 'not("a", "b")'), ("-5", "-5"), ("[-5..-1)", "[-5..-1)"),
    ("attributes.limit", "= attributes.limit"), ("> attributes.limit * 2",
                                                  "> attributes.limit * 2"),
    ("null", "is_missing(?)"), ("not(null)", "not(is_missing(?))"),
    ("? > 5 and ? < 9", "? > 5 and ? < 9"), ('date("2026-01-31")', 'date("2026-01-31")'),
    ('[date("2026-01-01")..date("2026-06-30")]', '[date("2026-01-01")..date("2026-06-30")]'),
    ('"say \\"hi\\""', '"say \\"hi\\""'), ("true", "true"),
    ('> duration("P30D")', '> duration("P30D")'),
    ('[duration("P1Y")..duration("P5Y6M"))', '[duration("P1Y")..duration("P5Y6M"))'),
    ('[time("08:00:00")..time("12:00:00"))', '[time("08:00:00")..time("12:00:00"))'),
    ('<= date and time("2026-01-31T09:30:00+01:00")',
     '<= datetime("2026-01-31T09:30:00+01:00")'),
    ('duration("-P1D"), duration("PT0S")', 'duration("-P1D"), duration("PT0S")'),
])
def test_a_feel_input_cell_and_the_ruleset_cell_it_becomes(tmp_path, feel, ruleset):
    from engine.dmn.feel import parse_unary_tests, write_unary_tests
    from engine.dmn.ruleset_cells import read_cell, write_cell

    tests = parse_unary_tests(feel)
    assert write_cell(tests) == ruleset
    back = read_cell(ruleset, known=set())
    assert write_cell(back) == ruleset
    assert parse_unary_tests(write_unary_tests(back)) == tests


@pytest.mark.parametrize(("feel", "ruleset"), [
    ("a.b + 2 * (c.d - 1)", "a.b + 2 * (c.d - 1)"), ("a.b - (c.d - 1)", "a.b - (c.d - 1)"),
    ("not(a.b) and c.d = 1", "not a.b and c.d == 1"), ("-(a.b + 1)", "-(a.b + 1)"),
    ("a.b = null", "is_missing(a.b)"), ("a.b != null", "not is_missing(a.b)"),
    ("a.b / 100", "a.b / 100"), ("0.10", "0.10"),
])
def test_a_feel_expression_and_the_ruleset_expression_it_becomes(feel, ruleset):
    from engine.dmn import feel as feel_text
    from engine.dmn.ruleset_cells import read_expression, write_expression

    expr = feel_text.parse_expression(feel)
    assert write_expression(expr) == ruleset
    assert feel_text.parse_expression(feel_text.write_expression(read_expression(ruleset))) \
        == expr


def test_an_invoice_age_over_the_decision_date_imports_and_decides_at_its_edge(tmp_path):
    """Today - Invoice Date, with Today mapped to as_of: the decision's date is no fact to
    declare, and the age is a duration compared day by day."""
    inputs = ('<input label="Age"><inputExpression typeRef="days and time duration"><text>'
              'Today - Invoice Date</text></inputExpression></input>')
    rules = "".join(f'<rule id="{i}"><inputEntry><text>{cell}</text></inputEntry><outputEntry>'
                    f'<text>"{out}"</text></outputEntry></rule>' for i, cell, out in (
                        ("old", '&gt; duration("P90D")', "over 90 days"),
                        ("due", "-", "within 90 days")))
    path = tmp_path / "age.dmn"
    path.write_text(dmn(table(rules, inputs=inputs, hit_policy="FIRST",
                              output='<output name="Bucket" typeRef="string"/>')))
    result = invoke_credit("dmn", "import", path, "--out", tmp_path / "age.yaml", "--fact",
                           "Today=as_of", "--fact", "Invoice Date=attributes.invoice_date")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "reads: attributes.invoice_date (type not given)"
    imported = import_dmn(path, facts={"Today": "as_of",
                                       "Invoice Date": "attributes.invoice_date"})
    assert imported.stage["derived"]["t"]["table"]["inputs"] == [
        {"name": "age", "expr": "as_of - attributes.invoice_date", "description": "Age"}]
    ruleset = load_ruleset(ruleset_with(tmp_path / "rs", imported,
                                        {"attributes.invoice_date": "date"}))
    assert [trace_entry(run(ruleset, {"attributes.invoice_date": day}), "probe_t")["result"]
            for day in ("2026-04-01", "2026-03-31")] == ["within 90 days", "over 90 days"]


def test_the_temporal_typerefs_give_the_types_of_the_facts_to_declare():
    imported = import_dmn(DATA / "dates-and-durations.dmn", under="attributes")
    assert imported.reads == {"attributes.overdue_for": "duration",
                              "attributes.promised_until": "date",
                              "attributes.relationship_age": "years_months_duration",
                              "attributes.last_contact": "datetime",
                              "attributes.preferred_time": "time"}


def test_input_values_of_dates_and_durations_come_across_and_go_back(tmp_path):
    inputs = ('<input label="Due"><inputExpression typeRef="date"><text>attributes.due</text>'
              '</inputExpression><inputValues><text>[date("2026-01-01")..date("2026-12-31")]'
              '</text></inputValues></input><input label="Grace"><inputExpression '
              'typeRef="days and time duration"><text>attributes.grace</text>'
              '</inputExpression><inputValues><text>duration("P0D"), duration("P14D"), '
              '&gt;= duration("P30D")</text></inputValues></input>')
    rules = ('<rule id="r"><inputEntry><text>&gt;= date("2026-07-01")</text></inputEntry>'
             '<inputEntry><text>duration("P14D")</text></inputEntry><outputEntry><text>1'
             '</text></outputEntry></rule>')
    spec = imported_table(tmp_path, dmn(table(rules, inputs=inputs)))
    assert [i["values"] for i in spec["inputs"]] == [
        ['[date("2026-01-01")..date("2026-12-31")]'],
        ["P0D", "P14D", '[duration("P30D")..)']]
    facts = copy.deepcopy(FACTS)
    facts["facts"].update({"attributes.due": {"type": "date"},
                           "attributes.grace": {"type": "duration"}})
    stage = stage_text({"derived": {"t": {"table": spec}}})
    result = invoke_credit("validate", build_ruleset(tmp_path / "rs", facts=facts,
                                                     derived=stage))
    assert result.exit_code == 0, result.output
    (tmp_path / "derived.yaml").write_text(stage)
    exported = export_stage(tmp_path / "derived.yaml").text
    assert '<text>[date("2026-01-01")..date("2026-12-31")]</text>' in exported
    assert '<text>duration("P0D"), duration("P14D"), &gt;= duration("P30D")</text>' in exported
    (tmp_path / "back.dmn").write_text(exported)
    assert stage_text(import_dmn(tmp_path / "back.dmn").stage) == stage


def test_input_values_a_ruleset_cannot_hold_are_refused_at_them(tmp_path):
    inputs = ('<input label="Due"><inputExpression typeRef="date"><text>attributes.due</text>'
              '</inputExpression><inputValues><text>attributes.first_due</text></inputValues>'
              '</input>')
    lines = refused(tmp_path, dmn(table(rule("-"), inputs=inputs)))
    assert len(lines) == 1 and lines[0].startswith(
        "f.dmn:4:110: ") and "<inputValues> decision 'T', input 1 'Due': a value list holds " \
        "texts, numbers, true/false, dates, times, durations and intervals of them" in \
        lines[0], lines


def test_dmns_date_and_time_is_the_rulesets_datetime_in_a_cell():
    from engine.dmn.ruleset_cells import read_cell

    assert read_cell('<= date and time("2026-01-31T09:30:00Z")', ()) == \
        read_cell('<= datetime("2026-01-31T09:30:00Z")', ()) == \
        read_cell("<= 2026-01-31T09:30:00Z", ())
    # text that merely starts like a duration stays text
    assert write_cell_text("P2P, PT") == '"P2P", "PT"'


def write_cell_text(cell: str) -> str:
    from engine.dmn.ruleset_cells import read_cell, write_cell

    return write_cell(read_cell(cell, ()))


def test_an_output_of_a_date_time_or_duration_type_is_refused_at_it(tmp_path):
    lines = refused(tmp_path, dmn(table(rule("&lt; 5", 'date("2026-01-31")'), output=(
        '<output name="Due" typeRef="date"/>'))))
    assert lines == ["f.dmn:5:1: decision 'T': a date output is not supported (number, "
                     "integer, money, string, boolean): the ruleset's tables read dates, "
                     "times and durations but do not give them"]
    lines = refused(tmp_path, dmn(table(rule("&lt; 5", 'duration("P30D")'), output=(
        '<output name="Grace" typeRef="days and time duration"/>'))))
    assert "a duration output is not supported" in lines[0] and len(lines) == 1


# --- exporting a stage written by hand ------------------------------------------------------

STAGE = """\
derived:
  limit_class:
    description: How large a limit the customer's size allows.
    table:
      hit_policy: first
      inputs:
      - {name: operating.employees}
      - {name: size, expr: financials.revenue / 1000, description: Revenue in thousands}
      outputs:
      - {name: limit_class, type: string}
      rules:
      - {id: TINY, when: {operating.employees: "(..10)"}, then: {limit_class: small}}
      - {id: BIG, description: a big one, when: {size: "[5000..)"}, then: {limit_class: big}}
      - {id: BINS, when: {operating.employees: "[-inf,8), [44,inf)"}, then: {limit_class: odd}}
      - {id: REST, then: {limit_class: medium}}
  doubled: operating.employees * 2
  bonus:
    table:
      hit_policy: unique
      inputs: [{name: limit_class}]
      outputs: [{name: bonus, type: money}]
      rules:
      - {id: B1, when: {limit_class: "big, medium"}, then: {bonus: "financials.revenue * 0.01"}}
      - {id: B2, when: {limit_class: "not(big, medium)"}, then: {bonus: 0}}
"""


def test_a_hand_written_stage_exports_with_its_formulas_named(tmp_path):
    path = tmp_path / "derived.yaml"
    path.write_text(STAGE)
    exported = export_stage(path)
    assert exported.decisions == (("limit_class", "FIRST"), ("bonus", "UNIQUE"))
    assert exported.formulas == ("doubled",)
    text = exported.text
    for fragment in ('<text>&lt; 10</text>', '<text>&gt;= 5000</text>',
                     '<text>&lt; 8, &gt;= 44</text>', '<text>"big", "medium"</text>',
                     '<text>not("big", "medium")</text>', '<text>financials.revenue * 0.01'
                     '</text>', '<requiredDecision href="#limit_class" />',
                     '<itemDefinition name="money">', '<output id="bonus_output_1" '
                     'name="bonus" typeRef="money" />', 'label="Revenue in thousands"',
                     '<description>How large a limit'):
        assert fragment in text, fragment
    (tmp_path / "back.dmn").write_text(text)
    back = import_dmn(tmp_path / "back.dmn").stage["derived"]
    assert back["bonus"]["table"]["outputs"] == [{"name": "bonus", "type": "money"}]
    assert back["limit_class"]["table"]["rules"][0]["when"] == {"operating.employees": "< 10"}
    assert back["limit_class"]["table"]["inputs"][1] == {
        "name": "size", "expr": "financials.revenue / 1000",
        "description": "Revenue in thousands"}


def test_a_cell_dmn_cannot_hold_is_refused_at_its_place_in_the_yaml(tmp_path):
    path = tmp_path / "derived.yaml"
    path.write_text(STAGE.replace('"financials.revenue * 0.01"',
                                  '"round(financials.revenue * 0.01, 2)"'))
    result = invoke_credit("dmn", "export", path, "--out", tmp_path / "out.dmn")
    assert result.exit_code == 1
    assert result.stderr == (f"{path}:23:68: cannot be written as DMN: the function round() "
                             "has no DMN form here\n")
    assert not (tmp_path / "out.dmn").exists()


def test_a_stage_without_tables_is_one_line(tmp_path):
    path = tmp_path / "derived.yaml"
    path.write_text("derived:\n  doubled: operating.employees * 2\n")
    result = invoke_credit("dmn", "export", path, "--out", tmp_path / "out.dmn")
    assert (result.exit_code, result.stderr) == (1, f"{path}: no decision tables in this "
                                                    "file (a derived stage's tables, or a "
                                                    "stage's 'table')\n")


def test_the_shipped_approval_table_exports_and_imports_back_to_the_same_table(tmp_path):
    root = Path(__file__).resolve().parent.parent
    stage = root / "rulesets" / "default" / "approval.yaml"
    exported = export_stage(stage)
    assert exported.decisions == (("approval_routing", "PRIORITY"),)
    (tmp_path / "approval.dmn").write_text(exported.text)
    back = import_dmn(tmp_path / "approval.dmn").stage["derived"]["approval_routing"]["table"]
    shipped = load_ruleset(root / "rulesets" / "default").source.stages["approval"].data
    shipped = shipped["table"]
    # priority, the older name of an output's values, comes back as values
    assert back["outputs"][0].pop("values") == shipped["outputs"][0]["priority"]
    back["outputs"][0]["priority"] = shipped["outputs"][0]["priority"]
    # a bare word comes back quoted ("refer" for refer): the same text, said safely
    unquoted = [{**r, "when": {k: v.replace('"', "") for k, v in r.get("when", {}).items()}}
                for r in back["rules"]]
    assert unquoted == shipped["rules"]
    assert {k: v for k, v in back.items() if k != "rules"} == \
        {k: v for k, v in shipped.items() if k != "rules"}


def test_the_shipped_policy_table_is_refused_where_round_down_is(tmp_path):
    """round_down(x, step) has no FEEL function of the same exact meaning."""
    root = Path(__file__).resolve().parent.parent
    with pytest.raises(ProblemsError) as caught:
        export_stage(root / "rulesets" / "default" / "policy.yaml", display="policy.yaml")
    assert {p.message for p in caught.value.problems} == {
        "cannot be written as DMN: the function round_down() has no DMN form here"}
    assert str(caught.value.problems[0]).startswith("policy.yaml:37:23: ")


NEW_FEATURES_STAGE = """\
derived:
  terms:
    table:
      hit_policy: priority
      inputs:
      - {name: sector, expr: industry.sector, values: [retail, mining]}
      - {name: staff, expr: operating.employees, values: ["[0..500]", 1000]}
      - {name: attributes.flag, values: [true]}
      outputs:
      - {name: days, type: integer, values: [60, 30, 14]}
      - {name: label, type: string}
      rules:
      - id: R1
        when: {sector: retail, staff: ">= 50"}
        then: {days: 60, label: {expr: 'industry.sector + "/large"'}}
      - {id: R2, then: {days: 30, label: none}}
      default: {days: 30, label: none}
  points:
    table:
      hit_policy: rule_order
      inputs: [{name: terms.days}]
      outputs: [{name: points, type: number}]
      rules:
      - {id: P1, when: {terms.days: ">= 60"}, then: {points: {expr: terms.days / 2}}}
      default: {points: 0}
"""


def test_a_stage_with_the_newer_table_features_exports_and_comes_back(tmp_path):
    path = tmp_path / "derived.yaml"
    path.write_text(NEW_FEATURES_STAGE)
    facts = copy.deepcopy(FACTS)
    facts["facts"]["attributes.flag"] = {"type": "boolean"}
    result = invoke_credit("validate", build_ruleset(tmp_path / "rs", facts=facts,
                                                     derived=NEW_FEATURES_STAGE))
    assert result.exit_code == 0, result.output
    exported = export_stage(path)
    assert exported.decisions == (("terms", "PRIORITY"), ("points", "RULE ORDER"))
    for fragment in ('hitPolicy="PRIORITY"', '<text>"retail", "mining"</text>',
                     "<text>[0..500], 1000</text>", "<text>true</text>",
                     "<text>60, 30, 14</text>", '<text>industry.sector + "/large"</text>',
                     '<requiredDecision href="#terms" />', "<text>terms.days / 2</text>",
                     "<defaultOutputEntry>\n          <text>\"none\"</text>"):
        assert fragment in exported.text, fragment
    (tmp_path / "back.dmn").write_text(exported.text)
    back = import_dmn(tmp_path / "back.dmn")
    terms = back.stage["derived"]["terms"]["table"]
    assert terms["inputs"] == [
        {"name": "sector", "expr": "industry.sector", "values": ["retail", "mining"]},
        {"name": "staff", "expr": "operating.employees", "values": ["[0..500]", 1000]},
        {"name": "attributes.flag", "values": [True]}]
    assert terms["outputs"] == [{"name": "days", "type": "integer", "values": [60, 30, 14]},
                                {"name": "label", "type": "string"}]
    assert terms["rules"][0]["then"] == {"days": 60,
                                         "label": {"expr": 'industry.sector + "/large"'}}
    assert terms["default"] == {"days": 30, "label": "none"}
    points = back.stage["derived"]["points"]["table"]
    assert points["inputs"] == [{"name": "terms.days"}]
    assert points["rules"][0]["then"] == {"points": "terms.days / 2"}
    assert "terms.days" not in back.reads  # a part of another decision, not a fact
    # and the stage that came back exports to the same file
    (tmp_path / "derived.yaml").write_text(stage_text(back.stage))
    assert export_stage(tmp_path / "derived.yaml").text == exported.text


TEMPORAL_STAGE = """\
derived:
  review_state:
    table:
      hit_policy: first
      inputs:
      - {name: since, expr: as_of - attributes.last_review}
      - {name: attributes.last_contact}
      - {name: attributes.call_at}
      - {name: attributes.age}
      rules:
      - {id: OVERDUE, when: {since: '> duration("P30D")'}, then: {review_state: overdue}}
      - {id: DUE, when: {since: "[P7D..P30D]"}, then: {review_state: due}}
      - {id: CALLED, when: {attributes.last_contact: ">= 2026-06-01T00:00:00Z"},
         then: {review_state: called}}
      - {id: CALL, when: {attributes.call_at: "[09:00..17:00)"}, then: {review_state: call}}
      - {id: OLD, when: {attributes.age: ">= P5Y, P1Y"}, then: {review_state: old}}
      - {id: YOUNG, when: {attributes.age: "< P1Y"}, then: {review_state: young}}
      outputs: [{name: review_state, type: string}]
"""


def test_a_stage_with_dates_times_and_durations_exports_and_decides_the_same(tmp_path):
    """Bare ISO cells and the ruleset's constants go out as FEEL's time(), date and
    time() and duration(), come back as the ruleset's constants and decide the same."""
    stage = TEMPORAL_STAGE
    path = tmp_path / "derived.yaml"
    path.write_text(stage)
    exported = export_stage(path)
    for fragment in ('<text>&gt; duration("P30D")</text>',
                     '<text>[duration("P7D")..duration("P30D")]</text>',
                     '<text>&gt;= date and time("2026-06-01T00:00:00Z")</text>',
                     '<text>[time("09:00:00")..time("17:00:00"))</text>',
                     '<text>&gt;= duration("P5Y"), duration("P1Y")</text>',
                     '<text>&lt; duration("P1Y")</text>'):
        assert fragment in exported.text, fragment
    (tmp_path / "back.dmn").write_text(exported.text)
    back = import_dmn(tmp_path / "back.dmn")
    rules = back.stage["derived"]["review_state"]["table"]["rules"]
    assert [r.get("when") for r in rules] == [
        {"since": '> duration("P30D")'}, {"since": '[duration("P7D")..duration("P30D")]'},
        {"attributes.last_contact": '>= datetime("2026-06-01T00:00:00Z")'},
        {"attributes.call_at": '[time("09:00:00")..time("17:00:00"))'},
        {"attributes.age": '>= duration("P5Y"), duration("P1Y")'},
        {"attributes.age": '< duration("P1Y")'}]
    facts = copy.deepcopy(FACTS)
    facts["facts"].update({"attributes.last_review": {"type": "date"},
                           "attributes.last_contact": {"type": "datetime"},
                           "attributes.call_at": {"type": "time"},
                           "attributes.age": {"type": "years_months_duration"}})
    rulesets = []
    for name, text in (("hand", stage), ("back", stage_text(back.stage))):
        folder = build_ruleset(tmp_path / name, facts=facts, derived=text)
        result = invoke_credit("validate", folder)
        assert result.exit_code == 0, result.output
        rulesets.append(load_ruleset(folder))
    for attributes, expected in [
            ({"last_review": "2026-05-30"}, "OVERDUE"),  # 31 days before 2026-06-30
            ({"last_review": "2026-05-31"}, "DUE"), ({"last_review": "2026-06-23"}, "DUE"),
            ({"last_review": "2026-06-24", "last_contact": "2026-06-01T02:00:00+02:00"},
             "CALLED"),
            ({"last_contact": "2026-06-01T01:59:59+02:00", "call_at": "16:59:59"}, "CALL"),
            ({"call_at": "17:00", "age": "P5Y"}, "OLD"), ({"age": "P1Y"}, "OLD"),
            ({"age": "P11M"}, "YOUNG"), ({"age": "P4Y11M"}, "no_match")]:
        values = {f"attributes.{k}": v for k, v in attributes.items()}
        fired = [[e["id"] for e in trace_entries(run(ruleset, values), "derived")]
                 for ruleset in rulesets]
        assert fired == [[f"review_state/{expected}"]] * 2, (attributes, fired)


def test_an_export_refuses_a_value_list_item_and_an_expression_at_their_places(tmp_path):
    path = tmp_path / "derived.yaml"
    path.write_text(NEW_FEATURES_STAGE.replace('"[0..500]", 1000', '"[0..500]", "(..)"')
                    .replace("{expr: terms.days / 2}", "{expr: round(terms.days / 2)}"))
    with pytest.raises(ProblemsError) as caught:
        export_stage(path, display="derived.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "derived.yaml:7:71: cannot be written as DMN: an interval with no ends allows every "
        "number: leave the values out",
        "derived.yaml:24:69: cannot be written as DMN: the function round() has no DMN "
        "form here"]


def test_a_decision_with_several_outputs_is_read_by_its_parts_only(tmp_path):
    first = ('<decision id="terms" name="Terms"><decisionTable hitPolicy="FIRST">'
             '<input label="A"><inputExpression typeRef="number"><text>attributes.a</text>'
             '</inputExpression></input><output name="Days" typeRef="number"/>'
             '<output name="Label" typeRef="string"/><rule id="x"><inputEntry><text>-</text>'
             '</inputEntry><outputEntry><text>1</text></outputEntry><outputEntry><text>"a"'
             '</text></outputEntry></rule></decisionTable></decision>')
    inputs = ('<input label="T"><inputExpression typeRef="number"><text>Terms</text>'
              '</inputExpression></input>')
    lines = refused(tmp_path, dmn(first + "\n" + table(rule("-"), inputs=inputs)))
    assert lines == ["f.dmn:5:52: <inputExpression> decision 'T', input 1 'T': 'Terms' has "
                     "several outputs (days, label): read one of them, as 'Terms.days'"]


def test_a_dmn_15_type_constraint_gives_the_values_as_allowed_values_do(tmp_path):
    definition = ('<itemDefinition name="tStaff"><typeRef>number</typeRef><typeConstraint>'
                  '<text>[0..500], 1000</text></typeConstraint></itemDefinition>')
    inputs = ('<input label="A"><inputExpression typeRef="tStaff"><text>attributes.a</text>'
              '</inputExpression></input>')
    spec = imported_table(tmp_path, dmn(definition + "\n" + table(rule("-"), inputs=inputs),
                                        namespace="https://www.omg.org/spec/DMN/20230324/"
                                                  "MODEL/"))
    assert spec["inputs"][0]["values"] == ["[0..500]", 1000]


def test_an_output_of_a_several_output_decision_is_read_by_its_name_too(tmp_path):
    first = ('<decision id="terms" name="Terms"><decisionTable hitPolicy="FIRST">'
             '<input label="A"><inputExpression typeRef="number"><text>attributes.a</text>'
             '</inputExpression></input><output name="Days" typeRef="number"/>'
             '<output name="Label" typeRef="string"/><rule id="x"><inputEntry><text>-</text>'
             '</inputEntry><outputEntry><text>1</text></outputEntry><outputEntry><text>"a"'
             '</text></outputEntry></rule></decisionTable></decision>')
    inputs = ('<input label="T"><inputExpression typeRef="number"><text>Days</text>'
              '</inputExpression></input>')
    spec = imported_table(tmp_path, dmn(first + "\n" + table(rule("-", "Terms.Days + 1"),
                                                              inputs=inputs)))
    assert spec["inputs"] == [{"name": "terms.days", "description": "T"}]
    assert spec["rules"][0]["then"] == {"out": "terms.days + 1"}


def test_two_outputs_with_one_name_are_refused(tmp_path):
    outputs = ('<output name="Days" typeRef="number"/>\n'
               '<output name="days" typeRef="number"/>')
    rules = ('<rule id="r"><inputEntry><text>-</text></inputEntry><outputEntry><text>1'
             '</text></outputEntry><outputEntry><text>2</text></outputEntry></rule>')
    assert refused(tmp_path, dmn(table(rules, output=outputs))) == [
        "f.dmn:6:1: decision 'T': two outputs are both 'days' once written as names"]


# --- imported tables in a ruleset: validate, test, lint -------------------------------------

EXAMPLE = EXAMPLE_DIR / "customer-risk.dmn"
EXAMPLE_FACTS = {"Days Overdue": "credit_history.max_days_overdue_12m",
                 "Sector": "industry.sector"}
RISK_CASES = """\
cases:
  - name: a customer never late in retail is low risk and accepted
    as_of: "2026-06-30"
    given: {id: T-1, credit_history: {max_days_overdue_12m: 0}, industry: {sector: retail}}
    expect: {admission: accept}
  - name: a month late exactly is slow, medium risk, accepted
    as_of: "2026-06-30"
    given: {id: T-2, credit_history: {max_days_overdue_12m: 30}, industry: {sector: retail}}
    expect: {admission: accept}
  - name: a day more is poor, high risk, referred
    as_of: "2026-06-30"
    given: {id: T-3, credit_history: {max_days_overdue_12m: 31}, industry: {sector: retail}}
    expect: {admission: refer, reasons: [HIGH_RISK]}
  - name: a slow payer in construction is high risk (high comes before medium)
    as_of: "2026-06-30"
    given: {id: T-4, credit_history: {max_days_overdue_12m: 5},
            industry: {sector: construction}}
    expect: {admission: refer, reasons: [HIGH_RISK]}
"""


def example_ruleset(folder: Path) -> Path:
    imported = import_dmn(EXAMPLE, facts=EXAMPLE_FACTS)
    admission = {"checks": [{"id": "R_RISK", "when": 'risk_category == "high"',
                             "outcome": "refer", "reason": "HIGH_RISK"}]}
    build_ruleset(folder, derived=stage_text(imported.stage), admission=admission)
    (folder / "tests").mkdir()
    (folder / "tests" / "risk.yaml").write_text(RISK_CASES)
    return folder


def test_the_docs_show_the_stages_the_examples_import_to():
    page = (Path(__file__).resolve().parent.parent / "docs" / "dmn.md").read_text()
    shown = [block.split("```", 1)[0] for block in page.split("```yaml\n")[1:]]
    assert shown == [stage_text(import_dmn(EXAMPLE, facts=EXAMPLE_FACTS).stage),
                     stage_text(import_dmn(EXAMPLE_DIR / "credit-terms.dmn", facts={
                         "Sector": "industry.sector",
                         "Employees": "operating.employees"}).stage)]


def test_the_example_passes_its_cases_and_lint(tmp_path):
    folder = example_ruleset(tmp_path / "rs")
    result = invoke_credit("test", folder)
    assert (result.exit_code, result.stdout) == (0, "4 passed, 0 failed\n"), result.output
    result = invoke_credit("lint", folder)
    assert result.exit_code == 0, result.output
    assert "payment_behaviour" not in result.output and "risk_category" not in result.output


def test_lint_finds_the_overlap_a_dmn_unique_table_hid(tmp_path):
    rules = rule("&lt; 10") + rule("[5..20]", "2").replace('id="r"', 'id="r2"')
    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(rules)))
    facts = copy.deepcopy(FACTS)
    facts["facts"]["attributes.a"] = {"type": "number"}
    stage = copy.deepcopy(import_dmn(path).stage)
    stage["derived"]["probe"] = "t * 2"
    folder = build_ruleset(tmp_path / "rs", facts=facts, derived=stage_text(stage))
    result = invoke_credit("lint", folder)
    assert result.exit_code == 1
    overlap = [line for line in result.output.splitlines() if "[rows-overlap]" in line]
    assert overlap == [f"{folder}/derived.yaml:14:9: error: rules r and r2 both match under "
                       "hit policy unique when attributes.a is 5: a decision reaching them "
                       "fails [rows-overlap]"]


EDGE_RULES = [
    ('[date("2000-01-01")..date("2009-12-31")]', "-", '"2000s"'),
    ("null", "-", '"unknown age"'),
    ("-", "? &gt; 0.5 and ? &lt;= 1", '"leader"'),
    ("-", "&gt;= attributes.share_floor * 2", '"large"'),
    ("-", "-", '"other"'),
]


def test_edge_cells_validate_and_decide(tmp_path):
    """Dates, null, ? expressions and another fact in a cell, each as FEEL writes it."""
    inputs = ('<input label="Founded"><inputExpression typeRef="date"><text>founded</text>'
              '</inputExpression></input><input label="Share"><inputExpression '
              'typeRef="number"><text>operating.market_share</text></inputExpression></input>')
    body = "".join(f'<rule id="e{n}"><inputEntry><text>{a}</text></inputEntry><inputEntry>'
                   f'<text>{b}</text></inputEntry><outputEntry><text>{out}</text>'
                   '</outputEntry></rule>' for n, (a, b, out) in enumerate(EDGE_RULES))
    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(body, inputs=inputs, hit_policy="FIRST",
                              output='<output name="Kind" typeRef="string"/>')))
    imported = import_dmn(path)
    rules = imported.stage["derived"]["t"]["table"]["rules"]
    assert [r.get("when") for r in rules] == [
        {"founded": '[date("2000-01-01")..date("2009-12-31")]'},
        {"founded": "is_missing(?)"},
        {"operating.market_share": "? > 0.5 and ? <= 1"},
        {"operating.market_share": ">= attributes.share_floor * 2"}, None]
    ruleset = load_ruleset(ruleset_with(tmp_path / "rs", imported,
                                        {"attributes.share_floor": "number"}))
    for attributes, expected in [
            ({"founded": "2009-12-31"}, "2000s"), ({"founded": "2010-01-01"}, "other"),
            ({}, "unknown age"), ({"founded": "1990-05-01", "operating.market_share": 1},
                                  "leader"),
            ({"founded": "1990-05-01", "operating.market_share": 0.5,
              "attributes.share_floor": 0.25}, "large"),
            ({"founded": "1990-05-01", "operating.market_share": 0.5,
              "attributes.share_floor": 0.3}, "other")]:
        decision = run(ruleset, attributes)
        assert trace_entry(decision, "probe_t")["result"] == expected, attributes


def test_a_fact_mapping_that_is_not_name_equals_path_is_a_usage_error(tmp_path):
    result = invoke_credit("dmn", "import", EXAMPLE, "--out", tmp_path / "x.yaml",
                           "--fact", "Sector")
    assert result.exit_code == 2
    assert "'Sector' is not NAME=PATH" in result.stderr


def test_an_out_file_that_cannot_be_written_is_one_line(tmp_path):
    result = invoke_credit("dmn", "import", EXAMPLE, "--out", tmp_path / "no" / "x.yaml",
                           "--facts-under", "attributes")
    assert result.exit_code == 1
    assert result.stderr == f"credit: error: cannot write {tmp_path / 'no' / 'x.yaml'}: " \
                            "No such file or directory\n"


@pytest.mark.parametrize("text", ["1e3", "0o17", "0x1F", "Null", "true", "12", "-0.5",
                                  ".inf", "", "yes", "2026-01-01"])
def test_a_text_output_stays_text_in_the_stage(tmp_path, text):
    from engine.language.yaml_source import load_yaml_text

    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(rule("&lt; 5", f'"{text}"'),
                              output='<output name="Out" typeRef="string"/>')))
    written = stage_text(import_dmn(path).stage)
    data = load_yaml_text(written, "derived.yaml").data
    assert data["derived"]["t"]["table"]["rules"][0]["then"] == {"out": text}


def test_a_number_in_a_text_output_says_which_type_to_give(tmp_path):
    lines = refused(tmp_path, dmn(table(rule("&lt; 5", "22"),
                                        output='<output name="Out" typeRef="string"/>')))
    assert lines == ["f.dmn:6:71: <outputEntry> of rule 1 (r) of decision 'T': a number or "
                     "true/false in a text output: give the output the type it holds, or "
                     "write the text in quotes (the cell reads '22')"]


def test_elements_nested_without_end_are_refused_at_the_depth_limit(tmp_path):
    text = dmn("<decision>" * 300)
    lines = refused(tmp_path, text)
    assert lines == ["f.dmn:3:2001: elements are nested more than 200 deep"]


def test_a_cell_in_another_expression_language_is_refused(tmp_path):
    juel = ('<rule id="r"><inputEntry expressionLanguage="juel"><text>${a &lt; 5}</text>'
            '</inputEntry><outputEntry><text>1</text></outputEntry></rule>')
    assert refused(tmp_path, dmn(table(juel))) == [
        "f.dmn:6:52: <inputEntry> of rule 1 (r) of decision 'T', input 'attributes.a': the "
        "expression language 'juel' is not supported (FEEL only) (the cell reads "
        "'${a < 5}')"]


def test_feel_named_as_the_files_expression_language_is_read(tmp_path):
    path = tmp_path / "f.dmn"
    path.write_text(dmn(table(rule("&lt; 5"))).replace(
        'id="d"', 'id="d" expressionLanguage="https://www.omg.org/spec/DMN/20191111/FEEL/"'))
    assert import_dmn(path).stage["derived"]["t"]["table"]["rules"][0]["when"] == {
        "attributes.a": "< 5"}


def test_an_export_refuses_a_character_xml_cannot_hold_at_its_place(tmp_path):
    """A vertical tab in an output and a U+0001 in a description decide in the ruleset,
    but no XML parser (the importer included) reads a file holding them."""
    path = tmp_path / "derived.yaml"
    path.write_text('derived:\n'
                    '  tag:\n'
                    '    description: "first\\u0001"\n'
                    '    table:\n'
                    '      hit_policy: first\n'
                    '      inputs: [{name: attributes.a}]\n'
                    '      outputs: [{name: tag, type: string}]\n'
                    '      rules:\n'
                    '        - {id: R1, when: {attributes.a: "> 1"}, then: {tag: "a\\u000bb"}}\n'
                    '        - {id: R2, when: {attributes.a: "-"}, then: {tag: "tab\\there"}}\n',
                    encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        export_stage(path, display="derived.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "derived.yaml:3:18: cannot be written as DMN: U+0001 is a character XML cannot hold",
        "derived.yaml:9:61: cannot be written as DMN: U+000B is a character XML cannot hold"]


@pytest.mark.parametrize("day", ["2026-13-45", "2026-02-29"])
def test_a_date_the_calendar_has_not_is_refused_at_its_cell(tmp_path, day):
    inputs = ('<input label="D"><inputExpression typeRef="date"><text>attributes.d</text>'
              '</inputExpression></input>')
    lines = refused(tmp_path, dmn(table(rule(f'&lt; date("{day}")'), inputs=inputs)))
    assert lines == [f"f.dmn:6:26: <inputEntry> of rule 1 (r) of decision 'T', input "
                     f"'attributes.d': date(\"{day}\") is not a date as YYYY-MM-DD (the cell "
                     f"reads '< date(\"{day}\")')"]


@pytest.mark.parametrize(("name", "snaked"), [
    ("Applicant Risk Rating", "applicant_risk_rating"), ("applicantRiskRating",
                                                        "applicant_risk_rating"),
    ("Âge client", "age_client"), ("Zahlungsfähigkeit", "zahlungsfahigkeit"),
    ("1st Reminder", "_1st_reminder"), ("", "value"),
    ("信用等级", "name_4212eae7"), ("信用额度", "name_" + hashlib.sha256(
        "信用额度".encode()).hexdigest()[:8])])
def test_a_dmn_name_becomes_a_ruleset_name_keeping_what_it_can(name, snaked):
    from engine.dmn.to_stage import snake

    assert snake(name) == snaked


@pytest.mark.parametrize(("cell", "low_closed"), [("[0..1[, 5", True), ("]0..1[, 5", False)])
def test_a_cell_is_split_for_export_as_the_ruleset_splits_it(cell, low_closed):
    """An interval with reversed brackets followed by a value: two items, as the engine
    reads the cell (export split it with a copy of the splitter that did not know them)."""
    from engine.dmn.ruleset_cells import read_cell
    from engine.dmn.terms import Compare, Num, Range

    assert read_cell(cell, set()).items == (Range(Num("0"), low_closed, Num("1"), False),
                                            Compare("==", Num("5")))
