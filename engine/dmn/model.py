"""A DMN decision table as the XML says it, between the file and the ruleset's stage: read
from a ``.dmn`` file (with where each part is) or made from a stage to be written out."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Location

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")


@dataclass(frozen=True)
class Cell:
    """The text of a cell (``inputEntry``, ``outputEntry``, an input's expression, a value
    list) and where its element is (None for a table made from a stage)."""

    text: str
    location: Location | None = None
    element: str = ""
    language: str | None = None  # expressionLanguage, where the file names one


@dataclass
class DmnInput:
    expression: Cell
    label: str | None = None
    type_ref: str | None = None
    values: Cell | None = None  # inputValues
    location: Location | None = None
    id: str | None = None
    name: str | None = None  # the ruleset's name of a computed column (export)


@dataclass
class DmnOutput:
    name: str | None = None
    label: str | None = None
    type_ref: str | None = None
    values: Cell | None = None  # outputValues
    default: Cell | None = None  # defaultOutputEntry
    location: Location | None = None


@dataclass
class DmnRule:
    id: str | None
    inputs: list[Cell]
    outputs: list[Cell]
    description: str | None = None
    annotations: list[str] = field(default_factory=list)
    location: Location | None = None


@dataclass
class DmnTable:
    """One decision whose logic is a decision table."""

    decision_id: str | None
    decision_name: str | None
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    inputs: list[DmnInput] = field(default_factory=list)
    outputs: list[DmnOutput] = field(default_factory=list)
    rules: list[DmnRule] = field(default_factory=list)
    annotation_names: list[str] = field(default_factory=list)
    description: str | None = None
    required: list[str] = field(default_factory=list)  # decisions it reads, by id
    location: Location | None = None  # the <decision>
    table_location: Location | None = None  # the <decisionTable>


@dataclass(frozen=True)
class ItemDefinition:
    """A named type of the file: its base type, the values it allows (``allowedValues``,
    read as an input's or output's value list), and whether it is a collection or has
    components, which the ruleset cannot say."""

    name: str
    type_ref: str | None
    allowed: Cell | None
    structured: bool
    location: Location
