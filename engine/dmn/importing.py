"""``credit dmn import``: a ``.dmn`` file's decision tables as a derived stage's YAML."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from .dmn_reader import read_dmn
from .to_stage import Imported, to_stage


def import_dmn(path: str | Path, facts: Mapping[str, str] | None = None,
               under: str | None = None, display: str | None = None) -> Imported:
    """The derived stage made from the DMN file at ``path`` (see ``to_stage`` for how
    names are read). Raises ProblemsError, located in the file, for what cannot be."""
    return to_stage(read_dmn(path, display), facts, under)


class _Flow(dict):
    """A mapping written on one line ({a: 1, b: 2})."""


class _Dumper(yaml.SafeDumper):
    pass


# Texts a YAML 1.2 reader (the ruleset's) would take for a number, true/false or null,
# where PyYAML (YAML 1.1) would write them bare: 1e3, 0o17, 0x1F, Null.
_NOT_TEXT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|"
                       r"0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|"
                       r"true|True|TRUE|false|False|FALSE|null|Null|NULL|~|")


def _text(dumper: yaml.SafeDumper, data: str):
    style = '"' if _NOT_TEXT.fullmatch(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data.items(), flow_style=True))


def stage_text(stage: Mapping) -> str:
    """The stage as YAML: each rule's cells on one line, as the shipped rulesets write
    them; the same stage always gives the same text."""
    def flowing(value, key=None):
        if isinstance(value, Mapping):
            items = {k: flowing(v, k) for k, v in value.items()}
            return _Flow(items) if key in ("when", "then", "default") or (
                key == "inputs_item" or key == "outputs_item") else items
        if isinstance(value, list):
            return [flowing(v, f"{key}_item") for v in value]
        return value

    return yaml.dump(flowing(stage), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False)
