"""The browser view: step through one plenary process, then compare the rules (mesa, served by solara).

`kpsim app` serves `Page`. The sidebar chooses a scenario (bundled, or uploaded and checked as `kpsim validate`
checks it), one of its rules and a seed (its own by default); Reset applies them, Step holds one meeting (mesa's
ModelController). The first tab shows every actor's stance, bloc by bloc, and where the text stands; the second
compares every rule as `kpsim compare` does (the scenario's rules, seed and replications: the same summary) and
offers the summary (CSV), the survival chart (PNG) and the brief (kpsim.output.report).
"""

from __future__ import annotations

import html
import io
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import solara
import solara.lab
import traitlets
from ipyvuetify.extra import FileInput
from matplotlib.figure import Figure
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from kpsim.analysis.compare import compare
from kpsim.analysis.results import Results
from kpsim.analysis.summary import PCT, format_ci
from kpsim.cli.app import MAX_UPLOAD_BYTES, check_files
from kpsim.errors import InputError
from kpsim.model.plenary import PlenaryModel
from kpsim.output.charts import survival_chart
from kpsim.output.plenary import stance_figure, text_figure  # noqa: F401  (the page draws them; tests use them from here)
from kpsim.output.style import DPI, house_style
from kpsim.rules import ABSTAIN, OBJECT, STANCE_NAMES, SUPPORT
from kpsim.scenario.load import load_tree, validate_tree
from kpsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SCENARIO = "kp_definition_reform"
PLAY_INTERVAL_MS = 400  # ▶ holds a meeting every 0.4 s
MAX_REPS = 50_000  # per rule, typed in the page (a run cannot be stopped there); more with `kpsim compare --reps`
UPLOADED = " (uploaded)"  # an uploaded scenario's name in the list, apart from a bundled one of the same name

CSS = """
.v-application, .v-application .v-label, .v-application input, .v-application .v-select__selection,
.v-application .v-list-item__title { font-size: 16px !important; }
.v-application .v-tab, .v-application .v-btn { font-size: 15px; text-transform: none; letter-spacing: normal; }
.kpsim-decision, .kpsim-comparison { font-size: 17px; line-height: 1.55; }
.kpsim-help, .kpsim-notes, .kpsim-pending, .kpsim-errors { font-size: 15px; color: #444; word-break: break-word; }
.kpsim-pending { color: #B34700; } .kpsim-errors { color: #B00020; white-space: pre-wrap; }
.kpsim-table { overflow-x: auto; } table.kpsim-summary { border-collapse: collapse; font-size: 15px; margin: 0.6em 0 1em; }
table.kpsim-summary th, table.kpsim-summary td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #ddd; white-space: nowrap; }
table.kpsim-summary th { border-bottom: 2px solid #555; vertical-align: bottom; white-space: normal; } table.kpsim-summary td:first-child { font-weight: bold; }
"""


# ------------------------------------------------------------------ scenarios


@cache
def catalogue() -> dict[str, tuple[Scenario, str]]:
    """Every complete scenario under scenarios/, by name, with its file (relative to the repository); fragments are skipped."""
    out = {}
    for path in sorted(SCENARIO_DIR.rglob("*.yaml")):
        tree = load_tree(path)
        if {"name", "proposal", "rules"} <= set(tree):
            sc = validate_tree(tree)
            out[sc.name] = (sc, str(path.relative_to(ROOT)))
    return out


class PlenaryView(PlenaryModel):
    """One recorded replication from the sidebar's choices: a bundled scenario by name, or `spec` (an uploaded one).

    `seed` defaults to the scenario's own; a rule the scenario lacks falls back to its first (`rule_note` says so)."""

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, rule: str | None = None, seed: int | None = None,
                 spec: Scenario | None = None, source: str | None = None):
        # not `scenario`: mesa's Reset passes its own scenario object under that name
        base, source = (spec, source) if spec is not None else catalogue()[scenario_name]
        self.scenario_name, self.source, self.scenario_seed = scenario_name, source, base.seed
        self.bundled = spec is None  # a bundled file: its folder may hold the calibration's posterior
        sc = base.model_copy(update={"seed": base.seed if seed is None else int(seed)})
        labels = [r.label for r in sc.rules]
        rule = rule or labels[0]
        self.rule_note = "" if rule in labels else f"Rule {rule!r} is not in this scenario; showing {labels[0]!r}."
        super().__init__(sc, rule if rule in labels else labels[0], replications=1, record=True)


