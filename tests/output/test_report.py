"""The brief for a plenary: built from a results folder alone, in HTML, a one-page PDF and Markdown, in English or French.

It must say it plainly: a headline of at most 25 words that never names the best rule without the simplest
alternative, plain rule labels derived from each rule's class and parameters (identifiers only in tables),
withdrawals as their own outcome, structural results said, only the assumptions that apply, what the intervals
cover, sources as numbered publishers, and no "(1 years)".
"""

import dataclasses
import re
import shutil
from fractions import Fraction

import pandas as pd
import pypdf
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from kpsim.analysis.results import Results
from kpsim.analysis.thresholds import threshold_scenario
from kpsim.cli.outputs import report
from kpsim.output.i18n import WORDS, language, rule_labels, rule_words
from kpsim.output.report import (
    A4,
    MAX_WORDS,
    build,
    compose_pdf,
    headline,
    headline_rules,
    word_count,
)
from kpsim.output.slides import survival_panel, years_panel
from kpsim.rules import (
    RULES,
    Chambers,
    ConsensusMinusK,
    QualifiedMajority,
    SimpleMajority,
    WeightedMajority,
    WrittenProcedure,
)
from kpsim.scenario.load import load_scenario
from tests.conftest import ROOT, make_results
from tests.toys import TOY_SOURCES, default_rule

GOVERNMENTS_AT_TWO_THIRDS = [
    {"name": "governments", "kinds": ["participant"], "q": "2/3"},
    {"name": "industry", "kinds": ["industry"]},
    {"name": "civil_society", "kinds": ["civil_society"]},
]
# five participants, an industry and a civil-society observer; a custom chambers rule with governments at 2/3
BRIEF_TOY = {
    "actors": ("a", "b", "c", "d", "e", "wdc", "csc"),
    "rules": [
        {"rule": "consensus"},
        {"rule": "qualified_majority", "q": "2/3", "name": "two_thirds"},
        {"rule": "simple_majority"},
        {"rule": "consensus_minus_k", "k": 1, "name": "consensus_minus_1"},
        {"rule": "chambers", "name": "tripartite_two_thirds", "chambers": GOVERNMENTS_AT_TWO_THIRDS},
    ],
    "name": "brief_toy",
    "description": "Five participants, an industry and a civil-society observer.",
    "sources": TOY_SOURCES,
    "horizon": 10,
    "dynamics": {"noise": 0.3},
    "replications": 120,
    "seed": 3,
}
IDENTIFIERS = ("two_thirds", "simple_majority", "consensus_minus_1", "tripartite_two_thirds")


