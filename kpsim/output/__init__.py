"""What people look at: the house style, the charts (registered in kpsim.analysis.outputs), the brief.

Importing this package registers every chart, so Results.write draws them.
"""

from kpsim.output import charts  # noqa: F401  (registers the charts)
