"""`kpsim ...`: one click group; each feature's commands live in their own module here."""

from __future__ import annotations

import gc
import sys

import click

from kpsim.version import __version__
from kpsim.cli import analysis, app, calibrate, core, mechanisms, outputs, sweep, table
from kpsim.cli.common import CommandLineGroup


@click.group(cls=CommandLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpsim")
def main():
    """Simulate consensus decision-making (the Kimberley Process and other bodies).

    A scenario file (YAML) names the actors, the proposal, the calendar, the
    dynamics and the decision rules to compare. See scenarios/README.md.
    """


# one line per command module
for command in (core.validate, core.run_cmd, core.compare, calibrate.calibrate, calibrate.score, table.table, analysis.power, analysis.winset, analysis.threshold, analysis.charts, analysis.blockers, outputs.report, outputs.slides, sweep.sweep_cmd, sweep.sensitivity_cmd, sweep.robustness_cmd, app.app, mechanisms.mechanisms):
    main.add_command(command)


def run():
    """The console command: `main`, then an exit that does not scan every object numpy, pandas and scipy made at import (~0.2 s)."""
    try:
        main()
    except KeyboardInterrupt:  # before a command's own handler is in place (while starting up)
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    finally:
        gc.freeze()