def choice_for(label: str, uploads: dict, rule: str | None = None) -> dict:
    """The keyword arguments of PlenaryView for scenario `label`: `rule` if it has one, else its first; its own seed."""
    spec, source = uploads[label] if label in uploads else catalogue()[label]
    labels = [r.label for r in spec.rules]
    out = {"scenario_name": label, "rule": rule if rule in labels else labels[0], "seed": spec.seed}
    return out | ({"spec": spec, "source": source} if label in uploads else {})


# ------------------------------------------------------------------ figures


def png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure in the house style, at screen resolution (or `dpi`)."""
    buf = io.BytesIO()
    with house_style():
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


# ------------------------------------------------------------------ panels


def plural(n: float, unit: str) -> str:
    return f"{n:g} {unit}" + ("" if n == 1 else "s")


def decision(model: PlenaryModel) -> list[str]:
    """The meeting counter and what the last meeting decided, as lines of HTML."""
    cal = model.spec.calendar
    p = model.n_participants
    e = html.escape
    lines = [
        f"<b>Meeting {model.meeting} of {cal.horizon}</b> ({plural(model.meeting / cal.meetings_per_year, 'year')})",
        f"Scenario <b>{e(model.spec.name)}</b>, seed {model.spec.seed}.",
        f"Rule <b>{e(model.rule.label)}</b>: {e(model.rule.summary)}.",
    ]
    if getattr(model, "rule_note", ""):
        lines.append(e(model.rule_note))
    if model.meeting == 0:
        return lines + ["Decision: none yet. The text is tabled at the proposal's position."]
    last = model.history[-1].stances[0, :p]
    tally = ", ".join(f"{int((last == k).sum())} {STANCE_NAMES[k]}" for k in (SUPPORT, ABSTAIN, OBJECT))
    objectors = e(", ".join(model.actor_ids[i] for i in np.flatnonzero(last == OBJECT)))
    if model.adopted[0]:
        verdict = f"<b>adopted</b> at meeting {model.meeting}" + (f"; outvoted: {objectors}" if objectors else ", nobody objecting")
    elif model.abandoned[0]:
        verdict = f"<b>abandoned</b> after {model.failures[0]} failed meetings (censored)"
    elif not model.running:
        verdict = f"<b>not adopted</b> within the horizon of {cal.horizon} meetings (censored)"
    else:
        verdict = "<b>not adopted</b>" + (f"; objected: {objectors}" if objectors else "")
    return lines + [
        f"Participants: {tally}.",
        f"Decision: {verdict}.",
        f"Text at {model.text[0]:.2f}: {float(model.surviving_share[0]):.0%} of the proposed change.",
    ]


def paragraph(lines: list[str], classes: str = "") -> None:
    """HTML, not solara.Markdown: Markdown pulls KaTeX from the CDN, which solara-assets does not ship. No lines, no element."""
    if lines:
        solara.HTML(tag="div", unsafe_innerHTML="<br>".join(lines), classes=[classes] if classes else [])


@solara.component
def PlenaryPanel(model: PlenaryModel):
    """The decision so far, the text's path, and every actor's stance; redrawn after each step."""
    update_counter.get()  # mesa's controller bumps it after Step and ▶
    with solara.Columns([2, 3]):
        paragraph(decision(model), "kpsim-decision")
        solara.Image(png(text_figure(model)), width="100%", classes=["kpsim-text"])
    solara.Image(png(stance_figure(model)), width="100%", classes=["kpsim-stances"])


# ------------------------------------------------------------------ the comparison


def comparison(spec: Scenario, reps: int | None = None, uncertainty: str | None = None, source: str | None = None) -> Results:
    """Every rule of `spec` on the same random draws, as `kpsim compare` runs it: its rules, its seed, its replications unless `reps`,
    its intervals unless `uncertainty` (a bundled file's `source`, relative to the repository, finds the posterior beside it).

    One process (results do not depend on the number of processes), so the
    server starts no workers of its own.
    """
    from kpsim.analysis.uncertainty import posterior_beside

    posterior = posterior_beside(ROOT / source) if source else None
    results = compare(spec, reps=reps, jobs=1, command="kpsim app", uncertainty=uncertainty, posterior=posterior, source=source)
    results.run_id = f"kpsim app, seed {results.scenario.seed}"
    return results


def compare_command(model: PlenaryView, reps: int | None = None, uncertainty: str | None = None) -> str:
    """The command line that gives the same summary as the app's comparison."""
    extra = f" --seed {model.spec.seed}" if model.spec.seed != model.scenario_seed else ""
    extra += f" --reps {reps}" if reps and reps != model.spec.replications else ""
    extra += f" --uncertainty {uncertainty}" if uncertainty and uncertainty != model.spec.uncertainty else ""
    return f"kpsim compare {model.source}{extra}"


INTERVALS = {
    "montecarlo": "Monte-Carlo error at the calibrated parameters and the nominal codings (the fastest)",
    "parameters": "the range over the draws (50, fewer with fewer replications) of the parameters from the calibration's posterior",
    "full": "the range over the draws (50, fewer with fewer replications) of the parameters (bundled KP cases: their posterior; "
            "an uploaded file has none, so they stay fixed) and of every coding written as a range (how sure the result is)",
}


# (heading, figure, low, high, format, shown when there is no figure); {h} is the horizon
SUMMARY_COLUMNS = [
    ("Adopted by meeting {h}", "adopted", "adopted_lo", "adopted_hi", PCT, "—"),
    ("Median deadlock (meetings)", "median_meetings", "median_lo", "median_hi", "{:g}", "not reached"),
    ("Mean deadlock ≤ {h} (meetings)", "mean_meetings", "mean_lo", "mean_hi", "{:.1f}", "—"),
    ("Median (years)", "median_years", "median_years_lo", "median_years_hi", "{:g}", "not reached"),
    ("Deadlocked at meeting {h}", "deadlocked_at_horizon", "deadlocked_lo", "deadlocked_hi", PCT, "—"),
    ("Text surviving", "surviving_share", "surviving_lo", "surviving_hi", PCT, "—"),
]


def summary_table(summary, horizon: int) -> tuple[list[str], list[list[str]]]:
    """The summary as the page shows it: headings and rows of text, 95% intervals in brackets.

    Read defensively: a figure the summary lacks is left out, an interval it lacks is not
    printed; the win-set label is shown where `kpsim compare` prints it.
    """
    cols = [c for c in SUMMARY_COLUMNS if c[1] in summary] + [  # and the withdrawn share: the shortest such name, as "withdrawn"
        ("Withdrawn", w, f"{w}_lo", f"{w}_hi", PCT, "—") for w in sorted(summary.columns, key=len) if "withdrawn" in w][:1]
    heads = ["Rule"] + [c[0].format(h=f"{horizon:,}") for c in cols]
    labelled = [c for c in ("win_set", "decided_by") if c in summary]
    heads += ["Win-set: result"] if labelled else []
    rows = []
    for r in summary.to_dict("records"):
        row = [str(r["rule"])]
        for _, value, lo, hi, fmt, nr in cols:
            v = r[value]
            if pd.isna(v):
                row.append(nr)
            elif lo in r or hi in r:
                row.append(format_ci(v, r.get(lo), r.get(hi), fmt, nr))
            else:
                row.append(fmt.format(v))
        if labelled:
            row.append(": ".join(str(r[c]) for c in labelled if not pd.isna(r[c])))
        rows.append(row)
    return heads, rows


def table_html(heads: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="kpsim-summary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def brief_files(results: Results) -> tuple[dict[str, bytes], list[str]]:
    """The brief that `kpsim report` writes (kpsim.output.report.write_brief) for these results: its files by name, or the errors."""
    # a heavy module, loaded when a brief is asked for
    from kpsim.output.report import write_brief

    with tempfile.TemporaryDirectory(prefix="kpsim-brief-") as tmp:
        try:
            write_brief(results, Path(tmp))
        except InputError as exc:
            return {}, exc.messages
        # the HTML and the PDF stand alone (the Markdown needs its charts/ folder)
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).glob("brief*")) if p.suffix in (".html", ".pdf")}, []


