"""A sweep's folder: chunks written whole as they come back, so a killed sweep resumes.

    sweep.json                   what the sweep is (a fingerprint of scenario, points, seed,
                                 replications and kpsim version), its chunking, the command
    scenario.yaml                the merged scenario, with its sweep section
    points.csv                   one row per point: its parameter values
    runs/part-NNNNNN.parquet     one row per replication of chunk N (some points, one rule;
                                 or part of one point's replications)
    summary/part-NNNNNN.parquet  one row per (point, rule) of chunk N; it marks chunk N done
                                 (a part of a point: no rows, but the part that completes
                                 the point holds the point's row)
    summary.csv                  every summary row with its point's values, once all are done
    meta.json                    written last: the sweep is complete

Every file is written under a temporary name and renamed (os.replace), the
runs part before the summary part. A kill at any moment therefore leaves each
chunk either done (both parts) or not done (run again on resume, replacing
any runs part it had left): no replication is lost or counted twice, and the
folder never claims to be complete before it is.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from kpsim.atomic import check_free, write_bytes, write_text
from kpsim.errors import InputError
from kpsim.run.provenance import run_meta, write_meta
from kpsim.scenario.load import scenario_yaml
from kpsim.version import __version__

FORMAT = 1
MANIFEST = "sweep.json"


@dataclass(frozen=True)
class Chunk:
    """Points [first, stop) under one rule, replications [rep_first, rep_stop) of each: one task, one pair of files.

    A chunk holds every replication of its points or, where a point has more
    replications than one chunk should hold, one part of one point.
    """

    index: int
    group: int  # the points [first, stop): every rule, every part
    rule: str
    first: int
    stop: int
    rep_first: int
    rep_stop: int


def fingerprint(plan) -> str:
    """Equal exactly when two runs would compute the same numbers."""
    key = {
        "kpsim": __version__,
        "scenario": scenario_yaml(plan.base),
        "parameters": plan.names,
        "points": plan.points,
    }
    if plan.draws:  # only then: a montecarlo sweep's fingerprint stays what it was
        key |= {"uncertainty": plan.uncertainty, "draws": plan.draws, "codings": plan.codings}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Encoded where the chunk ran: the worker pays for it, and less crosses the wire."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


class SweepFolder:
    """The folder of one sweep: what is done, writing a chunk, reading the tables."""

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = {"parts_per_point": 1, **manifest}  # folders written before parts existed: 1
        self._chunks = None
        self.rules: list[str] = manifest["rules"]
        self.started = time.time()
        self._done = {int(p.stem.removeprefix("part-")) for p in (self.path / "summary").glob("part-*.parquet")}

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path, plan, points_per_chunk: int, parts_per_point: int = 1, force: bool = False, command: str = "") -> "SweepFolder":
        """Resume the sweep held in `path` (in its own chunking), or start it there; a different sweep there is an input error.

        A chunk holds `points_per_chunk` points, or (with `parts_per_point` > 1)
        one of that many parts of one point's replications.
        """
        path = Path(path)
        if force:
            check_free(path, force, ours=(MANIFEST, "meta.json"))
            shutil.rmtree(path, ignore_errors=True)
        manifest = cls._read_manifest(path) if (path / MANIFEST).is_file() else None
        fp = fingerprint(plan)
        if manifest is None:
            if path.exists() and any(path.iterdir()):
                raise InputError(f"{path}: folder exists, is not empty and holds no sweep — choose another --out or pass --force")
            manifest = cls._new_manifest(plan, fp, points_per_chunk, parts_per_point, command)
            path.mkdir(parents=True, exist_ok=True)
            write_text(path / MANIFEST, json.dumps(manifest, indent=2) + "\n")  # first: the folder is ours from now on
        elif manifest.get("fingerprint") != fp:
            raise InputError(
                f"{path}: holds a different sweep ({_difference(manifest, plan)}) — "
                "choose another --out, or pass --force to discard it and start again"
            )
        for sub in ("runs", "summary"):
            (path / sub).mkdir(exist_ok=True)
            for stale in (path / sub).glob(".*.tmp"):
                stale.unlink()
        spec = plan.base.model_copy(update={"sweep": plan.spec})
        write_text(path / "scenario.yaml", scenario_yaml(spec))
        write_text(path / "points.csv", plan.table().to_csv(index=False))
        return cls(path, manifest)

    @classmethod
    def load(cls, path: Path) -> "SweepFolder":
        """An existing sweep folder, to read (complete or not)."""
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise InputError(f"{path}: not a sweep folder (no {MANIFEST}) — give a folder written by `kpsim sweep`")
        return cls(path, cls._read_manifest(path))

    @staticmethod
    def _read_manifest(path: Path) -> dict:
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{path / MANIFEST}: cannot read ({exc}) — pass --force to start the sweep again") from None
        if manifest.get("format") != FORMAT:
            raise InputError(f"{path / MANIFEST}: format {manifest.get('format')!r}, this kpsim reads format {FORMAT}")
        return manifest

    @staticmethod
    def _new_manifest(plan, fp: str, per: int, parts: int, command: str) -> dict:
        n = len(plan.points)
        return {
            "format": FORMAT,
            "fingerprint": fp,
            "scenario": plan.base.name,
            "scenario_file": plan.source,
            "seed": plan.base.seed,
            "replications": plan.replications,
            "uncertainty": plan.uncertainty,
            "draws": len(plan.draws),
            "horizon": plan.base.calendar.horizon,
            "rules": plan.rules,
            "parameters": plan.names,
            "points": n,
            "points_per_chunk": per,
            "parts_per_point": parts,
            "chunks": math.ceil(n / per) * len(plan.rules) * parts,
            "kpsim_version": __version__,
            "command": command,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    # ------------------------------------------------------------ progress

    def chunks(self) -> list[Chunk]:
        if self._chunks is None:
            n, per, reps, k = (self.manifest[key] for key in ("points", "points_per_chunk", "replications", "parts_per_point"))
            size = -(-reps // k)
            self._chunks = []
            for g, first in enumerate(range(0, n, per)):
                for rule in self.rules:
                    for a in range(0, reps, size):
                        self._chunks.append(Chunk(len(self._chunks), g, rule, first, min(first + per, n), a, min(a + size, reps)))
        return self._chunks

    @property
    def _per_group(self) -> int:
        """Chunks per group of points: one per rule and part."""
        return len(self.rules) * self.manifest["parts_per_point"]

    def parts_of(self, chunk: Chunk) -> list[Chunk]:
        """Every part of `chunk`'s point under its rule (`chunk` among them)."""
        k = self.manifest["parts_per_point"]
        at = chunk.group * self._per_group + self.rules.index(chunk.rule) * k
        return self.chunks()[at : at + k]

    def _file(self, sub: str, chunk: Chunk) -> Path:
        return self.path / sub / f"part-{chunk.index:06d}.parquet"

    def chunk_runs(self, chunk: Chunk, columns: list[str]) -> pd.DataFrame:
        """The rows of a chunk that is done, read back."""
        return pd.read_parquet(self._file("runs", chunk), columns=columns)

    def todo(self) -> list[Chunk]:
        return [c for c in self.chunks() if c.index not in self._done]

    def is_done(self, chunk: Chunk) -> bool:
        return chunk.index in self._done

    def _group_done(self, group: int) -> bool:
        k = self._per_group
        return all(i in self._done for i in range(group * k, (group + 1) * k))

    def points_done(self) -> int:
        return sum(c.stop - c.first for c in self.chunks()[:: self._per_group] if self._group_done(c.group))

    @property
    def complete(self) -> bool:
        return (self.path / "meta.json").is_file()

    def status(self) -> str:
        total = self.manifest["chunks"]
        if self.complete:
            return "complete"
        return f"incomplete: {len(self._done)} of {total} chunks done — run the same `kpsim sweep` command again to resume"

    # ------------------------------------------------------------ writing

    def write(self, chunk: Chunk, runs: bytes, summary: bytes) -> int:
        """Write one chunk (runs first, then the summary that marks it done); returns the points it completed."""
        write_bytes(self._file("runs", chunk), runs)
        write_bytes(self._file("summary", chunk), summary)
        self._done.add(chunk.index)
        return chunk.stop - chunk.first if self._group_done(chunk.group) else 0

    def finish(self, plan, workers: int, command: str) -> None:
        """Once every chunk is done: the joined summary.csv, then meta.json (the sweep is complete)."""
        if self.complete or self.todo():
            return
        table = plan.table().merge(self.summary_parts(), on="point", how="right")
        write_text(self.path / "summary.csv", table.to_csv(index=False))
        meta = run_meta(plan.base, self.rules, workers, self.started, plan.source, command)
        write_meta(self.path / "meta.json", meta)

    # ------------------------------------------------------------ reading

    def _parts(self, sub: str, columns=None) -> pd.DataFrame:
        files = sorted((self.path / sub).glob("part-*.parquet"))
        if sub == "runs":  # a runs part without its summary part is a chunk that did not finish
            files = [f for f in files if int(f.stem.removeprefix("part-")) in self._done]
        if not files:
            return pd.DataFrame(columns=columns)
        frame = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
        order = pd.Categorical(frame["rule"], categories=self.rules, ordered=True)
        keys = ["point", "_rule"] + (["replication"] if "replication" in frame else [])
        return frame.assign(_rule=order).sort_values(keys, kind="stable").drop(columns="_rule").reset_index(drop=True)

    def summary_parts(self) -> pd.DataFrame:
        """One row per (point, rule) done so far, in point then rule order."""
        return self._parts("summary")

    def runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every replication done so far, in (point, rule, replication) order: for analysis, whole in memory."""
        if columns is not None:
            columns = list(dict.fromkeys(["point", "rule", "replication", *columns]))
        return self._parts("runs", columns)

    def points(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "points.csv")

    def summary(self) -> pd.DataFrame:
        """summary.csv when complete; otherwise what is done so far, joined with the points' values."""
        if self.complete:
            return pd.read_csv(self.path / "summary.csv")
        parts = self.summary_parts()
        return parts if parts.empty else self.points().merge(parts, on="point", how="right")


def _difference(manifest: dict, plan) -> str:
    for key, now in (
        ("scenario", plan.base.name),
        ("seed", plan.base.seed),
        ("replications", plan.replications),
        ("rules", plan.rules),
        ("parameters", plan.names),
        ("points", len(plan.points)),
        ("kpsim_version", __version__),
    ):
        if manifest.get(key) != now:
            return f"{key} {manifest.get(key)!r} there, {now!r} now"
    return "the scenario or the points' values changed"
