"""Scenario discovery: the boxes of inputs in which a rule's verdict flips, found by PRIM over a joint sample.

The inputs are those `kpsim robustness` swings one at a time (kpsim.sweep.robustness), drawn
here jointly: a Latin hypercube over their ranges, every point run on the same seed. At each
point a rule *passes* when it adopts within the horizon in at least half of the replications;
a point *flips* the verdict when it passes and the baseline does not, or the other way round.

PRIM (Friedman & Fisher 1999, as used for scenario discovery by Bryant & Lempert 2010) peels
the box of all inputs, 5% of its points at a time, towards where the flips are dense; the
implementation is ema_workbench's (`ema_workbench.analysis.prim`, imported only here and only
when boxes are wanted: it loads the whole workbench, 5–10 s). Of each peeling trajectory the
box kept is the one that covers most flips among those in which at least DENSITY of the points
flip (the densest when none reaches it). Over dozens of inputs and a few hundred points PRIM
also peels inputs that do nothing, so the kept box's restrictions whose quasi-p value exceeds
QP_MAX are then dropped, the least significant first, as long as the box stays DENSITY dense.
The box's points are set aside and PRIM looks for the next box, up to MAX_BOXES, while boxes
stay reliable. For each box:

- coverage: the share of all the flips found that fall inside it;
- density: the share of the points inside it that flip;
- mass: the share of all points inside it;
- per restricted input (most significant first), its limits and Bryant & Lempert's quasi-p
  value (a one-sided binomial test: could the restriction be dropped without lowering the
  density? a large qp says it could — the restriction is probably noise);
- reliable: at least DENSITY dense and at least one restriction with qp ≤ QP_MAX (or none at
  all: the verdict flips almost anywhere). A box that is not reliable is reported as the best
  PRIM found, and the search stops there.

A point's verdict is itself an estimate (its share adopted is a Monte-Carlo mean over the
replications): a point within Monte-Carlo error of 50% may be counted on the wrong side. Boxes
are found on a few hundred points over dozens of inputs: read a restriction with a large qp
value as noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.errors import InputError

VERDICT = 0.5  # adopted within the horizon in at least this share: the rule passes (as in the tornado)
DENSITY = 0.8  # a box is kept when at least this share of its points flip the verdict
MASS_MIN = 0.05  # ema_workbench's default: a box holds at least 5% of the points
PEEL_ALPHA = 0.05  # ema_workbench's default: each peel removes 5% of the box's points
MAX_BOXES = 3
QP_MAX = 0.05  # a kept box's restriction with a larger quasi-p value is dropped (Bryant & Lempert 2010)
COLUMNS = ["rule", "samples", "adopted_base", "passes", "flipped", "box", "reliable", "coverage", "density", "mass", "n",
           "input", "kind", "base_value", "range_low", "range_high", "box_low", "box_high", "qp"]


@dataclass(frozen=True)
class Limit:
    """One restricted input of a box: the box keeps [low, high] of the sampled range [range_low, range_high]."""

    input: str
    low: float
    high: float
    range_low: float
    range_high: float
    qp: float  # the larger of the quasi-p values of its restricted sides

    @property
    def cut(self) -> float:
        """The share of the input's range the box leaves out."""
        span = self.range_high - self.range_low
        return 1 - (self.high - self.low) / span if span > 0 else 0.0


@dataclass(frozen=True)
class Box:
    rank: int  # 1: found first
    coverage: float
    density: float
    mass: float
    n: int  # points inside it
    reliable: bool  # density >= DENSITY, and at least one restriction significant (qp <= QP_MAX), or none at all
    limits: list[Limit]  # the restricted inputs, the most restricted first; none: anywhere in the ranges
    trajectory: pd.DataFrame = field(repr=False)  # coverage, density, mass, res_dim at each step of the peeling and pasting
    chosen: int = 0  # the step kept


@dataclass(frozen=True)
class Discovery:
    """One rule's scenario discovery over a joint sample."""

    rule: str
    samples: int
    adopted_base: float
    flipped: int  # points whose verdict differs from the baseline's
    boxes: list[Box]

    @property
    def passes(self) -> bool:
        return self.adopted_base >= VERDICT


def flips(adopted: np.ndarray, adopted_base: float) -> np.ndarray:
    """Per point: does its verdict differ from the baseline's?"""
    return (np.asarray(adopted, float) >= VERDICT) != (adopted_base >= VERDICT)


MISSING = "PRIM needs ema-workbench: python3 -m pip install -e '.[robustness]' (or --samples 0: the tornado only)"


def require_prim() -> None:
    """Say at once, before any sweep runs, when ema_workbench is not installed (finding it imports nothing)."""
    import importlib.util

    if importlib.util.find_spec("ema_workbench") is None:
        raise InputError(MISSING)


