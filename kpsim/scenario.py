"""Scenario files: the schema, `extends:` merging, and errors with file:line.

Nothing here knows about the Kimberley Process: any body that decides by
votes of participants, lobbied by observers, can be written down.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from kpsim.fields import NonNeg, Strict, Unit
from kpsim.rules import RULES
from kpsim.sweepspec import Sweep
from kpsim.yamlsource import InputError, LDict, LList, line_of, load_located


ActorKind = Literal["participant", "industry", "civil_society", "intergovernmental"]
OBSERVER_KINDS = ("industry", "civil_society", "intergovernmental")


class Actor(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    kind: ActorKind = "participant"
    bloc: str | None = None
    position: Unit = 0.5
    salience: Unit = 0.5
    capability: NonNeg = 1.0
    weights: dict[str, NonNeg] = Field(default_factory=dict)
    stubbornness: Unit = 0.5
    reluctance: NonNeg = 0.0
    lobbying: Unit = 0.0
    note: str | None = None

    @model_validator(mode="after")
    def _lobbying_only_for_observers(self):
        if self.kind == "participant" and self.lobbying:
            raise ValueError("lobbying is for observers only (kind industry, civil_society or intergovernmental)")
        return self


class Proposal(Strict):
    title: str = "proposal"
    status_quo: Unit = 0.0
    position: Unit = 1.0
    proposer: str | None = None
    reservation: Unit | None = None
    abandon_after: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _reservation_between(self):
        if self.position == self.status_quo:
            raise ValueError("position must differ from status_quo: there is nothing to decide")
        r = self.reservation
        if r is not None and not (min(self.status_quo, self.position) <= r <= max(self.status_quo, self.position)):
            raise ValueError(
                f"reservation = {r:g} must lie between status_quo ({self.status_quo:g}) and position ({self.position:g})"
            )
        return self

    @property
    def floor(self) -> float:
        """How far the chair may water the text down: the reservation point, else the proposal itself."""
        return self.position if self.reservation is None else self.reservation


class Calendar(Strict):
    meetings_per_year: Annotated[float, Field(gt=0)] = 2.0
    horizon: Annotated[int, Field(ge=1, le=100_000)] = 28
    start_year: float | None = None


class Dynamics(Strict):
    mode: Literal["agents", "null"] = "agents"
    support_probability: Unit = 0.5
    noise: NonNeg = 0.1
    reluctance: NonNeg = 0.05
    amendment_step: Unit = 0.2
    lobbying: NonNeg = 0.1
    stubbornness_scale: NonNeg = 1.0
    position_noise: NonNeg = 0.0


class Target(Strict):
    """What the model must reproduce for the record to count as matched (the calibration's pass/fail)."""

    median_meetings: Annotated[list[NonNeg], Field(min_length=2, max_length=2)] | None = None  # [low, high]
    within: Annotated[int, Field(ge=1)] | None = None
    adopted_at_least: Unit | None = None
    adopted_at_most: Unit | None = None

    @model_validator(mode="after")
    def _within_needed(self):
        if (self.adopted_at_least is not None or self.adopted_at_most is not None) and self.within is None:
            raise ValueError("adopted_at_least / adopted_at_most need 'within' (a number of meetings)")
        if self.median_meetings is not None and self.median_meetings[0] > self.median_meetings[1]:
            raise ValueError("median_meetings is [low, high] with low <= high")
        return self


class Record(Strict):
    """What actually happened, for calibration: adopted at meeting `meetings`, or not adopted after it."""

    rule: str
    adopted: bool
    meetings: Annotated[int, Field(ge=1)]
    source: str
    target: Target = Target()


RuleSpec = Annotated[Union[tuple(spec.params for spec in RULES.values())], Field(discriminator="rule")]


class Scenario(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    actors: list[Actor] = Field(min_length=1)
    proposal: Proposal
    calendar: Calendar = Calendar()
    dynamics: Dynamics = Dynamics()
    rules: list[RuleSpec] = Field(min_length=1)
    replications: Annotated[int, Field(ge=1, le=100_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    record: Record | None = None
    sweep: Sweep | None = None  # what `kpsim sweep` and `kpsim sensitivity` vary

    @model_validator(mode="after")
    def _consistent(self):
        issues = self.issues()
        if issues:
            raise PydanticCustomError(
                "scenario_issues", "{summary}", {"summary": "; ".join(m for _, m in issues), "issues": issues}
            )
        return self

    def issues(self) -> list[tuple[tuple, str]]:
        """Every cross-field problem, each with the path of the field to point at."""
        out = []
        ids = [a.id for a in self.actors]
        for i, a in enumerate(self.actors):
            if a.id in ids[:i]:
                out.append((("actors", i, "id"), f"= {a.id!r} — actor ids must be unique; it is already used"))
        if not any(a.kind == "participant" for a in self.actors):
            out.append((("actors",), "— at least one actor must be of kind participant"))
        if self.proposal.proposer is not None and self.proposal.proposer not in ids:
            out.append((("proposal", "proposer"), f"= {self.proposal.proposer!r} — not an actor id"))
        labels = [r.label for r in self.rules]
        if self.record is not None and self.record.rule not in labels:
            out.append((("record", "rule"), f"= {self.record.rule!r} — must be one of the scenario's rules: {', '.join(labels)}"))
        known = {w for a in self.actors for w in a.weights}
        kinds = {a.kind for a in self.actors}
        for i, r in enumerate(self.rules):
            if r.label in labels[:i]:
                out.append((("rules", i, "name"), f"= {r.label!r} — rule names must be unique (give each a distinct 'name')"))
            for j, chamber in enumerate(getattr(r, "chambers", [])):
                if not kinds & set(chamber.kinds):
                    out.append(
                        (
                            ("rules", i, "chambers", j),
                            f"— chamber {chamber.name!r} has no members (no actor of kind {', '.join(chamber.kinds)})",
                        )
                    )
            for w in r.weight_names():
                if w not in known:
                    out.append(
                        (("rules", i, "weight"), f"= {w!r} — no actor has this weight; known: {', '.join(sorted(known)) or 'none'}")
                    )
        return out

    def rule(self, label: str):
        for r in self.rules:
            if r.label == label:
                return r
        raise InputError(f"no rule named {label!r} in scenario {self.name!r}; rules: {', '.join(r.label for r in self.rules)}")


# ---------------------------------------------------------------- loading


def _merge(base, over):
    """Deep-merge `over` onto `base`; actors merge by id, sources concatenate."""
    if isinstance(base, LDict) and isinstance(over, LDict):
        out = LDict(base)
        out.lines = dict(base.lines)
        out.origin = over.origin
        for key, value in over.items():
            if key == "actors" and isinstance(base.get(key), LList) and isinstance(value, LList):
                out[key] = _merge_actors(base[key], value)
            elif key == "sources" and isinstance(base.get(key), LList) and isinstance(value, LList):
                out[key] = _concat(base[key], value)
            elif key in base:
                out[key] = _merge(base[key], value)
            else:
                out[key] = value
            out.lines[key] = over.lines[key]
        return out
    return over


def _concat(a: LList, b: LList) -> LList:
    out = LList()
    out.origin = b.origin
    for item, where in zip(list(a) + list(b), a.lines + b.lines):
        if item not in out:
            out.append(item)
            out.lines.append(where)
    return out


def _merge_actors(base: LList, over: LList) -> LList:
    out = LList()
    out.origin = over.origin
    index = {}
    for item, where in zip(base, base.lines):
        if isinstance(item, LDict) and "id" in item:
            index[item["id"]] = len(out)
        out.append(item)
        out.lines.append(where)
    out.added = []  # ids this file adds to the ones it extends: a misspelt id would land here
    for item, where in zip(over, over.lines):
        key = item.get("id") if isinstance(item, LDict) else None
        if key in index:
            out[index[key]] = _merge(out[index[key]], item)
            out.lines[index[key]] = where
        else:
            out.append(item)
            out.lines.append(where)
            if index and key is not None:
                near = difflib.get_close_matches(str(key), [str(k) for k in index], n=1)
                out.added.append((key, where, near[0] if near else None))
    return out


def load_tree(path: str | Path, _seen: tuple = ()) -> LDict:
    """Load a scenario file and everything it extends, merged."""
    path = Path(path)
    if path.resolve() in _seen:
        raise InputError(f"{path}: 'extends' forms a cycle")
    tree = load_located(path)
    parents = tree.pop("extends", None)
    if parents is None:
        return tree
    fname, line = tree.lines.pop("extends")
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise InputError(f"{fname}:{line}: extends = {parents!r} — must be a file name or a list of file names")
    merged = None
    for parent in parents:
        ppath = path.parent / parent
        if not ppath.exists():
            raise InputError(f"{fname}:{line}: extends = {parent!r} — file not found (looked for {ppath})")
        ptree = load_tree(ppath, _seen + (path.resolve(),))
        merged = ptree if merged is None else _merge(merged, ptree)
    return _merge(merged, tree)


def _is_tag(loc: tuple, k: int) -> bool:
    """pydantic puts a union's tag (the rule name) right after the list index of a rule."""
    return k > 0 and isinstance(loc[k - 1], int) and loc[k] in RULES and loc[:1] == ("rules",)


def _field(loc: tuple, tags: bool = True) -> str:
    out = ""
    for k, key in enumerate(loc):
        if isinstance(key, int):
            out += f"[{key}]"
        elif tags and _is_tag(loc, k):
            continue
        else:
            out += ("." if out else "") + str(key)
    return out or "(top level)"


_MESSAGES = {
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "dict_type": "must be a mapping of fields",
    "model_type": "must be a mapping of fields",
    "list_type": "must be a list",
    "missing": "is required",
}


def _message(err: dict) -> str:
    kind = err["type"]
    if kind == "unknown_field":
        return err["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "union_tag_invalid":
        return f"unknown rule — allowed: {', '.join(sorted(RULES))}"
    if kind == "union_tag_not_found":
        return f"needs a 'rule' field — allowed: {', '.join(sorted(RULES))}"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg.replace("Input should be", "must be")


def format_errors(exc: ValidationError, tree: LDict) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "scenario_issues":
            for sub, message in err["ctx"]["issues"]:
                fname, line = line_of(tree, loc + sub)
                out.append(f"{fname}:{line}: {_field(loc + sub, tags=False)} {message}")
            continue
        if err["type"] == "extra_forbidden":
            err = {**err, "type": "unknown_field", "msg": _unknown(loc)}
        if err["type"] == "union_tag_invalid":
            loc, err = loc + ("rule",), {**err, "input": err["ctx"]["tag"]}
        fname, line = line_of(tree, loc)
        field = _field(loc)
        value = ""
        if err["type"] not in ("missing", "unknown_field") and not isinstance(err.get("input"), dict | list):
            value = f" = {err['input']!r}"
        out.append(f"{fname}:{line}: {field}{value} — {_message(err)}")
    return sorted(out, key=_file_line)


def _file_line(message: str):
    fname, line, _ = message.split(":", 2)
    return (fname, int(line) if line.isdigit() else 0)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _unknown(loc: tuple) -> str:
    """'unknown field (did you mean …?) — allowed: …', the allowed names found by walking the schema along loc."""
    models = [Scenario]
    for k, key in enumerate(loc[:-1]):
        if isinstance(key, int):
            continue
        if _is_tag(loc, k):
            models = [RULES[key].params]
            continue
        models = [m for model in models if key in model.model_fields for m in _models_in(model.model_fields[key].annotation)]
    if len(models) != 1:
        return "unknown field"
    allowed = list(models[0].model_fields)
    near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    return f"unknown field{hint} — allowed: {', '.join(allowed)}"


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge and validate; every problem is reported at once as InputError."""
    return validate_tree(load_tree(path))


def extension_notes(tree: LDict) -> list[str]:
    """Actors a file adds to the roster it extends, so that a misspelt id does not pass unseen."""
    notes = []
    for key, (fname, line), near in getattr(tree.get("actors"), "added", []):
        hint = f" (did you mean {near!r}?)" if near else ""
        notes.append(f"{fname}:{line}: note: actor {key!r} is not in the file it extends — added as a new actor{hint}")
    return notes


def validate_tree(tree: LDict) -> Scenario:
    try:
        return Scenario.model_validate(tree)
    except ValidationError as exc:
        raise InputError(format_errors(exc, tree)) from None


def scenario_yaml(scenario: Scenario) -> str:
    """The exact, fully merged scenario, for the results folder."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

