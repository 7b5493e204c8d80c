"""Writing ``DmnTable`` models as a DMN 1.3 file (the version DMN tools read most widely).

Types the ruleset has and FEEL has not (``integer``, ``money``) are declared as item
definitions over ``number``, so that a table read back keeps them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .model import DmnTable

NAMESPACE = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_OWN_TYPES = ("integer", "money")


def dmn_text(tables: list[DmnTable], name: str) -> str:
    """The DMN XML document holding ``tables``; ``name`` names its definitions."""
    ET.register_namespace("", NAMESPACE)
    ident = _ncname(name)
    root = ET.Element(_tag("definitions"), {
        "id": f"definitions_{ident}", "name": name,
        "namespace": f"https://credit-rules.example/dmn/{ident}"})
    used = {o.type_ref for t in tables for o in t.outputs}
    for typ in _OWN_TYPES:
        if typ in used:
            definition = ET.SubElement(root, _tag("itemDefinition"), {"name": typ})
            ET.SubElement(definition, _tag("typeRef")).text = "number"
    counts: dict[str, int] = {}
    for rule in (r for t in tables for r in t.rules):
        counts[rule.id] = counts.get(rule.id, 0) + 1
    repeated = {rule_id for rule_id, count in counts.items() if count > 1}
    for table in tables:
        _decision(root, table, repeated)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _tag(local: str) -> str:
    return f"{{{NAMESPACE}}}{local}"


def _ncname(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _text(parent: ET.Element, tag: str, text: str, attributes: dict | None = None) -> None:
    element = ET.SubElement(parent, _tag(tag), attributes or {})
    ET.SubElement(element, _tag("text")).text = text


def _decision(root: ET.Element, table: DmnTable, repeated: set[str]) -> None:
    """One decision; a rule id other tables use too is qualified by the decision's (XML
    ids are unique in a file; the importer takes the qualification off again)."""
    ident = _ncname(table.decision_id or table.decision_name or "decision")
    decision = ET.SubElement(root, _tag("decision"), {"id": ident,
                                                       "name": table.decision_name or ident})
    if table.description:
        ET.SubElement(decision, _tag("description")).text = table.description
    for required in table.required:
        requirement = ET.SubElement(decision, _tag("informationRequirement"))
        ET.SubElement(requirement, _tag("requiredDecision"), {"href": f"#{_ncname(required)}"})
    attributes = {"id": f"{ident}_table", "hitPolicy": table.hit_policy}
    if table.aggregation:
        attributes["aggregation"] = table.aggregation
    body = ET.SubElement(decision, _tag("decisionTable"), attributes)
    for number, column in enumerate(table.inputs, start=1):
        attributes = {"id": f"{ident}.{column.name}" if column.name else
                      f"{ident}_input_{number}"}
        if column.label:
            attributes["label"] = column.label
        element = ET.SubElement(body, _tag("input"), attributes)
        expression = ET.SubElement(element, _tag("inputExpression"),
                                   {"typeRef": column.type_ref} if column.type_ref else {})
        ET.SubElement(expression, _tag("text")).text = column.expression.text
        if column.values is not None:
            _text(element, "inputValues", column.values.text)
    for number, column in enumerate(table.outputs, start=1):
        attributes = {"id": f"{ident}_output_{number}", "name": column.name or ""}
        if column.label:
            attributes["label"] = column.label
        if column.type_ref:
            attributes["typeRef"] = column.type_ref
        element = ET.SubElement(body, _tag("output"), attributes)
        if column.values is not None:
            _text(element, "outputValues", column.values.text)
        if column.default is not None:
            _text(element, "defaultOutputEntry", column.default.text)
    for name in table.annotation_names:
        ET.SubElement(body, _tag("annotation"), {"name": name})
    for rule in table.rules:
        rule_id = f"{ident}.{rule.id}" if rule.id in repeated else rule.id
        element = ET.SubElement(body, _tag("rule"), {"id": rule_id})
        for cell in rule.inputs:
            _text(element, "inputEntry", cell.text)
        for cell in rule.outputs:
            _text(element, "outputEntry", cell.text)
        for text in rule.annotations:
            _text(element, "annotationEntry", text)