MIME = {".csv": "text/csv", ".png": "image/png", ".html": "text/html", ".pdf": "application/pdf"}


@solara.component
def Downloads(results: Results, chart: bytes):
    """The summary (CSV, as summary.csv of `kpsim compare`), the survival chart (PNG) and, on request, the brief."""
    name = results.scenario.name
    brief = solara.lab.use_task(lambda: (id(results), *brief_files(results)), dependencies=None, raise_error=False)
    done = brief.finished and brief.value[0] == id(results)
    files = {"summary.csv": solara.use_memo(lambda: results.summary.to_csv(index=False), [id(results)]), "survival_chart.png": chart}
    with solara.Row(classes=["kpsim-downloads"]):
        for file, data in (files | brief.value[1] if done else files).items():  # "Summary (CSV)", "Brief (PDF)", …
            stem, dot, ext = file.rpartition(".")
            solara.FileDownload(data, filename=f"{name}_{file}", label=f"{stem.replace('_', ' ').capitalize()} ({ext.upper()})",
                                mime_type=MIME.get(dot + ext, "application/octet-stream"))
        if not done or brief.value[2]:
            solara.Button("Make the brief", on_click=brief, disabled=brief.pending)
    if brief.pending:
        solara.ProgressLinear(True)
    paragraph([html.escape(m) for m in (brief.value[2] if done else [f"The brief failed: {brief.exception}"] if brief.error else [])], "kpsim-errors")