def compare_folder(tmp, toy_yaml, **toy) -> "Path":  # noqa: F821
    (tmp / "toy.yaml").write_text(toy_yaml(**toy))
    out = tmp / "run"
    from kpsim.cli import main

    res = CliRunner().invoke(main, ["compare", str(tmp / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q", "--no-charts"])
    assert res.exit_code == 0, res.output
    (tmp / "toy.yaml").unlink()  # the brief must need nothing but the results folder
    return out


def written_by(command, tmp, toy_yaml):
    """A results folder of the brief's toy, with `command` (report or slides) run on it in English and French."""
    out = compare_folder(tmp, toy_yaml, **BRIEF_TOY)
    for lang in ("en", "fr"):
        res = CliRunner().invoke(command, [str(out), "--lang", lang])
        assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory, toy_yaml):
    return written_by(report, tmp_path_factory.mktemp("brief"), toy_yaml)


@pytest.fixture(scope="module")
def results(folder):
    return Results.read(folder)


def words(text: str) -> int:
    """Tokens between spaces holding a letter or digit: "45 %" is one word, a French " ; " none."""
    return len([t for t in text.split() if re.search(r"\w", t)])


# ------------------------------------------------------------------ the files


def test_report_writes_html_a_one_page_pdf_and_markdown_from_the_folder_alone(folder, results):
    line = headline(results)
    page = (folder / "brief.html").read_text()
    assert line in page and '<html lang="en">' in page and page.count("<svg") == 3
    md = (folder / "brief.md").read_text()
    assert f"**{line}**" in md and "](charts/brief_years.png)" in md and "`two_thirds`" in md
    for name in ("brief_years.png", "brief_blockers.png", "brief_survival.png"):
        assert (folder / "charts" / name).stat().st_size > 5_000
    pdf = pypdf.PdfReader(folder / "brief.pdf")
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((A4[0] * 72, A4[1] * 72), abs=0.5)
    text = " ".join(pdf.pages[0].extract_text().split())
    for part in ("Summary", "Assumptions", "Rules compared", "Sources", "Two-thirds majority", "Monte-Carlo"):
        assert part in text, part
    assert not [p for p in folder.rglob("*.tmp")]


def test_the_command_prints_the_headline(folder, results):
    res = CliRunner().invoke(report, [str(folder)])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == headline(results)


def test_report_on_a_moved_copy(folder, tmp_path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(folder, copy)
    (copy / "brief.pdf").unlink()
    assert CliRunner().invoke(report, [str(copy)]).exit_code == 0
    assert (copy / "brief.pdf").stat().st_size > 10_000


def test_report_on_something_that_is_not_a_results_folder(tmp_path):
    res = CliRunner().invoke(report, [str(tmp_path)])
    assert res.exit_code == 2 and "missing runs.csv" in res.output and "Traceback" not in res.output


def test_an_unknown_language_is_exit_2_with_the_allowed_list(folder):
    before = sorted(p.name for p in folder.iterdir())
    res = CliRunner().invoke(report, [str(folder), "--lang", "de"])
    assert res.exit_code == 2 and "allowed: en, fr" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in folder.iterdir()) == before


# ------------------------------------------------------------------ the headline


def test_the_headline_is_at_most_25_plain_words(results):
    for lang in ("en", "fr"):
        line = headline(results, language(lang))
        assert words(line) <= MAX_WORDS and word_count(line) <= MAX_WORDS, line
        assert not any(name in line for name in IDENTIFIERS), line
    pattern = r"Under consensus, the proposal is adopted in about [\d.]+ years?; under a simple majority, it is adopted in about [\d.]+ years?\."
    assert re.fullmatch(pattern, headline(results)), headline(results)


def test_the_best_rule_is_never_named_without_the_simplest_alternative(results):
    """Make tripartite chambers the fastest: the headline must still name the simple majority."""
    s = results.summary.copy()
    s.loc[s["rule"] == "tripartite_two_thirds", "mean_meetings"] = 0.5
    fast = dataclasses.replace(results, summary=s)
    assert headline_rules(fast) == ["consensus", "tripartite_two_thirds", "simple_majority"]
    line = headline(fast)
    assert "tripartite chambers" in line.lower() and "simple majority" in line.lower() and words(line) <= MAX_WORDS


def _with(results, rule, **values):
    s = results.summary.copy()
    for k, v in values.items():
        s.loc[s["rule"] == rule, k] = v
    return dataclasses.replace(results, summary=s)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_word_budget_holds_whatever_the_outcomes(results, lang):
    """Every combination of outcomes for the three headline rules (adopted at once, after a while, in a share
    only, never; withdrawn or not; the same or different results) stays within 25 words."""
    nan = float("nan")
    kinds = {
        "first": dict(adopted=1.0, median_meetings=1.0, median_years=0.5),
        "later": dict(adopted=0.9, median_meetings=27.0, median_years=13.5),
        "share": dict(adopted=0.38, median_meetings=nan, median_years=nan),
        "never": dict(adopted=0.0, median_meetings=nan, median_years=nan),
    }
    lang = language(lang)
    for base in kinds:
        for best in kinds:
            for simple in kinds:
                for withdrawn in (0.0, 0.45):
                    r = _with(results, "consensus", **kinds[base], mean_meetings=9.0, withdrawn=withdrawn)
                    r = _with(r, "tripartite_two_thirds", **kinds[best], mean_meetings=0.5, withdrawn=withdrawn)
                    r = _with(r, "simple_majority", **kinds[simple], mean_meetings=2.0, withdrawn=0.0)
                    line = headline(r, lang)
                    assert word_count(line) <= MAX_WORDS and words(line) <= MAX_WORDS, line
                    assert not line.endswith("…"), line
                    if withdrawn:
                        assert lang._("withdrawn") in line, line


@pytest.fixture(scope="module")
def withdrawals(tmp_path_factory, toy_yaml):
    """Consensus and two-thirds, with the proposal withdrawn at meeting 3: a withdrawal event."""
    toy = BRIEF_TOY | {"rules": BRIEF_TOY["rules"][:2], "events": [{"at": 3, "withdraw": True}], "name": "withdrawn_toy"}
    return Results.read(compare_folder(tmp_path_factory.mktemp("withdrawn"), toy_yaml, **toy))


def test_withdrawals_are_their_own_outcome(withdrawals):
    withdrawn = withdrawals.runs.groupby("rule")["withdrawn"].mean()
    assert withdrawn["consensus"] > 0.05  # the toy's consensus rarely passes in two meetings
    line = headline(withdrawals)
    assert re.search(r"\(withdrawn in \d+%\)", line) and words(line) <= MAX_WORDS, line
    brief = build(withdrawals)
    assert any(p.startswith("Withdrawn or abandoned before adoption") for p in brief.points)
    assert "Withdrawn" in brief.table.columns
    assert build(withdrawals, "fr").headline.count("retirée") >= 1


# ------------------------------------------------------------------ rules in plain words


def test_plain_labels_in_the_prose_identifiers_only_in_the_table(folder, results):
    brief = build(results)
    labels = brief.table["Rule"].tolist()
    assert labels == ["Consensus", "Two-thirds majority", "Simple majority", "Consensus minus 1", "Tripartite chambers, governments by two-thirds"]
    assert brief.table["Name in files"].tolist() == results.rules
    for sentence in brief.prose():
        assert not any(name in sentence for name in IDENTIFIERS), sentence
    page = (folder / "brief.html").read_text()
    outside = re.sub(r"<table>.*?</table>|<footer>.*?</footer>|<svg.*?</svg>", "", page, flags=re.S)
    assert "Two-thirds majority" in outside and not any(name in outside for name in IDENTIFIERS)


def test_a_custom_chambers_rule_is_described_with_its_own_thresholds():
    en, fr = language("en"), language("fr")
    default = Chambers(rule="chambers", name="tripartite")
    custom = Chambers(rule="chambers", name="tripartite_two_thirds", chambers=GOVERNMENTS_AT_TWO_THIRDS)
    assert rule_words(default, en).label == "Tripartite chambers"
    words_ = rule_words(custom, en)
    assert words_.label == "Tripartite chambers, governments by two-thirds"
    assert "governments: at least 2/3" in words_.detail and "industry, civil society: at least 1/2" in words_.detail
    assert rule_words(custom, fr).label == "Chambres tripartites, gouvernements aux deux tiers"
    strict = Chambers(rule="chambers", chambers=[{"name": "governments", "kinds": ["participant"], "q": "1/2", "ties": "fail"},
                                                  {"name": "industry", "kinds": ["industry"]}])
    assert rule_words(strict, en).label == "2 chambers (governments, industry), governments by more than half"


@pytest.mark.parametrize(
    "rule, en, fr",
    [
        (QualifiedMajority(rule="qualified_majority", q="3/4"), "Three-quarters majority", "Majorité des trois quarts"),
        (QualifiedMajority(rule="qualified_majority", q="3/4", ties="fail"), "Majority of more than three-quarters", "Majorité de plus des trois quarts"),
        (QualifiedMajority(rule="qualified_majority", q="7/12"), "Majority of at least 7/12", "Majorité d'au moins 7/12"),
        (QualifiedMajority(rule="qualified_majority", q="1/2", ties="fail"), "Simple majority", "Majorité simple"),
        (QualifiedMajority(rule="qualified_majority", q="1"), "Unanimity of those taking a side", "Unanimité des participants qui se prononcent"),
        (SimpleMajority(rule="simple_majority", ties="pass"), "Majority of at least half", "Majorité d'au moins la moitié"),
        (WeightedMajority(rule="weighted_majority", weight="production", q="2/3"), "Production-weighted two-thirds majority",
         "Majorité des deux tiers pondérée (production)"),
        (WeightedMajority(rule="weighted_majority", weight="trade"), "Trade-weighted majority", "Majorité pondérée (commerce)"),
        (ConsensusMinusK(rule="consensus_minus_k", k=3), "Consensus minus 3", "Consensus moins 3"),
        (WrittenProcedure(rule="written_procedure", min_support=17), "Written procedure, 17 replies needed", "Procédure écrite, 17 réponses requises"),
    ],
)
def test_labels_follow_the_rule_class_and_its_parameters(rule, en, fr):
    assert rule_words(rule, language("en")).label == en
    assert rule_words(rule, language("fr")).label == fr


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_registered_rule_has_plain_words(name):
    """Adding a rule to kpsim.rules needs its words in kpsim.output.i18n.WORDS (and their French)."""
    assert name in WORDS, f"rule {name!r} has no entry in kpsim.output.i18n.WORDS"
    rule = default_rule(name)
    for lang in ("en", "fr"):
        w = rule_words(rule, language(lang))
        assert w.label and w.prose and w.detail and "_" not in w.label + w.prose + w.detail, w


def test_the_same_rule_twice_gets_numbered_labels():
    twice = [QualifiedMajority(rule="qualified_majority", name="a"), QualifiedMajority(rule="qualified_majority", name="b")]
    assert [w.label for w in rule_labels(twice, language("en")).values()] == ["Two-thirds majority", "Two-thirds majority (2)"]


# ------------------------------------------------------------------ what else it says


def test_structural_results_are_said(results):
    assert "Result" in build(results).table.columns
    s = results.summary.copy()
    s["win_set"], s["decided_by"] = "passable", "dynamic"
    s.loc[s["rule"] == "consensus", ["win_set", "decided_by"]] = ["empty", "structural"]
    points = build(dataclasses.replace(results, summary=s)).points
    assert any(p.startswith("Structural: under consensus, no text within the mandate passes") for p in points), points
    assert "Dynamic: under every other rule, the result depends on chance" in " ".join(points)
    older = dataclasses.replace(results, summary=results.summary.drop(columns=["win_set", "decided_by"]))
    brief = build(older)
    assert "Result" not in brief.table.columns and not any(p.startswith(("Structural", "Dynamic")) for p in brief.points)


def test_only_the_assumptions_that_apply(results, censored_results):
    agents = " ".join(build(results).assumptions)
    assert "stance noise 0.3" in agents and "probability" not in agents
    null = " ".join(build(censored_results(60)).assumptions)
    assert "Null model: each participant supports with probability 0.5" in null and "noise" not in null and "lobby" not in null


def test_what_the_intervals_cover_is_said(results):
    brief = build(results)
    assert brief.uncertainty in brief.points
    assert "Monte-Carlo" in brief.uncertainty and "do not include the uncertainty of those parameters or codings" in brief.uncertainty


def test_sources_are_a_short_numbered_list_of_publishers(folder, results):
    many = [f"https://www.nationaljeweler.com/articles/{i}" for i in range(3)] + ["http://m.state.gov/md184294.htm", *TOY_SOURCES]
    brief = build(dataclasses.replace(results, scenario=results.scenario.model_copy(update={"sources": many})))
    assert [s.publisher for s in brief.sources] == ["National Jeweler", "U.S. Department of State", "Kimberley Process", 'kp_record.md, section "Alignments"']
    assert brief.sources[0].urls == many[:3]
    md = brief.prose()
    assert "National Jeweler (3 pages)" in md and not any("(1 pages)" in x for x in md)
    page = (folder / "brief.html").read_text()
    assert '<ol class="sources"><li>Kimberley Process <a href="https://www.kimberleyprocess.com/en/kpcs-core-document">[1]</a></li>' in page


def test_no_plural_slips(folder, censored_results):
    en, fr = language("en"), language("fr")
    assert (en.years(1), en.years(13.5), en.meetings(1)) == ("1 year", "13.5 years", "1 meeting")
    assert (fr.years(13.5), fr.years(1.5), fr.years(20)) == ("13,5 ans", "1,5 an", "20 ans")
    texts = [(folder / f).read_text() for f in ("brief.html", "brief.md", "brief.fr.html", "brief.fr.md")]
    texts += [" ".join(build(censored_results(60), lang).prose()) for lang in ("en", "fr")]
    for text in texts:
        assert not re.search(r"\b1 (years|meetings|ans|réunions)\b", text)


# ------------------------------------------------------------------ the charts


@pytest.fixture(scope="module")
def never(censored_results):
    """Sixty coin flips for 30 meetings: simple majority passes at once; 9/10 and unanimity never."""
    base = load_scenario(ROOT / "scenarios" / "null_model.yaml")
    short = base.model_copy(update={"calendar": base.calendar.model_copy(update={"horizon": 30})})
    return make_results(threshold_scenario(short, [Fraction(9, 10), 1]), 60, {"command": "test"}, "never")


def _texts(draw, results):
    fig = Figure(figsize=(12, 6.75), layout="constrained")
    ax = fig.add_subplot()
    draw(ax, results, build(results))
    legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    return legend, [t.get_text() for t in ax.texts], [t.get_text() for t in ax.get_yticklabels()]


def test_curves_that_lie_on_each_other_are_labelled_as_a_group(never):
    legend, _, _ = _texts(survival_panel, never)
    assert len(legend) == 2, legend
    assert legend[0] == "Simple majority"
    assert legend[1].startswith("2 rules: never adopted\n")
    assert legend[1].split("\n", 1)[1].replace("\n", " ") == "Majority of at least 9/10, Unanimity of those taking a side"


def test_the_years_chart_draws_not_reached_as_such(never):
    _, texts, ticks = _texts(years_panel, never)
    assert texts.count("not reached in 15 years") == 2, texts
    assert ticks[0] == "Simple majority" and "q=1" not in " ".join(ticks)


# ------------------------------------------------------------------ French


def test_the_french_brief_is_written_beside_the_english_one(folder):
    page = (folder / "brief.fr.html").read_text()
    assert '<html lang="fr">' in page
    for text in ("que changerait une autre règle de décision", "Hypothèses", "Règles comparées", "Majorité des deux tiers",
                 "Chambres tripartites, gouvernements aux deux tiers", "Nom dans les fichiers", "Monte-Carlo à 95"):
        assert text in page, text
    assert "Two-thirds majority" not in page and "Assumptions" not in page
    assert re.search(r"\d,\d", page)  # decimal commas
    md = (folder / "brief.fr.md").read_text()
    assert "## Sources" in md and "](charts/brief_years.fr.png)" in md and (folder / "charts" / "brief_years.fr.png").is_file()
    pdf = pypdf.PdfReader(folder / "brief.fr.pdf")
    assert len(pdf.pages) == 1 and "Hypothèses" in pdf.pages[0].extract_text()
    assert (folder / "brief.html").is_file() and "Assumptions" in (folder / "brief.html").read_text()


# ------------------------------------------------------------------ the page never overflows


def test_a_long_source_list_is_set_smaller_or_cut_but_never_overflows(censored_results):
    results = censored_results(200)
    many = [f"Report number {i} of a rather wordy ministry, chapter {i}, annex on the plenary" for i in range(300)]
    long = Results(results.scenario.model_copy(update={"sources": many}), results.runs, results.summary, results.blockers, {}, "long")
    fig = compose_pdf(build(long), long)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_text())]
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1 and box.x1 <= page.x1 + 1, t.get_text()[:60]
    body = " ".join(t.get_text() for t in texts)
    assert "more in scenario.yaml" in body and "Report number 0 of" in body


