"""Reading a ``.dmn`` file's decisions into ``DmnTable`` models, each part located.

Decision logic other than a decision table (a literal expression, a context, an
invocation, a relation...), business knowledge models and decision services are refused
where they are, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Location, Problem, ProblemsError
from .model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Cell,
    DmnInput,
    DmnOutput,
    DmnRule,
    DmnTable,
    ItemDefinition,
)
from .xml_tree import Element, read_xml

# The DMN model namespaces read here, by version.
NAMESPACES = {
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
_SHORT_HIT_POLICIES = {"U": "UNIQUE", "F": "FIRST", "P": "PRIORITY", "A": "ANY",
                       "C": "COLLECT", "R": "RULE ORDER", "O": "OUTPUT ORDER"}
_BOXED = {"literalExpression": "a literal expression", "context": "a context",
          "invocation": "an invocation", "relation": "a relation", "list": "a list",
          "functionDefinition": "a function definition", "conditional": "a conditional",
          "filter": "a filter", "for": "a for loop", "every": "an every quantifier",
          "some": "a some quantifier"}
_UNSUPPORTED_ELEMENTS = {"businessKnowledgeModel": "business knowledge models",
                         "decisionService": "decision services", "import": "imports"}


@dataclass
class DmnFile:
    """What a ``.dmn`` file holds that the ruleset can use."""

    version: str
    tables: list[DmnTable]
    item_definitions: dict[str, ItemDefinition]


def read_dmn(path: str | Path, display: str | None = None) -> DmnFile:
    """Every decision table of the DMN file at ``path``. ProblemsError lists each part the
    ruleset cannot take, located (FILE:LINE:COL), and says so when there is no table."""
    name = display if display is not None else str(path)
    root = read_xml(path, name)
    namespace = root.namespace.replace("http://", "https://", 1)
    if root.tag != "definitions" or namespace not in NAMESPACES:
        found = f"<{root.tag}>" + (f" in namespace {root.namespace}" if root.namespace
                                   else " without a namespace")
        raise ProblemsError([Problem(root.location, f"not a DMN 1.3-1.5 file: found {found}, "
                                     "expected <definitions> in a DMN MODEL namespace")])
    problems: list[Problem] = []
    tables: list[DmnTable] = []
    language = root.attributes.get("expressionLanguage")
    items: dict[str, ItemDefinition] = {}
    for element in root.children:
        if element.namespace != root.namespace:
            continue  # diagrams (DMNDI) and tool extensions
        if element.tag == "itemDefinition":
            definition = _item_definition(element, language)
            items[definition.name] = definition
        elif element.tag == "decision":
            table = _decision(element, problems, language)
            if table is not None:
                tables.append(table)
        elif element.tag in _UNSUPPORTED_ELEMENTS:
            problems.append(Problem(element.location, f"<{element.tag}> "
                                    f"'{element.attributes.get('name', '')}': "
                                    f"{_UNSUPPORTED_ELEMENTS[element.tag]} are not supported; "
                                    "only decisions that are decision tables"))
    if problems:
        raise ProblemsError(problems)
    if not tables:
        raise ProblemsError([Problem(Location(name), "no decision tables in this file "
                                                     "(no <decision> holds a <decisionTable>)")])
    return DmnFile(NAMESPACES[namespace], tables, items)


def _item_definition(element: Element, language: str | None) -> ItemDefinition:
    type_ref = element.first("typeRef")
    return ItemDefinition(
        element.attributes.get("name", ""),
        type_ref.text.strip() if type_ref is not None else None,
        allowed=_cell(element.first("allowedValues"), "allowedValues", language)
        or _cell(element.first("typeConstraint"), "typeConstraint", language),  # DMN 1.5
        structured=bool(element.all("itemComponent"))
        or element.attributes.get("isCollection") == "true",
        location=element.location)


def _decision(element: Element, problems: list[Problem], language: str | None
              ) -> DmnTable | None:
    """The decision's table; ``language`` is the file's expression language."""
    name = element.attributes.get("name")
    table = element.first("decisionTable")
    if table is not None:
        language = table.attributes.get("expressionLanguage") or language
    if table is None:
        logic = next((c for c in element.children if c.tag in _BOXED
                      and c.namespace == element.namespace), None)
        what = _BOXED[logic.tag] if logic is not None else "no decision logic"
        where = logic.location if logic is not None else element.location
        problems.append(Problem(where, f"decision '{name}': its logic is {what}, not a "
                                       "decision table; only decision tables can be imported"))
        return None
    hit_policy = table.attributes.get("hitPolicy", "UNIQUE").strip().upper()
    hit_policy = _SHORT_HIT_POLICIES.get(hit_policy, hit_policy)
    if hit_policy not in HIT_POLICIES:
        problems.append(Problem(table.location, f"decision '{name}': unknown hit policy "
                                                f"'{table.attributes['hitPolicy']}'"))
        return None
    aggregation = table.attributes.get("aggregation")
    if aggregation is not None and aggregation.strip().upper() not in AGGREGATIONS:
        problems.append(Problem(table.location, f"decision '{name}': unknown aggregation "
                                                f"'{aggregation}'"))
        return None
    description = element.first("description")
    required = []
    for requirement in element.all("informationRequirement"):
        decision = requirement.first("requiredDecision")
        if decision is not None:
            required.append(decision.attributes.get("href", "").lstrip("#"))
    return DmnTable(
        decision_id=element.attributes.get("id"),
        decision_name=name,
        hit_policy=hit_policy,
        aggregation=aggregation.strip().upper() if aggregation else None,
        inputs=[_input(i, language) for i in table.all("input")],
        outputs=[_output(o, language) for o in table.all("output")],
        rules=[_rule(r, language) for r in table.all("rule")],
        annotation_names=[a.attributes.get("name", "") for a in table.all("annotation")],
        description=description.text.strip() if description is not None else None,
        required=required,
        location=element.location,
        table_location=table.location)


def _cell(element: Element | None, what: str, language: str | None) -> Cell | None:
    if element is None:
        return None
    text = element.first("text")
    return Cell("" if text is None else text.text.strip(),
                text.location if text is not None else element.location, what,
                element.attributes.get("expressionLanguage") or language)


def _input(element: Element, language: str | None) -> DmnInput:
    expression = element.first("inputExpression")
    cell = _cell(expression, "inputExpression", language) or Cell("", element.location,
                                                                   "input")
    return DmnInput(
        expression=cell,
        label=element.attributes.get("label"),
        type_ref=expression.attributes.get("typeRef") if expression is not None else None,
        values=_cell(element.first("inputValues"), "inputValues", language),
        location=element.location,
        id=element.attributes.get("id"))


def _output(element: Element, language: str | None) -> DmnOutput:
    return DmnOutput(
        name=element.attributes.get("name"),
        label=element.attributes.get("label"),
        type_ref=element.attributes.get("typeRef"),
        values=_cell(element.first("outputValues"), "outputValues", language),
        default=_cell(element.first("defaultOutputEntry"), "defaultOutputEntry", language),
        location=element.location)


def _rule(element: Element, language: str | None) -> DmnRule:
    description = element.first("description")
    annotations = []
    for entry in element.all("annotationEntry"):
        text = entry.first("text")
        annotations.append(text.text.strip() if text is not None else "")
    return DmnRule(
        id=element.attributes.get("id"),
        inputs=[_cell(e, "inputEntry", language) for e in element.all("inputEntry")],
        outputs=[_cell(e, "outputEntry", language) for e in element.all("outputEntry")],
        description=description.text.strip() if description is not None else None,
        annotations=annotations,
        location=element.location)
