"""Replications of every rule, in batches, on any `concurrent.futures.Executor`.

Replication i draws from the stream keyed by (seed, i) whatever batch or
worker runs it, so results are identical for any number of workers, and the
same replication under two rules sees the same draws (paired comparisons).
"""

from __future__ import annotations

import ctypes
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from kpsim.errors import InputError
from kpsim.fields import MAX_REPLICATIONS, PARTICIPANT
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import OBJECT
from kpsim.run.pool import completed, process_pool
from kpsim.scenario.schema import Scenario

MAX_BATCH = 5_000


def batch_size(replications: int, jobs: int) -> int:
    """Big enough to amortise each meeting's fixed cost, small enough to keep every worker busy.

    Results do not depend on it: each replication's draws are keyed by its own index.
    Measured here: 5,000 is as fast as 20,000 on the null model and 1.5× faster on the KP
    scenarios, whose larger batches outgrow the CPU cache.
    """
    return int(min(MAX_BATCH, max(1_000, -(-replications // (4 * jobs)))))


@dataclass
class Batch:
    """One batch's per-replication outcomes and per-actor blocker tallies, already in the runs table's compact form.

    Objectors and exits come as (distinct strings, each row's index into them): a
    batch is a few bytes per replication to pickle back and hold, not one stance per actor.
    """

    rule: str
    start: int
    adopted: np.ndarray
    abandoned: np.ndarray
    meetings: np.ndarray
    final_position: np.ndarray
    surviving_share: np.ndarray
    n_objectors: np.ndarray
    objectors: tuple[list[str], np.ndarray]
    objections: np.ndarray
    pivotal: np.ndarray
    failed_decisions: int
    withdrawn: np.ndarray
    exits: tuple[list[str], np.ndarray] | None  # 'csc@2;gw@5' per row, where some observer has patience


BYTES_PER_ROW = 200  # peak memory per replication and rule of the whole command (runs table, tables, CSV, charts): 195 measured from 10⁵ to 10⁶ replications of the KP definition reform (benchmarks/bench_scale.py)


def available_memory() -> int:
    """Bytes the system can still give (MemAvailable), or a large number where /proc is missing."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def check_memory(replications: int, rules: int) -> None:
    """Refuse, before any work, a run whose per-replication tables cannot fit in memory."""
    if replications > MAX_REPLICATIONS:
        raise InputError(f"replications = {replications:,} — at most {MAX_REPLICATIONS:,} per rule")
    need = replications * rules * BYTES_PER_ROW
    have = available_memory()
    if need > have:
        raise InputError(
            f"{replications:,} replications × {rules} rules need about {need / 2**30:,.1f} GiB for their tables; "
            f"{have / 2**30:,.1f} GiB is free — use fewer replications or rules (kpsim sweep stores big runs in parts)"
        )


def actor_ids(scenario: Scenario) -> list[str]:
    """The model's column order: participants first."""
    return [a.id for a in sorted(scenario.actors, key=lambda a: a.kind != PARTICIPANT)]


def simulate_batch(scenario: Scenario, rule: str, start: int, stop: int) -> Batch:
    """Run replications [start, stop) of one rule to the end."""
    m = PlenaryModel(scenario, rule, np.arange(start, stop), record=False).run()
    ids = m.actor_ids  # participants first, as actor_ids(scenario)
    voting = scenario.rule(rule).voter_kinds()  # the scenario's rule: an event may have replaced the model's
    voters = np.array([k in voting for k in m.kinds], dtype=bool)
    objecting = (m.stances == OBJECT) & voters  # observers' objections count only where they vote
    return Batch(
        rule=rule,
        start=start,
        adopted=m.adopted,
        abandoned=m.abandoned,
        meetings=m.meetings,
        final_position=m.text,
        surviving_share=m.surviving_share,
        n_objectors=objecting.sum(axis=1),
        objectors=_objector_lists(objecting, ids),
        objections=m.objections,
        pivotal=m.pivotal,
        failed_decisions=m.failed_decisions,
        withdrawn=m.withdrawn,
        exits=None if m.exit_meeting is None else _exit_lists(m.exit_meeting, ids),
    )


def run(
    scenario: Scenario,
    rules: list[str] | None = None,
    replications: int | None = None,
    jobs: int = 1,
    executor: Executor | None = None,
    progress: bool = True,
    first: int = 0,
    batch: int | None = None,
    years: bool = True,
    start_here: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run `replications` of each rule, numbered from `first` (a sweep runs a big point in parts); fail fast if any batch fails.

    Returns the raw tables: runs (one row per replication and rule) and blockers
    (one row per actor and rule). `batch` replications advance in lockstep
    (default: batch_size). `years=False` leaves out the `years` column (meetings /
    meetings per year, 8 bytes a row): Results.write derives it when it writes runs.csv.
    With jobs > 1 and no `executor`, batches run on `jobs` worker processes, and in this
    one while they start; with an `executor`, on its workers (and here while they start, if `start_here`).
    """
    rules = rules or [r.label for r in scenario.rules]
    for r in rules:
        scenario.rule(r)  # unknown names are input errors, raised before any work
    n = replications or scenario.replications
    check_memory(n, len(rules))
    size = batch or batch_size(n, jobs)
    tasks = [(r, a, min(a + size, first + n)) for r in rules for a in range(first, first + n, size)]
    own = executor is None and jobs > 1 and len(tasks) > 1
    if own:
        executor, start_here = process_pool(jobs), True
    table = _Table(scenario, rules, first, n)
    bar = tqdm(total=n * len(rules), unit="rep", desc=scenario.name, disable=not progress, leave=False)
    try:
        # a few batches in flight per worker: every worker busy, memory and Ctrl-C bounded by a few batches
        for _, b in completed(simulate_batch, [(scenario, *t) for t in tasks], executor, start_here, window=2 * max(jobs, 1)):
            table.add(b)  # into the preallocated columns: the batch is freed at once
            bar.update(len(b.adopted))
    finally:
        bar.close()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return table.frames(years)


def concat_runs(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Runs tables of consecutive replication ranges (the draws of --uncertainty), given in that order, as one: rule by rule, replications in order.

    What pd.concat and a sort by (rule, replication) give, without their two copies
    of the table: columns are moved one at a time (each is dropped from `parts`
    once copied), so the peak is the table once and a column. Categorical columns
    keep one sorted set of categories (pd.concat turns differing ones into text).
    """
    rules = list(parts[0]["rule"].cat.categories)
    # each part holds each rule's rows together, in the rules' order (as _Table writes them)
    bounds = [np.searchsorted(p["rule"].cat.codes.to_numpy(), np.arange(len(rules) + 1)) for p in parts]
    pieces = [(i, b[r], b[r + 1]) for r in range(len(rules)) for i, b in enumerate(bounds)]
    n = sum(len(p) for p in parts)
    out = {}
    for col in list(parts[0].columns):
        categorical = isinstance(parts[0][col].dtype, pd.CategoricalDtype)
        if categorical:
            own = [(p[col].cat.categories, p[col].cat.codes.to_numpy()) for p in parts]
            categories = rules if col == "rule" else sorted(set().union(*(c for c, _ in own)))
            at = {c: i for i, c in enumerate(categories)}
            values = [_recoded(codes, [at[c] for c in cats], len(categories)) for cats, codes in own]  # into the joint categories
            del own
        else:
            values = [p[col].to_numpy() for p in parts]
        column = np.empty(n, np.result_type(*values))
        at = 0
        for i, a, b in pieces:
            column[at : at + b - a] = values[i][a:b]
            at += b - a
        out[col] = pd.Categorical.from_codes(column, categories=categories) if categorical else column
        del values
        for p in parts:
            del p[col]
        release_freed_memory()
    return pd.DataFrame(out, copy=False)


def _recoded(codes: np.ndarray, lookup: list[int], size: int) -> np.ndarray:
    """Codes into one set of categories as codes into another of `size` categories, by a lookup (−1, missing, stays −1)."""
    dtype = np.int8 if size < 2**7 else np.int16 if size < 2**15 else np.int32  # as pandas codes that many categories
    return np.array(lookup + [-1], dtype=dtype)[codes]  # −1 takes the table's last entry


def release_freed_memory() -> None:
    """Give freed memory back to the system now: glibc keeps the heap's freed pages for reuse, so the draws' columns, once moved, would still count."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _small_int(limit: int):
    """The narrowest integer type holding 0…limit: a 10⁶-replication table is 8 million rows."""
    return np.int16 if limit < 2**15 else np.int32 if limit < 2**31 else np.int64


class _Table:
    """The runs table (rule by rule, replications in order) filled batch by batch as they arrive, and the blockers tallies.

    Columns are preallocated in their final, compact types (integers as narrow as
    their range, rule/objectors/exits categorical) and the frame is built on them
    without copies, so peak memory is the table itself: about 40 bytes a row.
    """

    def __init__(self, scenario: Scenario, rules: list[str], first: int, n: int):
        self.scenario, self.rules, self.first, self.n = scenario, rules, first, n
        rows = n * len(rules)
        horizon = scenario.calendar.horizon
        self.cols = {
            "adopted": np.zeros(rows, bool),
            "abandoned": np.zeros(rows, bool),
            "meetings": np.zeros(rows, _small_int(horizon)),
            "final_position": np.zeros(rows),
            "surviving_share": np.zeros(rows),
            "n_objectors": np.zeros(rows, _small_int(len(scenario.actors))),
            "objectors": np.zeros(rows, np.int32),
            "withdrawn": np.zeros(rows, bool),
            "exits": np.zeros(rows, np.int32),
        }
        self.names = {"objectors": {}, "exits": {}}  # category → code, in order of arrival (sorted at the end)
        self.has_exits = False
        self.tallies = {r: [0, 0, 0] for r in rules}  # failed decisions, objections, pivotal

    def add(self, b: Batch) -> None:
        at = self.rules.index(b.rule) * self.n + b.start - self.first
        rows = slice(at, at + len(b.adopted))
        c = self.cols
        for name in ("adopted", "abandoned", "meetings", "final_position", "n_objectors", "withdrawn"):
            c[name][rows] = getattr(b, name)
        c["surviving_share"][rows] = np.where(b.adopted, b.surviving_share, np.nan)
        for name, value in (("objectors", b.objectors), ("exits", b.exits)):
            if value is not None:
                strings, codes = value
                known = self.names[name]
                c[name][rows] = np.array([known.setdefault(s, len(known)) for s in strings], dtype=np.int32)[codes]
        self.has_exits |= b.exits is not None
        t = self.tallies[b.rule]
        t[0] += b.failed_decisions
        t[1] = t[1] + b.objections
        t[2] = t[2] + b.pivotal

    def _categorical(self, name: str) -> pd.Categorical:
        """Categories sorted, so the table is the same whatever order the batches arrived in; "" always among them (fillna(""))."""
        known = self.names[name]
        order = sorted(set(known) | {""})
        at = {s: i for i, s in enumerate(order)}
        remap = np.zeros(max(len(known), 1), dtype=np.int32)
        remap[list(known.values())] = [at[s] for s in known]
        codes = self.cols[name]
        remap.take(codes, out=codes, mode="clip")  # in place: no second copy of the column (every code is in range)
        return pd.Categorical.from_codes(codes, categories=order)

    def frames(self, years: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The runs and blockers tables (once: the categorical columns are recoded in place)."""
        scenario, n, c = self.scenario, self.n, self.cols
        rules = pd.Categorical.from_codes(np.repeat(np.arange(len(self.rules), dtype=_small_int(len(self.rules))), n), categories=self.rules)
        replication = np.tile(np.arange(self.first, self.first + n, dtype=np.int32 if self.first + n < 2**31 else np.int64), len(self.rules))
        runs = {
            "rule": rules,
            "replication": replication,
            "adopted": c["adopted"],
            "abandoned": c["abandoned"],
            "censored": ~c["adopted"],
            "meetings": c["meetings"],
            **({"years": c["meetings"] / scenario.calendar.meetings_per_year} if years else {}),
            "final_position": c["final_position"],
            "surviving_share": c["surviving_share"],
            "n_objectors": c["n_objectors"],
            "objectors": self._categorical("objectors"),
        }
        if any(e.withdraw for e in getattr(scenario, "events", None) or ()):
            runs["withdrawn"] = c["withdrawn"]
        if self.has_exits:
            runs["exits"] = self._categorical("exits")
        ids = actor_ids(scenario)
        kinds = {a.id: a.kind for a in scenario.actors}
        blocs = {a.id: a.bloc or "" for a in scenario.actors}
        k = len(ids)
        columns = {name: [] for name in ("failed_decisions", "objections", "objection_rate", "pivotal", "pivotal_rate")}
        for rule in self.rules:  # one frame for every rule, not one per rule and pd.concat: pandas' cost is per frame
            failed, objections, pivotal = self.tallies[rule]
            for name, value in (("failed_decisions", failed), ("objections", objections), ("pivotal", pivotal)):
                columns[name].append(np.broadcast_to(np.asarray(value, dtype=np.int64), k))
            for name, value in (("objection_rate", objections), ("pivotal_rate", pivotal)):
                columns[name].append(np.broadcast_to(value / failed if failed else np.nan, k).astype(float))
        blockers = pd.DataFrame(
            {
                "rule": [rule for rule in self.rules for _ in ids],
                "actor": ids * len(self.rules),
                "kind": [kinds[i] for i in ids] * len(self.rules),
                "bloc": [blocs[i] for i in ids] * len(self.rules),
                **{name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in columns.items()},
            }
        )
        return pd.DataFrame(runs, copy=False), blockers


def _objector_lists(mask: np.ndarray, ids: list[str]) -> tuple[list[str], np.ndarray]:
    """'a;b;c' per row, as distinct strings and each row's index: many rows share a pattern, so each is joined once."""
    if mask.shape[1] == 0:
        return [""], np.zeros(len(mask), dtype=np.intp)
    packed = np.packbits(mask, axis=1)
    patterns, inverse = np.unique(packed, axis=0, return_inverse=True)
    named = np.array(ids, dtype=object)
    names = [";".join(named[row].tolist()) for row in np.unpackbits(patterns, axis=1)[:, : len(ids)].astype(bool)]
    return names, inverse.ravel()


def _exit_lists(exit_meeting: np.ndarray, ids: list[str]) -> tuple[list[str], np.ndarray]:
    """'csc@2;gw@5' per row: who walked out, at which meeting ('' if nobody did); as distinct strings and each row's index."""
    out = np.full(len(exit_meeting), "", dtype=object)
    for j in np.flatnonzero(exit_meeting.any(axis=0)):
        left = exit_meeting[:, j] > 0
        tag = np.char.add(f"{ids[j]}@", exit_meeting[left, j].astype(str)).astype(object)
        out[left] = np.where(out[left] == "", tag, out[left] + ";" + tag)
    codes, names = pd.factorize(out)
    return list(names), codes
