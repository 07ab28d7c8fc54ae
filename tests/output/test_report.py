"""The one-page brief: built from a results folder alone, in HTML and in a PDF of exactly one page that never overflows."""

import shutil

import pypdf
import pytest
from click.testing import CliRunner

from kpsim.analysis.results import Results
from kpsim.cli import main
from kpsim.output.report import A4, build, compose_pdf, headline
from tests.toys import TOY_SOURCES

# four participants and an industry observer, under consensus and two thirds
BRIEF_TOY = {
    "actors": ("a", "b", "c", "d", "wdc"),
    "rules": [{"rule": "consensus"}, {"rule": "qualified_majority", "q": "2/3", "name": "two_thirds"}],
    "name": "brief_toy",
    "description": "Four participants and an industry observer.",
    "sources": TOY_SOURCES,
    "changes": {"d": {"bloc": None}},
    "horizon": 10,
    "dynamics": {"noise": 0.3},
    "replications": 120,
    "seed": 3,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, toy_yaml):
    tmp = tmp_path_factory.mktemp("brief")
    (tmp / "toy.yaml").write_text(toy_yaml(**BRIEF_TOY))
    out = tmp / "run"
    res = CliRunner().invoke(main, ["compare", str(tmp / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q", "--no-charts"])
    assert res.exit_code == 0, res.output
    (tmp / "toy.yaml").unlink()  # the brief must need nothing but the results folder
    return out


def test_report_builds_html_and_a_one_page_pdf_from_the_folder_alone(folder):
    res = CliRunner().invoke(main, ["report", str(folder)])
    assert res.exit_code == 0, res.output
    results = Results.read(folder)
    line = headline(results)
    assert line.startswith("Under a two-thirds majority the median deadlock would be") and "under consensus" in line
    assert line in res.output
    page = (folder / "brief.html").read_text()
    for text in (line, "Median deadlock (meetings)", "two_thirds", "consensus", "kimberleyprocess.com", "seed 3", "<svg"):
        assert text.replace('"', "&quot;") in page or text in page, text
    pdf = pypdf.PdfReader(folder / "brief.pdf")
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((A4[0] * 72, A4[1] * 72), abs=0.5)
    words = " ".join(pdf.pages[0].extract_text().split())
    for text in ("Under a two-thirds majority", "Summary", "Assumptions", "Sources", "two_thirds", "120 replications per rule"):
        assert text in words, text
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_report_on_a_moved_copy(folder, tmp_path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(folder, copy)
    (copy / "brief.pdf").unlink(missing_ok=True)
    assert CliRunner().invoke(main, ["report", str(copy)]).exit_code == 0
    assert (copy / "brief.pdf").stat().st_size > 10_000


@pytest.fixture(scope="module")
def censored(censored_results):
    return censored_results(200)


def test_headline_says_not_reached_under_heavy_censoring(censored):
    line = headline(censored)  # unanimity of 60 coin flips: never within 30 meetings
    assert "instead of not reached within 30 meetings (15 years) under unanimity" in line
    assert line.startswith("Under a simple majority the median deadlock would be 2 meetings")
    assert "not reached" in build(censored).table.set_index("Rule").loc["q=1", "Median deadlock (meetings)"]


def test_a_long_source_list_is_set_smaller_or_cut_but_never_overflows(censored):
    many = [f"https://example.org/a-rather-long-path/to/source-number-{i}/with/more/words.html" for i in range(300)]
    long = Results(censored.scenario.model_copy(update={"sources": many}), censored.runs, censored.summary, censored.blockers, {}, "long")
    fig = compose_pdf(build(long), long)
    fig.canvas.draw()  # lays out the chart's labels
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_text())]
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1 and box.x1 <= page.x1 + 1, t.get_text()[:60]
    body = " ".join(t.get_text() for t in texts)
    assert "more in scenario.yaml" in body and "source-number-0" in body


def test_report_on_something_that_is_not_a_results_folder(tmp_path):
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "missing runs.csv" in res.output and "Traceback" not in res.output
