"""The toy plenary and other small inputs the tests of every room share (conftest.py makes fixtures of them).

One roster, TOY_ACTORS, with the variations each test needs as arguments:
`toy_data` is a scenario file's mapping, `make_toy_scenario` validates it,
`make_toy_yaml` writes it as a file with one line per actor and rule (so the
line numbers of error messages do not depend on the values). `default_rule`
builds any registered rule with valid parameters.
"""

from __future__ import annotations

import yaml

from kpsim.rules import RULES
from kpsim.scenario.schema import Scenario

# ------------------------------------------------------------------ the toy plenary

# two blocs (w: for the text, e: against it), a participant who hardly cares, two lobbying observers
TOY_ACTORS = {
    "a": {"id": "a", "bloc": "w", "position": 0.95, "salience": 0.9},
    "b": {"id": "b", "bloc": "w", "position": 0.7, "salience": 0.6},
    "c": {"id": "c", "bloc": "e", "position": 0.05, "salience": 0.9},
    "d": {"id": "d", "bloc": "e", "position": 0.3, "salience": 0.5},
    "e": {"id": "e", "position": 0.5, "salience": 0.2},
    "wdc": {"id": "wdc", "kind": "industry", "position": 0.8, "lobbying": 0.6},
    "csc": {"id": "csc", "kind": "civil_society", "position": 0.9, "lobbying": 0.4},
}
TOY_IDS = ("a", "b", "c", "d", "wdc", "csc")
TOY_PROPOSAL = {"title": "Tighten the definition", "status_quo": 0.0, "position": 1.0, "reservation": 0.3}
TOY_SOURCES = ["https://www.kimberleyprocess.com/en/kpcs-core-document", 'kp_record.md, section "Alignments"']
SCENARIO_FIELDS = tuple(Scenario.model_fields)  # in the schema's order


def toy_actors(actors=TOY_IDS, observers=(), weights=None, changes=None) -> list[dict]:
    """The actors of a toy scenario.

    `actors`: ids from TOY_ACTORS and actor dicts, or a number n of plain
    participants p0 … p(n-1) in alternating blocs a and b. `observers`: kinds
    of plain observers o0, o1, … added after them. `weights`: one weights dict
    per participant, in order. `changes`: {id: {field: value}}, None drops a field.
    """
    if isinstance(actors, int):
        out = [{"id": f"p{i}", "bloc": "ab"[i % 2]} for i in range(actors)]
    else:
        out = [dict(TOY_ACTORS[a]) if isinstance(a, str) else dict(a) for a in actors]
    out += [{"id": f"o{j}", "kind": kind} for j, kind in enumerate(observers)]
    participants = [a for a in out if a.get("kind", "participant") == "participant"]
    for actor, w in zip(participants, weights or ()):
        actor["weights"] = w
    for actor in out:
        for field, value in (changes or {}).get(actor["id"], {}).items():
            if value is None:
                actor.pop(field, None)
            else:
                actor[field] = value
    return out


def toy_data(
    actors=TOY_IDS,
    rules=("consensus",),
    *,
    observers=(),
    weights=None,
    changes=None,
    name="toy",
    proposal=TOY_PROPOSAL,
    horizon=None,
    **fields,
) -> dict:
    """A toy scenario as a scenario file's mapping; `rules` are rule dicts or bare rule names, `fields` any other section."""
    data = dict(fields, name=name, actors=toy_actors(actors, observers, weights, changes), proposal=dict(proposal))
    data["rules"] = [{"rule": r} if isinstance(r, str) else dict(r) for r in rules]
    if horizon is not None:
        data["calendar"] = dict(data.get("calendar", {}), horizon=horizon)
    unknown = set(data) - set(SCENARIO_FIELDS)
    assert not unknown, f"not scenario fields: {unknown}"
    return {k: data[k] for k in SCENARIO_FIELDS if k in data}


def make_toy_scenario(*args, **kw) -> Scenario:
    return Scenario.model_validate(toy_data(*args, **kw), strict=False)


def _flow(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9).strip()


def make_toy_yaml(*args, **kw) -> str:
    """The toy scenario as a file: a line per actor, rule and section (line numbers do not depend on the values)."""
    lines = []
    for key, value in toy_data(*args, **kw).items():
        if key in ("actors", "rules"):
            lines += [f"{key}:"] + [f"  - {_flow(item)}" for item in value]
        elif key in ("proposal", "calendar", "dynamics"):
            lines.append(f"{key}: {_flow(value)}")
        elif isinstance(value, (dict, list)):  # sources, sweep, record: block style, lists of numbers on one line
            lines += yaml.safe_dump({key: value}, default_flow_style=None, sort_keys=False, width=10**9).splitlines()
        else:
            lines.append(yaml.safe_dump({key: value}, sort_keys=False, width=10**9).strip())
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ rules with valid parameters


def default_rule(name: str):
    """An instance of RULES[name] with valid parameters, built from its fields alone.

    Defaults where the rule has them; a required weight is "w", a required
    whole number 1. Any other required field fails here, loudly: teach this
    function about it.
    """
    cls = RULES[name]
    params = {"rule": name}
    for field, info in cls.model_fields.items():
        if field == "rule" or not info.is_required():
            continue
        if info.annotation is str and "weight" in field:
            params[field] = "w"
        elif info.annotation is int:
            params[field] = 1
        else:
            raise AssertionError(f"rule {name!r}: no value for its required field {field!r} ({info.annotation}); add one here")
    return cls(**params)


# ------------------------------------------------------------------ a planted driver (kpsim robustness)


def write_planted(folder, supporters=()):
    """Consensus, noise 0.02 (the prior's least): a blocker at 0 objects to every text of the mandate [0.5, 1]; from about
    0.21 up it no longer does once the chair has amended to 0.5, and the text passes. `supporters` (actor dicts) are
    extra actors that decide nothing. Beside it, a posterior of one point at its own dynamics: no parameter swings."""
    import pandas as pd

    from kpsim.scenario.load import load_scenario
    from kpsim.scenario.prior import BOX

    actors = [{"id": "pro", "position": 1.0, "salience": 1.0}, {"id": "blocker", "position": 0.0, "salience": 0.9},
              *supporters, {"id": "bystander", "position": 0.5, "salience": 0.1}]
    p = folder / "planted.yaml"
    p.write_text(make_toy_yaml(
        actors=actors, rules=("consensus",), proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.5}, horizon=8,
        dynamics={"noise": 0.02, "reluctance": 0.05, "amendment_step": 0.5, "lobbying": 0.0},
    ))
    dyn = load_scenario(p).dynamics
    pd.DataFrame([{**{k: float(getattr(dyn, k)) for k in BOX}, "weight": 1.0}]).to_csv(folder / "posterior.csv", index=False)
    return p
