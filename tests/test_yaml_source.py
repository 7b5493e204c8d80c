"""Tests of engine.language.yaml_source: safe YAML loading with a location for every value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import Location, ProblemsError
from engine.language.yaml_source import LocatedDocument, load_yaml_file, load_yaml_text

F = "rules.yaml"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        load_yaml_text(text, F)
    return [str(p) for p in caught.value.problems]


def one_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


# --- values ----------------------------------------------------------------------------------


def test_plain_values() -> None:
    doc = load_yaml_text("a: 1\nb: 2.5\nc: text\nd: true\ne: [1, x]\nf: {g: h}\n", F)
    assert doc.data == {"a": 1, "b": 2.5, "c": "text", "d": True, "e": [1, "x"], "f": {"g": "h"}}
    assert doc.file == F


def test_norway_and_other_yaml11_booleans_stay_text() -> None:
    doc = load_yaml_text("country: NO\na: yes\nb: off\nc: On\nd: n\ne: Y\n", F)
    assert doc.data == {"country": "NO", "a": "yes", "b": "off", "c": "On", "d": "n", "e": "Y"}


@pytest.mark.parametrize("text", ["true", "True", "TRUE"])
def test_core_schema_true(text: str) -> None:
    assert load_yaml_text(f"x: {text}", F).data == {"x": True}


@pytest.mark.parametrize("text", ["false", "False", "FALSE"])
def test_core_schema_false(text: str) -> None:
    assert load_yaml_text(f"x: {text}", F).data == {"x": False}


@pytest.mark.parametrize("text", ["null", "Null", "NULL", "~", ""])
def test_nulls(text: str) -> None:
    assert load_yaml_text(f"x: {text}", F).data == {"x": None}


def test_dates_and_times_stay_text() -> None:
    doc = load_yaml_text("from: 2026-01-01\nat: 2026-01-01T10:00:00Z\nclock: 12:30\n", F)
    assert doc.data == {"from": "2026-01-01", "at": "2026-01-01T10:00:00Z", "clock": "12:30"}


def test_numbers() -> None:
    doc = load_yaml_text("a: 012\nb: -7\nc: 0x1F\nd: 0o17\ne: 1e3\nf: .5\ng: +3.25\nh: 1_000\n", F)
    assert doc.data == {
        "a": 12,
        "b": -7,
        "c": 31,
        "d": 15,
        "e": 1000.0,
        "f": 0.5,
        "g": 3.25,
        "h": "1_000",
    }
    assert isinstance(doc.data["e"], float)


def test_quoted_scalars_are_always_text() -> None:
    doc = load_yaml_text("a: '1'\nb: \"true\"\nc: 'null'\nd: \"2026-01-01\"\n", F)
    assert doc.data == {"a": "1", "b": "true", "c": "null", "d": "2026-01-01"}


def test_block_scalars() -> None:
    doc = load_yaml_text("a: |\n  line one\n  line two\nb: >\n  folded\n  text\n", F)
    assert doc.data == {"a": "line one\nline two\n", "b": "folded text\n"}


def test_standard_explicit_tags_are_allowed() -> None:
    doc = load_yaml_text("a: !!str 12\nb: !!int '7'\nc: !!map {d: !!seq [1]}\n", F)
    assert doc.data == {"a": "12", "b": 7, "c": {"d": [1]}}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_document_is_none(text: str) -> None:
    doc = load_yaml_text(text, F)
    assert doc.data is None
    assert doc.locate(()).line in (1, 2)
    assert doc.locate(["anything"]) == doc.locate(())


def test_empty_text_is_located_at_line_one() -> None:
    assert load_yaml_text("", F).locate(()) == Location(F, 1, 1)


def test_explicit_single_document_is_fine() -> None:
    assert load_yaml_text("---\na: 1\n...\n", F).data == {"a": 1}


# --- locations -------------------------------------------------------------------------------

NESTED = """\
name: default
stages:
  - id: admission
    checks:
      - {field: age, min: 2}
  - id: grading
    bands: [AAA, AA]