@solara.component
def ComparisonPanel(model: PlenaryView):
    """Runs on demand only, for the scenario and seed shown; the results of another choice are not shown."""
    reps, set_reps = solara.use_state(None)  # None: the scenario's
    mode, set_mode = solara.use_state(None)  # None: the scenario's
    n = reps or model.spec.replications
    shown = mode or model.spec.uncertainty
    key = (model.spec.model_dump_json(), n, shown)

    def run():
        try:
            results = comparison(model.spec, reps, shown, model.source if model.bundled else None)
            with house_style():
                chart = png(survival_chart(results), dpi=DPI)
            return key, results, chart, []
        except InputError as exc:
            return key, None, None, exc.messages

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)
    e = html.escape
    rules = len(model.spec.rules)
    paragraph([
        (f"Every rule of <b>{e(model.spec.name)}</b> ({plural(rules, 'rule')}), {n:,} replications each, seed {model.spec.seed}, "
         "all on the same random draws: how long does the deadlock last?"),
        f"The same numbers as <code>{e(compare_command(model, reps, shown))}</code>.",
        f"Intervals ({e(shown)}): {e(INTERVALS[shown])}.",
    ], "kpsim-comparison")
    with solara.Row():
        solara.Select("Intervals", values=list(INTERVALS), value=shown,
                      on_value=lambda v: set_mode(None if v == model.spec.uncertainty else v))
        solara.InputInt(f"Replications per rule (the scenario's: {model.spec.replications:,})", value=n,
                        on_value=lambda v: set_reps(None if not v or v == model.spec.replications else max(1, min(v, MAX_REPS))))
        solara.Button("Run comparison", color="primary", on_click=task, disabled=task.pending)
    if task.pending:
        paragraph([f"Running {plural(rules, 'rule')} × {n:,} replications…"], "kpsim-help")
        solara.ProgressLinear(True)
    if task.error:
        paragraph([e(f"The comparison failed: {task.exception}")], "kpsim-errors")
    _, results, chart, errors = task.value if task.finished and task.value[0] == key else (None, None, None, [])
    paragraph([e(m) for m in errors], "kpsim-errors")
    if results is None:
        return
    if "interval" in results.summary:  # what was actually run: draws, posterior or not (analysis.uncertainty.interval_label)
        paragraph([f"Intervals shown: {e(str(results.summary['interval'].iloc[0]))}."], "kpsim-help")
    solara.HTML(tag="div", unsafe_innerHTML=table_html(*summary_table(results.summary, results.scenario.calendar.horizon)), classes=["kpsim-table"])
    Downloads(results, chart)
    solara.Image(chart, width="100%", classes=["kpsim-survival"])


# ------------------------------------------------------------------ uploads


class ScenarioChooser(FileInput):
    """ipyvuetify's file input, labelled, its script exported as ipyvue expects (ipyvuetify writes `modules.export`)."""

    template = traitlets.Unicode(FileInput.class_traits()["template"].default_value.replace("modules.export =", "module.exports =")
                                 .replace("<v-file-input", '<v-file-input label="Choose scenario files (.yaml)"')).tag(sync=True)