def load_prim():
    """ema_workbench's PRIM module (its import takes 5–10 s: it loads the whole workbench), its import-time warnings
    (optional extras it does not have here) silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise InputError(MISSING) from None
    return prim


def find_boxes(x: pd.DataFrame, y: np.ndarray, ranges: dict[str, tuple[float, float]] | None = None, max_boxes: int = MAX_BOXES,
               density: float = DENSITY) -> list[Box]:
    """PRIM's boxes of the inputs `x` (one column per input, one row per point) where `y` (bool per point) holds;
    `ranges`: each input's sampled range (default: from its least to its greatest value in `x`)."""
    y = np.asarray(y, dtype=int)
    if not y.any():
        return []
    prim = load_prim()
    x = x.reset_index(drop=True).astype(float)
    extremes = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}  # PRIM's first box: a limit there restricts nothing
    ranges = {c: tuple(map(float, ranges[c])) for c in x.columns} if ranges else extremes
    boxes: list[Box] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings from inside ema_workbench
        p = prim.Prim(x, y, peel_alpha=PEEL_ALPHA, mass_min=MASS_MIN)
        while len(boxes) < max_boxes:
            box = p.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].astype(float).reset_index(drop=True)
            dense = traj.index[traj["density"] >= density - 1e-12]
            if len(dense):  # the most coverage among the dense enough; ties: denser, then fewer restrictions
                i = int(traj.loc[dense].sort_values(["coverage", "density", "res_dim"], ascending=[False, False, True], kind="stable").index[0])
            elif boxes:
                break  # no further box dense enough
            else:
                i = int(traj["density"].to_numpy().argmax())
            box.select(i)
            if traj.loc[i, "density"] >= density - 1e-12:
                i = _drop_noise(box, i, extremes, density)
            traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].astype(float).reset_index(drop=True)
            found = _box(len(boxes) + 1, box, i, traj, extremes, ranges, density)
            if boxes and not found.reliable:
                break  # the first box is reported even when it is not reliable (it says how far PRIM got); later ones are not
            boxes.append(found)
            if not found.reliable:
                break
    return boxes


def _qp(box, i: int, extremes: dict) -> dict[str, float]:
    """The quasi-p value of each input box i restricts: the larger of its restricted sides'."""
    out = {}
    lims = box.box_lims[i]
    for c, (lo, hi) in extremes.items():
        if float(lims.loc[0, c]) > lo or float(lims.loc[1, c]) < hi:
            sides = [v for v in box.p_values[i].get(c, []) if v is not None and v >= 0]
            out[c] = float(max(sides)) if sides else float("nan")
    return out


def _drop_noise(box, i: int, extremes: dict, density: float) -> int:
    """Drop the restrictions whose quasi-p value exceeds QP_MAX (Bryant & Lempert 2010), the least significant first,
    as long as the box stays at least `density` dense: in many dimensions PRIM also peels inputs that do nothing.
    Returns the step kept."""
    tried = set()
    while True:
        qp = {c: v for c, v in _qp(box, i, extremes).items() if v > QP_MAX and c not in tried}
        if not qp:
            return i
        worst = max(qp, key=qp.get)
        tried.add(worst)
        box.drop_restriction(worst, i)  # a new step on the trajectory, with the restriction gone, selected
        if box.peeling_trajectory["density"].iloc[-1] >= density - 1e-12:
            i = len(box.box_lims) - 1
        else:
            box.select(i)  # too sparse without it: keep it (its qp says how far to trust it)


def _box(rank: int, box, i: int, traj: pd.DataFrame, extremes: dict, ranges: dict, density: float) -> Box:
    lims = box.box_lims[i]
    limits = []
    for c, qp in _qp(box, i, extremes).items():
        (lo, hi), (r_lo, r_hi) = extremes[c], ranges.get(c, extremes[c])
        low, high = float(lims.loc[0, c]), float(lims.loc[1, c])
        limits.append(Limit(c, low if low > lo else r_lo, high if high < hi else r_hi, r_lo, r_hi, qp))
    limits.sort(key=lambda lim: (lim.qp if lim.qp == lim.qp else 1.0, -lim.cut))
    row = traj.loc[i]
    significant = not limits or limits[0].qp <= QP_MAX  # a box restricting only noise is no finding
    return Box(rank, float(row["coverage"]), float(row["density"]), float(row["mass"]), int(row["n"]),
               bool(row["density"] >= density - 1e-12 and significant), limits, traj, i)


