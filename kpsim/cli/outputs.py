"""Commands that turn a results folder into what a plenary sees: the brief (`kpsim report`) and the deck (`kpsim slides`)."""

from __future__ import annotations

from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors

RESULTS_DIR = click.Path(path_type=Path)

# checked by kpsim.output.i18n.language (an unknown code: exit 2, naming those allowed); not a click.Choice, so that
# `kpsim --help` does not import the output package
LANG = click.option("--lang", default="en", show_default=True, metavar="CODE",
                    help="Language of every text, label and number format: en (English) or fr (French, files named *.fr.*).")
ROBUSTNESS = click.option("--robustness", type=click.Path(file_okay=False, path_type=Path),
                          help="A folder written by `kpsim robustness` on the same scenario: its swings say what would change the result.")


def _chart_formats(ctx, param, value: str | None) -> tuple[str, ...] | None:
    """--formats as a tuple of file extensions, checked (exit 2) before anything runs; None: the charts' default.

    The formats are the charts' (imported here, only when --formats is given, so that `kpsim --help` does not load matplotlib).
    """
    if value is None:
        return None
    from kpsim.output.style import ALL_FORMATS

    formats = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in value.split(",") if f.strip()))
    wrong = [f for f in formats if f not in ALL_FORMATS]
    if wrong or not formats:
        raise click.BadParameter(f"{', '.join(wrong) or 'none given'}: give one or more of {', '.join(ALL_FORMATS)}, comma-separated")
    return formats


FORMATS = click.option("--formats", callback=_chart_formats, metavar="LIST",
                       help="Chart files to write, comma-separated: png, svg, pdf (default: png,svg; PDF takes about as long as the other two).")


def from_results_folder(fn):
    """FOLDER, --lang and --robustness, input errors as exit 2: what the brief and the deck both take."""
    for decorate in (handle_input_errors, ROBUSTNESS, LANG, click.argument("folder", type=RESULTS_DIR)):
        fn = decorate(fn)
    return fn


@click.command()
@from_results_folder
def report(folder, lang, robustness):
    """Write the brief for a plenary from results FOLDER alone: FOLDER/brief.html, brief.pdf (one A4 page) and brief.md.

    With --lang fr: brief.fr.html, brief.fr.pdf and brief.fr.md, beside the English ones. The charts the
    Markdown shows are written as FOLDER/charts/brief_*.png.
    """
    from kpsim.analysis.results import Results
    from kpsim.output.i18n import language
    from kpsim.output.report import write_brief

    language(lang)  # a bad code stops here, before anything is read
    brief, paths = write_brief(Results.read(folder), folder, lang, robustness)
    click.echo(brief.headline)
    click.echo("brief: " + ", ".join(str(p) for p in paths))


@click.command()
@from_results_folder
def slides(folder, lang, robustness):
    """Write a 16:9 deck of six slides from results FOLDER alone: FOLDER/slides.pptx (slides.fr.pptx with --lang fr).

    Headline; adopted, withdrawn or still deadlocked by rule; years to adoption; who blocks; what would
    change the result; sources. Each slide's chart is also saved as FOLDER/charts/slide_<n>_<name>.png.
    """
    from kpsim.analysis.results import Results
    from kpsim.output.i18n import language
    from kpsim.output.report import build
    from kpsim.output.slides import write_slides

    language(lang)
    results = Results.read(folder)
    paths = write_slides(results, build(results, lang, robustness), folder)
    click.echo("slides: " + ", ".join(str(p) for p in paths))
