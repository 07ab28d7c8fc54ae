"""The notebooks, run top to bottom in a fresh kernel from the repository root, as a reader would.

A cell that raises fails the test, and so does each notebook's own check of
the statements its prose makes. Notebooks are stored without outputs.
"""

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = ["01_quickstart", "02_voting_rules", "03_blocs_and_power", "04_calibration_and_counterfactuals"]


def test_every_notebook_is_tested(root):
    assert sorted(p.stem for p in (root / "notebooks").glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.timeout(120)  # each takes seconds; the promise is under a minute
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_draws(root, name):
    nb = nbformat.read(root / "notebooks" / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "store notebooks without outputs"
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no chart"
