"""`kpsim ...`: one click group; each feature's commands live in their own module here."""

from __future__ import annotations

import click

from kpsim import __version__
from kpsim.cli import calibrate, core, table
from kpsim.cli.common import CommandLineGroup


@click.group(cls=CommandLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpsim")
def main():
    """Simulate consensus decision-making (the Kimberley Process and other bodies).

    A scenario file (YAML) names the actors, the proposal, the calendar, the
    dynamics and the decision rules to compare. See scenarios/README.md.
    """


# one line per command module
for command in (core.validate, core.run_cmd, core.compare, calibrate.calibrate, table.table):
    main.add_command(command)
