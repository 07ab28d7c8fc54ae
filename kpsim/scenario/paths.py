"""Dotted parameter paths into a scenario: `dynamics.noise`, `actors.<id>.salience`, `rules.<name>.q`, ….

Sweeps vary a scenario along these paths and scenario events change it along
them mid-run, so both read them the same way here, below the model. Nothing
here imports the schema: the scenario is taken as it comes (duck-typed), and
rebuilt through its own class, so kpsim.scenario.schema may import this.
"""

from __future__ import annotations

import difflib
import types
import typing

SECTIONS = ("dynamics", "proposal", "calendar")  # path: section.field
LISTS = ("actors", "rules")  # path: list.<actor id or rule name>.field
FIXED = {"id", "kind", "rule", "name"}  # identities, not parameters
SHAPES = "dynamics.<field>, proposal.<field>, calendar.<field>, actors.<id>.<field>, rules.<name>.<field>"


def resolve_path(scenario, path: str, *, what: str = "a sweepable path") -> tuple[tuple, typing.Any]:
    """The keys of `path` in scenario.model_dump(), and the pydantic field it names; ValueError if none.

    `what` names the kind of path in the error ("not a sweepable path — allowed: …").
    """
    parts = path.split(".")
    head = parts[0]
    if head in SECTIONS and len(parts) == 2:
        model, keys = type(getattr(scenario, head)), (head,)
    elif head in LISTS and len(parts) >= 3:
        items = getattr(scenario, head)
        labels = [a.id for a in items] if head == "actors" else [r.label for r in items]
        label = ".".join(parts[1:-1])  # an id or a rule name may itself hold dots: all between the head and the field
        if label not in labels:
            near = difflib.get_close_matches(label, labels, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            shown = ", ".join(labels[:12]) + (f", … ({len(labels)} in all)" if len(labels) > 12 else "")
            raise ValueError(f"no {head[:-1]} named '{label}'{hint} — {head}: {shown}")
        i = labels.index(label)
        model, keys = type(items[i]), (head, i)
    else:
        near = difflib.get_close_matches(head, [*SECTIONS, *LISTS], n=1)
        hint = f" ('{head}': did you mean '{near[0]}'?)" if near and near[0] != head else ""
        raise ValueError(f"not {what}{hint} — allowed: {SHAPES}")
    field = parts[-1]
    allowed = [f for f in model.model_fields if f not in FIXED]
    if field not in allowed:
        near = difflib.get_close_matches(field, allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ValueError(f"unknown field '{field}'{hint} — allowed: {', '.join(allowed)}")
    return keys + (field,), model.model_fields[field]


def leaf_types(annotation) -> set:
    """The plain types behind Annotated[...] and unions: {int}, {float, str}, …"""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return leaf_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(leaf_types(a) for a in typing.get_args(annotation)))
    return {annotation}


def is_whole(field) -> bool:
    """Does the field hold whole numbers only (so a sampled value must be rounded)?"""
    kinds = leaf_types(field.annotation)
    return int in kinds and float not in kinds


def with_values(scenario, keys: list[tuple], values: tuple):
    """`scenario` with each field at `keys` set to its value, validated as a scenario file would be.

    Rebuilt through type(scenario), so a value the file could not hold raises pydantic's ValidationError.
    """
    data = scenario.model_dump()
    for key, value in zip(keys, values):
        node = data
        for k in key[:-1]:
            node = node[k]
        node[key[-1]] = value
    return type(scenario).model_validate(data)