def test_the_table_is_the_summary(results):
    table = build(results).table
    assert isinstance(table, pd.DataFrame) and len(table) == len(results.rules)
    assert re.fullmatch(r"[<>]?\d+(\.\d)?% \[[<>]?\d+(\.\d)?%, [<>]?\d+(\.\d)?%\]", table.loc[0, "Adopted within 5 years"])


@pytest.mark.parametrize("meta,en_words", [
    ({}, "Monte-Carlo intervals over"),
    ({"uncertainty": "parameters", "draws": 50, "replications_per_draw": 40, "posterior": "p.csv"}, "over 50 draws of the model's parameters from"),
    ({"uncertainty": "full", "draws": 50, "replications_per_draw": 40, "posterior": "p.csv"}, "and of the coded positions, saliences and red lines"),
    ({"uncertainty": "full", "draws": 20, "replications_per_draw": 10, "posterior": None}, "parameters are held fixed"),
    # full with a posterior but no coding written as a range: only the parameters were drawn, and it says so
    ({"uncertainty": "full", "draws": 50, "replications_per_draw": 40, "posterior": "p.csv", "codings": 0},
     "they do not include the uncertainty of the coded positions"),
])
def test_the_brief_says_which_intervals_it_shows(results, meta, en_words):
    from kpsim.output.report import uncertainty

    shown = dataclasses.replace(results)  # a copy: the module's fixture stays as it was
    shown.meta = {**results.meta, "uncertainty": "montecarlo", **meta}
    en, fr = uncertainty(shown, language("en")), uncertainty(shown, language("fr"))
    assert en_words in en
    assert fr != en and "Les intervalles" in fr  # translated, not passed through