def discover(x: pd.DataFrame, adopted: pd.DataFrame, baseline: dict[str, float], rules: list[str],
             ranges: dict[str, tuple[float, float]] | None = None) -> list[Discovery]:
    """Per rule: its baseline, how many points flip it and PRIM's boxes; `adopted` holds one column per rule, a row per point of `x`."""
    out = []
    for rule in rules:
        y = flips(adopted[rule].to_numpy(), baseline[rule])
        out.append(Discovery(rule, len(x), float(baseline[rule]), int(y.sum()), find_boxes(x, y, ranges)))
    return out


# ---------------------------------------------------------------- tables, text, JSON


def table(found: list[Discovery], inputs: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """prim.csv: one row per rule, box and restricted input (`inputs`: path -> (kind, value in the scenario)); a rule
    without a box has one row with an empty box, a box restricting nothing one row with an empty input."""
    rows = []
    for d in found:
        head = {"rule": d.rule, "samples": d.samples, "adopted_base": d.adopted_base, "passes": d.passes, "flipped": d.flipped}
        if not d.boxes:
            rows.append(head)
        for b in d.boxes:
            stats = {**head, "box": b.rank, "reliable": b.reliable, "coverage": b.coverage, "density": b.density, "mass": b.mass, "n": b.n}
            if not b.limits:
                rows.append(stats)
            for lim in b.limits:
                kind, base = inputs.get(lim.input, ("", float("nan")))
                rows.append({**stats, "input": lim.input, "kind": kind, "base_value": base, "range_low": lim.range_low,
                             "range_high": lim.range_high, "box_low": lim.low, "box_high": lim.high, "qp": lim.qp})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"box": "Int64", "n": "Int64", "samples": int, "flipped": int})


def condition(name: str, low: float, high: float, range_low: float, range_high: float) -> str:
    """'x ≥ a', 'x ≤ b' or 'a ≤ x ≤ b', as the box restricts it."""
    up, down = low > range_low, high < range_high
    if up and down:
        return f"{low:.3g} ≤ {name} ≤ {high:.3g}"
    return f"{name} ≥ {low:.3g}" if up else f"{name} ≤ {high:.3g}"


def _boxes_of(g: pd.DataFrame) -> list[tuple[pd.Series, pd.DataFrame]]:
    return [(rows.iloc[0], rows[rows["input"].notna() & (rows["input"] != "")]) for _, rows in g.dropna(subset=["box"]).groupby("box", sort=True)]


def _unreliable(box) -> str | None:
    """Why a box (a prim.csv row) is not a finding: None (it is), "sparse" (under DENSITY flips in it) or "chance"
    (dense enough, but no restriction significant: it could be chance)."""
    if box.reliable:
        return None
    return "chance" if box.density >= DENSITY - 1e-12 else "sparse"