@solara.component
def ScenarioUpload(on_files):
    """A file chooser (click, or drop files on it) for scenario files; `on_files({name: bytes})` runs in a thread."""
    info, set_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    chooser = ScenarioChooser.element(multiple=True, accept=".yaml,.yml", on_file_info=set_info, show_progress=False)

    def wire():
        if info:
            widget = solara.get_widget(chooser)
            widget.version += 1  # as solara.FileDrop does: a fresh read of the files chosen now
            widget.reset_stats()
            set_wired(widget.get_files())

    solara.use_effect(wire, [info])

    def read(cancel):
        if wired:
            on_files({f["name"]: f["file_obj"].read(MAX_UPLOAD_BYTES + 1) for f in wired})  # one byte more tells a file too big

    solara.use_thread(read, [wired])


# ------------------------------------------------------------------ the page


@solara.component
def Page():
    """The sidebar chooses and steps (mesa's ModelController, without the framework's own settings); two tabs show the rest."""
    solara.Title("kpsim")
    solara.Style(CSS)
    uploads = solara.use_reactive({})  # name in the list -> (scenario, file name), for this browser tab only
    choice = solara.use_reactive(solara.use_memo(lambda: choice_for(DEFAULT_SCENARIO, {}), []))
    model = solara.use_reactive(solara.use_memo(lambda: PlenaryView(**choice.value), []))
    upload_msgs = solara.use_reactive(([], []))  # errors, notes

    def pick(label: str):
        choice.set(choice_for(label, uploads.value, choice.value["rule"]))

    def uploaded(files: dict[str, bytes]):
        try:
            found, errors, notes = check_files(files, SCENARIO_DIR)
            if found:  # the first scenario found is shown at once
                added = {sc.name + UPLOADED: (sc, name) for name, sc in found}
                view = PlenaryView(**(first := choice_for(next(iter(added)), added)))
                uploads.set({**uploads.value, **added})
                choice.set(first)
                model.set(view)
                notes = [f"{name}: scenario {sc.name} ({plural(len(sc.rules), 'rule')}), shown now" for name, sc in found] + notes
        except Exception as exc:  # noqa: BLE001 — the page shows the problem (InputError: its messages), never a traceback
            errors, notes = getattr(exc, "messages", [f"cannot read the upload: {exc}"]), []
        upload_msgs.set((errors, notes))

    c, m = choice.value, model.value
    labels = list(catalogue()) + list(uploads.value)
    spec = (uploads.value.get(c["scenario_name"]) or catalogue()[c["scenario_name"]])[0]
    with solara.AppBar():
        solara.AppBarTitle("kpsim: one plenary process, meeting by meeting")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Scenario"):
            solara.Select("Scenario", values=labels, value=c["scenario_name"], on_value=pick)
            solara.Select("Rule", values=[r.label for r in spec.rules], value=c["rule"], on_value=lambda r: choice.set({**choice.value, "rule": r}))
            solara.InputInt(f"Seed (the scenario's: {spec.seed})", value=c["seed"],
                            on_value=lambda s: choice.set({**choice.value, "seed": spec.seed if s is None else max(0, s)}))
            ModelController(model, model_parameters=choice, play_interval=solara.use_reactive(PLAY_INTERVAL_MS),
                            render_interval=solara.use_reactive(1), use_threads=solara.use_reactive(False)).key(f"controller-{id(m)}")
            if (c["scenario_name"], c["rule"], c["seed"]) != (m.scenario_name, m.rule.label, m.spec.seed):
                paragraph([f"Press Reset to show {html.escape(c['scenario_name'])}, rule {html.escape(c['rule'])}, seed {c['seed']}."], "kpsim-pending")
            paragraph(["Reset applies the choices above; Step holds one meeting; ▶ holds meetings until a decision or the horizon."], "kpsim-help")
        with solara.Card("Your own scenario"):
            paragraph(["A scenario file, with any files it extends, checked as <code>kpsim validate</code> checks it."], "kpsim-help")
            ScenarioUpload(uploaded)
            paragraph([html.escape(x) for x in upload_msgs.value[0]], "kpsim-errors")
            paragraph([html.escape(x) for x in upload_msgs.value[1]], "kpsim-notes")
    with solara.lab.Tabs():
        with solara.lab.Tab("One plenary, meeting by meeting"):
            PlenaryPanel(m)
        with solara.lab.Tab("Compare the rules"):
            ComparisonPanel(m)
