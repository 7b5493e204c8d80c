"""The stages from extract to grading written as one function, ``through_grading(doc,
as_of, trace)``, which keeps every value in a local from where it is read to where it is
used. Called one by one, the stages pass their values through the values dict ``v``:
extract builds it (a key per declared fact), derive stores into it, and each stage loads
what it reads back from it, about 70 loads a decision of the default ruleset.

The function is the stage functions' own code, in their order: extract's values in name
order (each into the local the stages read it from), derive's body without its stores
into ``v``, admission's and grading's bodies without their loads, and each stage's
``return`` value kept in a local. It returns the values dict of the names the policy and
approval stages read, then admission's ``(severity, reasons)`` and grading's result.
Where it raises, the pipeline decides with the stage functions one by one, which raise
the error as they always did, named by its rule.

There is no such function (None) when the bodies cannot be joined safely: a stage that
assigns a name an earlier one left for later (a fact's local, a stage's result), a
``return`` before a body's end, a body that uses ``v`` itself or a fact no earlier part
sets.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from ..language.codegen import FunctionBuilder, local_name

_RETURN = "    return "


def through_grading_source(extract: tuple[list[str], list[tuple[str, str]]],
                           stages: Sequence[tuple[str, FunctionBuilder]],
                           later: Iterable[str]) -> str | None:
    """The source of ``through_grading``: ``extract`` is ``compiler.extract_parts``,
    ``stages`` (name, builder) of derive, admission and grading in order, ``later`` the
    names the stages after grading load from ``v``. None when it cannot be written."""
    prelude, entries = extract
    lines = ["def through_grading(doc, as_of, trace):", *prelude]
    lines += [f"    {local_name(name)} = {code}" for name, code in entries]
    kept = {"doc", "as_of", "trace", *(local_name(name) for name, _ in entries)}
    results = []
    for stage, fb in stages:
        body = [line for index, line in enumerate(fb.body) if index not in fb.stores]
        returned = body.pop()[len(_RETURN):] if body and body[-1].startswith(_RETURN) \
            else None
        names = _names(body)
        if names is None:
            return None
        assigned, facts_read = names
        if assigned & kept or not facts_read <= kept | assigned:
            return None
        kept |= {name for name in assigned if name.startswith("v_")}
        lines += body
        if returned is not None:
            result = f"_{stage}_result"
            lines.append(f"    {result} = {returned}")
            kept.add(result)
            results.append(result)
    later = list(later)
    if any(local_name(name) not in kept for name in later):
        return None
    values = "{" + ", ".join(f"{name!r}: {local_name(name)}" for name in later) + "}"
    lines.append(f"    return {', '.join([values, *results])}")
    return "\n".join(lines) + "\n"


def _names(body: list[str]) -> tuple[set[str], set[str]] | None:
    """The names a stage body assigns, and the facts' locals it reads; None when it uses
    ``v`` itself or returns early."""
    tree = ast.parse("def stage():\n" + ("\n".join(body) or "    pass"))
    assigned, facts_read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return | ast.Global | ast.Nonlocal):
            return None
        if isinstance(node, ast.Name):
            if node.id == "v":
                return None
            if not isinstance(node.ctx, ast.Load):
                assigned.add(node.id)
            elif node.id.startswith("v_"):
                facts_read.add(node.id)
    return assigned, facts_read