def format_prim(frame: pd.DataFrame, top: int) -> str:
    """Per rule: how many joint samples flip the verdict, then each box (ranked as found) and its limits, most restricted first."""
    pct = "{:.0%}".format
    blocks = []
    for rule, g in frame.groupby("rule", sort=False):
        r = g.iloc[0]
        verdict = "passes" if r.passes else "does not pass"
        lines = [f"{rule}: {int(r.flipped)} of {int(r.samples)} joint samples flip the verdict ({verdict} at the baseline)"]
        for b, lims in _boxes_of(g):
            mark = {None: "", "chance": f" — dense enough, but no restriction is significant (qp ≤ {QP_MAX:g}): not a reliable box",
                    "sparse": f" — no box reaches {pct(DENSITY)} flips; the densest"}[_unreliable(b)]
            lines.append(f"  box {int(b.box)}: coverage {pct(b.coverage)}, density {pct(b.density)}, {pct(b.mass)} of the samples{mark}")
            if lims.empty:
                lines.append("    anywhere in the ranges")
            for lim in lims.head(top).itertuples(index=False):
                qp = "" if lim.qp != lim.qp else f"   qp {lim.qp:.2g}"
                lines.append(f"    {condition(lim.input, lim.box_low, lim.box_high, lim.range_low, lim.range_high):<52} "
                             f"of {lim.range_low:.3g}–{lim.range_high:.3g}, coded {lim.base_value:.3g}{qp}")
            if len(lims) > top:
                lines.append(f"    … and {len(lims) - top} more restrictions (prim.csv)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def records(frame: pd.DataFrame) -> dict[str, dict]:
    """The JSON shape, per rule: {"samples", "flipped", "boxes": [{"box", "coverage", "density", "mass", "reliable", "limits": [...]}]}."""
    out = {}
    for rule, g in frame.groupby("rule", sort=False):
        r = g.iloc[0]
        boxes = [{"box": int(b.box), "coverage": float(b.coverage), "density": float(b.density), "mass": float(b.mass), "reliable": bool(b.reliable),
                  "limits": [{"input": lim.input, "kind": lim.kind, "low": float(lim.box_low), "high": float(lim.box_high),
                              "range": [float(lim.range_low), float(lim.range_high)], "coded": float(lim.base_value),
                              "qp": None if lim.qp != lim.qp else float(lim.qp)} for lim in lims.itertuples(index=False)]}
                 for b, lims in _boxes_of(g)]
        out[rule] = {"samples": int(r.samples), "flipped": int(r.flipped), "boxes": boxes}
    return out


def read_prim(folder: Path) -> pd.DataFrame:
    """OUT/prim.csv of a `kpsim robustness` folder."""
    path = Path(folder) / "prim.csv"
    if not path.is_file():
        raise InputError(f"{folder}: no prim.csv — give a folder written by `kpsim robustness` with --samples above 0")
    frame = pd.read_csv(path)
    missing = set(COLUMNS) - set(frame)
    if missing:
        raise InputError(f"{path}:1: not a PRIM table (missing {', '.join(sorted(missing))})")
    return frame


class _English:
    """The few methods of kpsim.output.i18n.Lang that prim_lines uses, in plain English (no catalogue)."""

    def _(self, message: str, **values) -> str:
        return message.format(**values)

    def num(self, x: float, digits: int = 1) -> str:
        return f"{round(float(x), digits):g}"

    def pct(self, x: float) -> str:
        return f"{x:.0%}"


def prim_lines(folder: Path | None, labels: dict[str, str] | None = None, rules: list[str] | None = None, lang=None) -> list[str]:
    """What would change the result, as PRIM's first box says it: one plain sentence per rule (of `rules`, default all)
    from a `kpsim robustness` folder; [] without a folder or without prim.csv in it. Only the restrictions with
    qp <= QP_MAX are named. `lang`: a kpsim.output.i18n.Lang (its `_`, `num`, `pct`); default plain English."""
    if folder is None or not (Path(folder) / "prim.csv").is_file():
        return []
    frame = read_prim(folder)
    labels, lang = labels or {}, lang or _English()
    out = []
    for rule in rules if rules is not None else list(dict.fromkeys(frame["rule"])):
        g = frame[frame["rule"] == rule]
        if g.empty:
            continue
        r = g.iloc[0]
        values = {"rule": labels.get(rule, rule), "n": int(r.samples), "k": int(r.flipped)}
        if not values["k"]:
            out.append(lang._("Drawn jointly ({n} combinations over the same ranges), no combination of the codings and parameters flips "
                              "the verdict under {rule}.", **values))
            continue
        b, lims = _boxes_of(g)[0]
        values |= {"density": lang.pct(b.density), "coverage": lang.pct(b.coverage)}
        significant = lims[lims["qp"] <= QP_MAX]
        if _unreliable(b) == "chance":
            out.append(lang._("Drawn jointly, {k} of {n} combinations of the codings and parameters flip the verdict under {rule}; in the "
                              "region where they gather, {density} of the combinations flip it, but none of that region's limits stands "
                              "out from chance, so it is not a reliable finding.", **values))
        elif _unreliable(b) == "sparse":
            out.append(lang._("Drawn jointly, {k} of {n} combinations of the codings and parameters flip the verdict under {rule}, but no "
                              "region of them does so reliably (at best {density} of the combinations in it).", **values))
        elif lims.empty:
            out.append(lang._("Drawn jointly, {k} of {n} combinations of the codings and parameters flip the verdict under {rule}: it flips "
                              "almost anywhere in their ranges.", **values))
        else:
            values["where"] = lang._(" and ").join(_plain(lim, lang) for lim in significant.itertuples(index=False))
            weaker = len(lims) - len(significant)
            values["more"] = lang._("; with {m} weaker restrictions", m=weaker) if weaker else ""
            out.append(lang._("Drawn jointly, the verdict under {rule} flips in {density} of the combinations where {where} — {coverage} of "
                              "the {k} flips found in {n} combinations{more}.", **values))
    return out


def _plain(lim, lang) -> str:
    up, down = lim.box_low > lim.range_low, lim.box_high < lim.range_high
    def num(x: float) -> str:  # two significant digits, at least two decimals
        return lang.num(x, max(2, 1 - math.floor(math.log10(abs(x)))) if x else 2)

    v = {"name": lim.input.removeprefix("actors.").removeprefix("dynamics."), "low": num(lim.box_low), "high": num(lim.box_high),
         "coded": num(lim.base_value)}
    if up and down:
        return lang._("{name} is between {low} and {high} (coded {coded})", **v)
    return lang._("{name} is at least {low} (coded {coded})", **v) if up else lang._("{name} is at most {high} (coded {coded})", **v)
