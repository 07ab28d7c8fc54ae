"""The plenary deck (`kpsim slides`), and the French catalogue the brief and the deck share.

The deck: 16:9, four to six slides, a picture on every chart slide, each chart also a 16:9 PNG in
charts/, no text under 18 pt, plain labels, the same headline as the brief, and an honest "robustness
analysis not run". The catalogue: every message the code asks for has a French translation with the
same placeholders, and the compiled .mo is the .po.
"""

import re
import shutil

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner
from matplotlib.image import imread
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Pt

from kpsim.analysis.results import Results
from kpsim.cli.outputs import slides
from kpsim.output import i18n
from kpsim.output.report import build
from tests.output.test_report import IDENTIFIERS, written_by


@pytest.fixture(scope="module")
def folder(tmp_path_factory, toy_yaml):
    return written_by(slides, tmp_path_factory.mktemp("slides"), toy_yaml)


def texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]


def test_the_deck_is_16_9_with_four_to_six_slides_each_chart_a_picture_and_a_png(folder):
    deck = Presentation(folder / "slides.pptx")
    assert deck.slide_width * 9 == deck.slide_height * 16
    assert 4 <= len(deck.slides) <= 6
    with_picture = [s for s in deck.slides if any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in s.shapes)]
    assert len(with_picture) >= 4
    pngs = sorted((folder / "charts").glob("slide_*.png"))
    assert [p.name for p in pngs if ".fr." not in p.name] == ["slide_1_headline.png", "slide_2_deadlock.png", "slide_3_years.png", "slide_4_blockers.png"]
    for png in pngs:
        h, w = imread(png).shape[:2]
        assert w * 9 == pytest.approx(h * 16, rel=0.01), png.name
    # the picture on each slide is the PNG saved beside it
    blobs = {sh.image.blob for s in with_picture for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE}
    assert blobs == {p.read_bytes() for p in pngs if ".fr." not in p.name}
    assert not [p for p in folder.rglob("*.tmp")]


@pytest.mark.parametrize("name", ["slides.pptx", "slides.fr.pptx"])
def test_no_text_is_smaller_than_18_points(folder, name):
    runs = [r for s in Presentation(folder / name).slides for sh in s.shapes if sh.has_text_frame
            for p in sh.text_frame.paragraphs for r in p.runs if r.text.strip()]
    assert len(runs) > 10
    for r in runs:
        assert r.font.size is not None and r.font.size >= Pt(18), (r.text[:40], r.font.size)


def test_the_slides_say_what_the_brief_says_in_plain_words(folder):
    results = Results.read(folder)
    deck = Presentation(folder / "slides.pptx")
    first = texts(deck.slides[0])
    assert build(results).headline in first
    everything = " ".join(t for s in deck.slides for t in texts(s))
    assert not any(name in everything for name in IDENTIFIERS)
    assert "Robustness analysis not run" in " ".join(texts(deck.slides[4]))
    assert "Kimberley Process" in " ".join(texts(deck.slides[5]))


def test_robustness_results_are_named_when_the_folder_has_them(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "robustness.csv").write_text("parameter,flips\n")
    assert CliRunner().invoke(slides, [str(copy)]).exit_code == 0
    slide = " ".join(texts(Presentation(copy / "slides.pptx").slides[4]))
    assert "Robustness results in this folder: robustness.csv." in slide and "not run" not in slide


def test_the_french_deck_is_written_beside_the_english_one(folder):
    assert (folder / "slides.pptx").is_file() and (folder / "charts" / "slide_3_years.fr.png").is_file()
    deck = Presentation(folder / "slides.fr.pptx")
    everything = " ".join(t for s in deck.slides for t in texts(s))
    for text in ("Qui bloque", "Combien de temps avant l'adoption", "Analyse de robustesse non effectuée", "Sources"):
        assert text in everything, text
    assert build(Results.read(folder), "fr").headline in everything
    assert "Who blocks" not in everything


def test_an_unknown_language_is_exit_2_with_the_allowed_list(folder):
    res = CliRunner().invoke(slides, [str(folder), "--lang", "xx"])
    assert res.exit_code == 2 and "allowed: en, fr" in res.output and "Traceback" not in res.output
    assert not (folder / "slides.xx.pptx").exists()


def test_the_commands_are_registered():
    """kpsim report and kpsim slides are the commands of kpsim.cli.outputs (registered in kpsim/cli/__init__.py)."""
    from kpsim.cli import main, outputs

    assert main.commands.get("report") is outputs.report and main.commands.get("slides") is outputs.slides


# ------------------------------------------------------------------ the French catalogue

KEYWORDS = {"_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
PO = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "kpsim.po"


@pytest.fixture(scope="module")
def catalogue():
    with open(PO, "rb") as f:
        return read_po(f)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w*)}", text))


def test_every_message_the_code_asks_for_is_translated(root, catalogue):
    # as the .po's header extracts them, and PRIM's sentences for the brief (kpsim.analysis.discovery)
    modules = sorted((root / "kpsim" / "output").glob("*.py")) + [root / "kpsim" / "analysis" / "discovery.py"]
    used = {(ctx, msg if isinstance(msg, str) else msg[0]) for f in modules for _, msg, _, ctx in extract_from_file("python", f, keywords=KEYWORDS)}
    assert len(used) > 100
    missing = [m for m in used if catalogue.get(m[1], context=m[0]) is None]
    assert not missing, f"not in {PO.name}: {missing}"
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"untranslated: {message.id}"
        for s in strings:
            assert _placeholders(s) == _placeholders(ids[-1]), (message.id, s)


def test_the_compiled_catalogue_matches_the_po(catalogue):
    """After editing kpsim.po: pybabel compile -d kpsim/output/locale -D kpsim."""
    with open(PO.with_suffix(".mo"), "rb") as f:
        compiled = read_mo(f)
    as_pairs = lambda cat: {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m.string if isinstance(m.string, str) else tuple(m.string)  # noqa: E731
                            for m in cat if m.id}
    assert as_pairs(compiled) == as_pairs(catalogue)


def test_the_catalogue_loads_through_babel():
    fr = i18n.language("fr")
    assert fr._("Who blocks?") == "Qui bloque\u202f?"
    assert fr.years(13.5) == "13,5 ans" and fr.pct(0.38) == "38\xa0%" and fr.pct(0.0004) == "<0,1\xa0%"
    with pytest.raises(Exception, match="allowed: en, fr"):
        i18n.language("de")