"""


def test_locations_of_nested_values() -> None:
    doc = load_yaml_text(NESTED, F)
    assert doc.locate(()) == Location(F, 1, 1)
    assert doc.locate(["name"]) == Location(F, 1, 7)
    assert doc.locate(["stages"]) == Location(F, 3, 3)
    assert doc.locate(["stages", 0]) == Location(F, 3, 5)
    assert doc.locate(["stages", 0, "id"]) == Location(F, 3, 9)
    assert doc.locate(["stages", 0, "checks", 0]) == Location(F, 5, 9)
    assert doc.locate(["stages", 0, "checks", 0, "min"]) == Location(F, 5, 27)
    assert doc.locate(["stages", 1, "bands", 1]) == Location(F, 7, 18)


def test_locate_key() -> None:
    doc = load_yaml_text(NESTED, F)
    assert doc.locate_key(["stages"]) == Location(F, 2, 1)
    assert doc.locate_key(["stages", 0, "checks", 0, "min"]) == Location(F, 5, 22)
    # A list element has no key: falls back to the value.
    assert doc.locate_key(["stages", 1]) == doc.locate(["stages", 1])
    assert doc.locate_key(()) == Location(F, 1, 1)


def test_missing_path_falls_back_to_deepest_existing_ancestor() -> None:
    doc = load_yaml_text(NESTED, F)
    assert doc.locate(["stages", 0, "policy"]) == doc.locate(["stages", 0])
    assert doc.locate(["stages", 0, "policy", "limit"]) == doc.locate(["stages", 0])
    assert doc.locate(["stages", 9]) == doc.locate(["stages"])
    assert doc.locate(["nope"]) == doc.locate(())
    # A missing key has no key location either: falls back to the parent value.
    assert doc.locate_key(["stages", 0, "policy"]) == doc.locate(["stages", 0])
    # Wrong kind of step (index into a mapping, key into a list) also falls back.
    assert doc.locate(["stages", "0"]) == doc.locate(["stages"])
    assert doc.locate([0]) == doc.locate(())


def test_locate_accepts_any_sequence() -> None:
    from collections import deque

    doc = load_yaml_text(NESTED, F)
    assert doc.locate(deque(["stages", 1])) == Location(F, 6, 5)


def test_located_document_without_positions() -> None:
    doc = LocatedDocument("x.yaml", {"a": 1})
    assert doc.locate(["a"]) == Location("x.yaml", 1, 1)


# --- problems --------------------------------------------------------------------------------


def test_duplicate_key_reported_at_second_key() -> None:
    assert one_problem("a: 1\nb:\n  c: 1\n  c: 2\n") == (
        "rules.yaml:4:3: duplicate key 'c' (first at line 3)"
    )


def test_several_problems_are_all_reported() -> None:
    assert problems_of("a: 1\na: 2\n1: x\n") == [
        "rules.yaml:2:1: duplicate key 'a' (first at line 1)",
        'rules.yaml:3:1: mapping keys must be text (quote it: "1")',
    ]


@pytest.mark.parametrize("key", ["1", "true", "null", "2.5", "[a, b]", "{a: b}"])
def test_mapping_keys_must_be_text(key: str) -> None:
    problem = one_problem(f"{key}: x\n" if not key.startswith(("[", "{")) else f"? {key}\n: x\n")
    assert "mapping keys must be text" in problem


def test_quoted_number_key_is_fine() -> None:
    assert load_yaml_text("'1': x\n", F).data == {"1": "x"}


def test_alias_rejected() -> None:
    assert one_problem("a: &base {x: 1}\nb: *base\n") == (
        "rules.yaml:1:4: anchors and aliases are not supported"
    )


def test_merge_key_rejected() -> None:
    assert "merge keys" in one_problem("a:\n  <<: {x: 1}\n  y: 2\n")


def test_billion_laughs_is_rejected_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert "anchors and aliases" in one_problem("\n".join(lines))


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['echo hi']",
        "x: !!binary aGk=",
        "x: !custom 1",
        "x: !!set {a: null}",
        "x: !!timestamp 2026-01-01",
    ],
)
def test_unsafe_and_unknown_tags_rejected(text: str) -> None:
    assert "unsupported tag" in one_problem(text)


@pytest.mark.parametrize("text", [".inf", "-.Inf", ".nan", "1e999"])
def test_non_finite_numbers_rejected(text: str) -> None:
    assert one_problem(f"x: {text}").startswith("rules.yaml:1:4: ")


@pytest.mark.parametrize(("text", "message"), [
    ("12345678901234567890.5", "number with more digits than are kept (it would be read as "
                               "1.2345678901234567e+19)"),
    ("0.1000000000000000000001", "number with more digits than are kept (it would be read "
                                 "as 0.1)"),
    ("-1e-400", "number too small to hold (it would be 0)"),
    ("[1, 0.5e-999]", "number too small to hold (it would be 0)"),
])
def test_a_number_is_read_as_written_or_refused(text: str, message: str) -> None:
    """A ruleset's points and outputs are exact as written: a number a float would change
    (more digits than it keeps, or so small it would be 0) is refused where it stands."""
    column = 4 + (text.index("0.5") if text.startswith("[") else 0)
    assert one_problem(f"x: {text}") == f"rules.yaml:1:{column}: {message}"


@pytest.mark.parametrize(("text", "value"), [
    ("0.1", 0.1), ("0.30000000000000004", 0.30000000000000004), ("1e2", 100.0),
    ("0e-400", 0.0), ("-0.0", -0.0), ("5e-324", 5e-324), ("1.50", 1.5), (".5", 0.5),
    ("123456789012345.6", 123456789012345.6),
])
def test_numbers_a_float_keeps_load(text: str, value: float) -> None:
    assert load_yaml_text(f"x: {text}", "rules.yaml").data == {"x": value}


def test_invalid_explicit_scalar() -> None:
    assert one_problem("x: !!int abc") == "rules.yaml:1:4: 'abc' is not a valid !!int value"


def test_syntax_error_line_and_column() -> None:
    assert one_problem("a: 1\nb: 2\nc: d: e\n") == (
        "rules.yaml:3:5: a ':' where a value was expected: put text that holds ': ' in "
        "quotes (YAML: mapping values are not allowed here)"
    )


def test_syntax_error_with_context() -> None:
    problem = one_problem("a: [1, 2\nb: 3\n")
    assert problem.startswith("rules.yaml:2:")
    assert "while parsing a flow sequence that starts at line 1" in problem


def test_unclosed_quote() -> None:
    assert "quoted scalar that starts at line 1" in one_problem("a: 'open\n\nb: 2")


def test_tab_indentation() -> None:
    assert one_problem("a:\n\tb: 1\n").startswith(
        "rules.yaml:2:1: a tab: indent with spaces (YAML: found character '\\t'")


def test_multiple_documents_rejected() -> None:
    assert one_problem("a: 1\n---\nb: 2\n") == (
        "rules.yaml:2:1: only one YAML document per file is allowed; a second one starts here"
    )


def test_deep_nesting_rejected() -> None:
    assert "nesting deeper than 100" in one_problem("[" * 101 + "]" * 101)
    assert "nesting deeper than 100" in one_problem("[" * 5000)
    text = "".join("  " * i + f"k{i}:\n" for i in range(150))
    assert "nesting deeper than 100" in one_problem(text)


def test_nesting_of_100_is_fine() -> None:
    data = load_yaml_text("[" * 100 + "]" * 100, F).data
    for _ in range(99):
        data = data[0]
    assert data == []


def test_control_characters_rejected_with_location() -> None:
    assert one_problem("a: 1\nb: x\x00y\n") == (
        "rules.yaml:2:5: special characters are not allowed (found U+0000)"
    )


def test_text_over_five_megabytes_rejected() -> None:
    assert (
        one_problem("#" * (5 * 1024 * 1024 + 1)) == "rules.yaml: file is larger than the 5 MB limit"
    )


# --- files -----------------------------------------------------------------------------------


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    doc = load_yaml_file(path)
    assert doc.data == {"a": [1, 2]}
    assert doc.file == str(path)
    assert load_yaml_file(str(path), display_name="rulesets/x.yaml").locate(["a", 1]) == (
        Location("rulesets/x.yaml", 1, 8)
    )


def test_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    doc = load_yaml_file(path, "r.yaml")
    assert doc.data == {"a": 1}
    assert doc.locate(["a"]) == Location("r.yaml", 1, 4)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes("a: 1\nname: Müller\n".encode("latin-1"))
    with pytest.raises(ProblemsError) as caught:
        load_yaml_file(path, "r.yaml")
    [problem] = caught.value.problems
    assert problem.location == Location("r.yaml")
    assert problem.message == "not valid UTF-8 text (first bad byte at line 2, column 8)"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as caught:
        load_yaml_file(tmp_path / "nope.yaml", "nope.yaml")
    assert str(caught.value) == "nope.yaml: file not found"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as caught:
        load_yaml_file(tmp_path)
    assert [p.message for p in caught.value.problems] == ["is a directory, not a file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    with pytest.raises(ProblemsError) as caught:
        load_yaml_file(path)
    assert [p.message for p in caught.value.problems] == ["permission denied"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"")
    assert load_yaml_file(path).data is None


def test_file_over_five_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ProblemsError) as caught:
        load_yaml_file(path, "big.yaml")
    assert str(caught.value) == "big.yaml: file is larger than the 5 MB limit"


# --- never anything but ProblemsError --------------------------------------------------------

YAMLISH = st.text(alphabet=list(" \t\n\r:-?[]{},#&*!|>'\"%@`~.0123456789abeflnortuxyNOYT<=\\"))


def _loads_or_reports(text: str) -> None:
    try:
        doc = load_yaml_text(text, F)
    except ProblemsError as err:
        assert err.problems
        assert all(p.location.file == F for p in err.problems)
        return
    doc.locate(())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), YAMLISH, st.binary().map(lambda b: b.decode("latin-1"))))
def test_any_text_loads_or_reports_problems(text: str) -> None:
    _loads_or_reports(text)


@settings(max_examples=100, deadline=None)
@given(st.binary())
def test_any_bytes_file_loads_or_reports_problems(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "r.yaml")
        path.write_bytes(raw)
        try:
            load_yaml_file(path, "r.yaml")
        except ProblemsError as err:
            assert err.problems
