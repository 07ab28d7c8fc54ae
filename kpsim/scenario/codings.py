"""Codings as ranges: a numeric actor or proposal field written `[low, high]` or as a named level.

The record rarely pins a stance to one number: "against with reservations" is a band of
the scale, not a point, and a red line "somewhere above the ADPA text" is a range. A field
written as a range runs at its nominal value (the midpoint, or the level's coded value)
under `--uncertainty montecarlo` and `parameters`, so nothing moves unless asked; under
`full` each draw takes one value from every range (kpsim.analysis.uncertainty.with_codings_drawn),
so the interval shows what the codings' width does.

The named levels are the KP case book's coding convention (scenarios/kp/roster.yaml): each
level's range is the part of the scale that would be coded at that level, halfway to the
neighbouring levels, which is as precise as a five-step reading of the record can be.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pydantic import Field, ValidationError

from kpsim.fields import Strict


@dataclass(frozen=True)
class Level:
    """A named coding level: the value the convention gives and the band it stands for."""

    value: float
    low: float
    high: float
    meaning: str


# field -> level name -> Level (the convention of scenarios/kp/roster.yaml)
LEVELS: dict[str, dict[str, Level]] = {
    "position": {
        "for": Level(1.0, 0.875, 1.0, "tabled, pressed for, chaired, backed or benefits from the proposal"),
        "for_with_reservations": Level(0.75, 0.625, 0.875, "for, but later accepted a text short of the proposal"),
        "silent": Level(0.5, 0.375, 0.625, "the record is silent (a placeholder)"),
        "against_with_reservations": Level(0.25, 0.125, 0.375, "cautious, pressed for strict terms, objected then relented"),
        "against": Level(0.0, 0.0, 0.125, "objected, blocked, opposed"),
    },
    "salience": {
        "central": Level(0.9, 0.75, 1.0, "the subject state, the chair or proposer pushing the text, the named blocker"),
        "named": Level(0.6, 0.45, 0.75, "named for or against in the record"),
        "uncertain": Level(0.3, 0.2, 0.45, "named only in a single-source or uncertain line, or by indirect evidence"),
        "silent": Level(0.1, 0.0, 0.2, "the record is silent (a placeholder)"),
    },
}

# the numeric fields a range may stand for; whole-number fields draw whole numbers
ACTOR_FIELDS = ("position", "salience", "capability", "stubbornness", "reluctance", "lobbying", "reservation", "patience", "joined", "left")
PROPOSAL_FIELDS = ("status_quo", "position", "reservation", "abandon_after")
WHOLE = {"patience", "abandon_after"}
MAX_CORNERS = 256  # an entry's corners checked exhaustively up to 8 ranged fields; beyond, each end alone


class Coding(Strict):
    """One field coded as a range: who (an actor's id, or none for the proposal), which field, the band and the nominal value."""

    actor: str | None = None  # None: the proposal
    field: str = Field(min_length=1)  # e.g. position, reservation, weights.production
    low: float
    high: float
    value: float  # what montecarlo and parameters run at
    level: str | None = None

    @property
    def name(self) -> str:
        return f"{self.actor or 'proposal'}.{self.field}"


def level_names(field: str) -> list[str]:
    return list(LEVELS.get(field, {}))


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _parse(field: str, value) -> tuple[Coding | None, str | None]:
    """(a coding, None) for a range or a level; (None, message) for a malformed one; (None, None) for anything else."""
    base = field.split(".")[-1] if field.startswith("weights.") else field
    if isinstance(value, str):
        levels = LEVELS.get(base)
        if not levels:
            return None, None  # text in a numeric field: the schema says "must be a number"
        if value not in levels:
            return None, f"= {value!r} — not a coding level of {base}; allowed: a number, [low, high], or {', '.join(levels)}"
        lv = levels[value]
        return Coding(field=field, low=lv.low, high=lv.high, value=lv.value, level=value), None
    if not isinstance(value, list):
        return None, None
    if len(value) != 2 or not all(_is_number(v) for v in value):
        return None, f"= {list(value)!r} — a range is [low, high], two numbers"
    low, high = (float(v) for v in value)
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, f"= {list(value)!r} — a range's ends must be finite numbers"
    if low > high:
        return None, f"= [{low:g}, {high:g}] — a range is [low, high] with low <= high"
    nominal = (low + high) / 2
    if base in WHOLE:
        if low != int(low) or high != int(high):
            return None, f"= [{low:g}, {high:g}] — {base} is a whole number: give whole ends"
        nominal = float(math.floor(nominal))
    return Coding(field=field, low=low, high=high, value=nominal), None


def extract(data):
    """Before validation: every range or level in actors and proposal replaced by its nominal value, the ranges listed in `codings`.

    A malformed range is left as written: the schema refuses it with the other errors, and the loader asks
    `problem` what is wrong with it, so every error of a file is reported at once.
    """
    if not isinstance(data, dict):
        return data
    found = []
    out = dict(data)
    actors = data.get("actors")
    if isinstance(actors, list):
        new = []
        for entry in actors:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                entry = _extract_entry(entry, ACTOR_FIELDS, entry["id"], found)
            new.append(entry)
        out["actors"] = new
    if isinstance(data.get("proposal"), dict):
        out["proposal"] = _extract_entry(data["proposal"], PROPOSAL_FIELDS, None, found)
    if found:
        given = data.get("codings")
        names = {c.name for c in found}
        kept = [g for g in given if not (isinstance(g, dict) and f"{g.get('actor') or 'proposal'}.{g.get('field')}" in names)] if isinstance(given, list) else []
        out["codings"] = kept + found  # a range written on a field wins over a listed coding of the same field
    return out


def _extract_entry(entry: dict, fields, who, found) -> dict:
    out = dict(entry)
    named = [(f, entry[f]) for f in fields if f in entry]
    if who is not None and isinstance(entry.get("weights"), dict):
        named += [(f"weights.{k}", v) for k, v in entry["weights"].items() if isinstance(k, str)]
    for field, value in named:
        coding, _ = _parse(field, value)
        if coding is None:
            continue
        found.append(coding.model_copy(update={"actor": who}))
        if field.startswith("weights."):
            out["weights"] = {**out.get("weights", entry["weights"]), field.split(".", 1)[1]: coding.value}
        else:
            out[field] = int(coding.value) if field in WHOLE else coding.value
    return out


def problem(loc: tuple, value) -> str | None:
    """What is wrong with a value the schema refused at `loc`, if it was meant as a range or a level (for the loader's message)."""
    if not isinstance(value, list | str):
        return None
    if loc[:1] == ("actors",) and len(loc) == 3 and loc[2] in ACTOR_FIELDS:
        field = loc[2]
    elif loc[:1] == ("actors",) and len(loc) == 4 and loc[2] == "weights":
        field = f"weights.{loc[3]}"
    elif loc[:1] == ("proposal",) and len(loc) == 2 and loc[1] in PROPOSAL_FIELDS:
        field = loc[1]
    else:
        return None
    return _parse(field, value)[1]


def coding_issues(scenario, actor_model, proposal_model) -> list[tuple[tuple, str]]:
    """Every coding whose band the schema would refuse somewhere: each entry checked at every corner of its ranged fields.

    The constraints within an entry (a red line between the status quo and the proposal, `left` after `joined`,
    bounds) are linear, so a box whose corners all pass passes everywhere.
    """
    out = []
    index = {a.id: i for i, a in enumerate(scenario.actors)}
    groups: dict[str | None, list[Coding]] = {}
    seen = set()
    for c in scenario.codings:
        if c.name in seen:
            continue
        seen.add(c.name)
        if c.actor is not None and c.actor not in index:
            out.append((("codings",), f"— {c.name}: {c.actor!r} is not an actor id"))
            continue
        groups.setdefault(c.actor, []).append(c)
    sq, pos = (_band(scenario, groups.get(None, ()), f) for f in ("status_quo", "position"))
    if max(sq[0], pos[0]) <= min(sq[1], pos[1]) and sq != pos:
        out.append((("proposal", "position"), f"— its coded range [{pos[0]:g}, {pos[1]:g}] meets the status quo's [{sq[0]:g}, {sq[1]:g}]: "
                                              "some draws would leave nothing to decide"))
    for who, codings in groups.items():
        model, entry, path = (proposal_model, scenario.proposal, ("proposal",)) if who is None else (actor_model, scenario.actors[index[who]], ("actors", index[who]))
        allowed = PROPOSAL_FIELDS if who is None else ACTOR_FIELDS
        for c in codings:
            base = c.field.split(".", 1)
            if not (c.field in allowed or (who is not None and base[0] == "weights" and len(base) == 2 and base[1] in entry.weights)):
                out.append((path, f"— {c.name}: no numeric field {c.field!r} to code as a range"))
        codings = [c for c in codings if c.field in allowed or c.field.startswith("weights.")]
        if len(codings) > 8:
            corners = [[(c, end)] for c in codings for end in (c.low, c.high)]
        else:
            corners = [list(zip(codings, ends)) for ends in itertools.product(*[(c.low, c.high) for c in codings])]
        for corner in corners:
            data = with_values(entry.model_dump(), corner)
            try:
                model.model_validate(data)
            except ValidationError as exc:
                err = exc.errors()[0]
                msg = err["msg"].removeprefix("Value error, ")
                loc = tuple(err["loc"])
                named = [(c, v) for c, v in corner if (loc and c.field.split(".")[0] == loc[0]) or (not loc and c.field in msg)] or corner
                loc = loc or (named[-1][0].field.split(".")[0],)
                at = ", ".join(f"{c.field} = {v:g}" for c, v in named)
                out.append((path + loc, f"— its coded range reaches {at}: {msg}"))
                break
    return out


def _band(scenario, codings, field: str) -> tuple[float, float]:
    for c in codings:
        if c.field == field:
            return c.low, c.high
    v = getattr(scenario.proposal, field)
    return v, v


def with_values(data: dict, corner) -> dict:
    data = dict(data, weights=dict(data.get("weights", {}))) if "weights" in data else dict(data)
    for c, v in corner:
        v = int(v) if c.field in WHOLE else float(v)
        if c.field.startswith("weights."):
            data["weights"][c.field.split(".", 1)[1]] = v
        else:
            data[c.field] = v
    return data


def describe(scenario) -> str:
    """'12 codings are ranges (7 actors, the proposal)' or ''."""
    if not scenario.codings:
        return ""
    who = {c.actor for c in scenario.codings}
    parts = [f"{len(who - {None})} actor{'s' if len(who - {None}) != 1 else ''}"] + (["the proposal"] if None in who else [])
    return f"{len(scenario.codings)} coding{'s are ranges' if len(scenario.codings) != 1 else ' is a range'} ({', '.join(parts)})"
