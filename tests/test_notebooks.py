"""The notebooks, run top to bottom in a fresh kernel from the repository root, as a reader would.

A cell that raises fails the test, and so does each notebook's own check of
the statements its prose makes. Notebooks are stored without outputs.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]  # module scope: the shared `root` fixture is per test
NOTEBOOKS = ["01_quickstart", "02_voting_rules", "03_blocs_and_power", "04_calibration_and_counterfactuals"]


def execute(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


@pytest.fixture(scope="module")
def executed():
    """Every notebook at once, each in its own kernel: the machine's cores run them side by side."""
    with ThreadPoolExecutor(len(NOTEBOOKS)) as pool:
        return {name: pool.submit(execute, name) for name in NOTEBOOKS}


def test_every_notebook_is_tested(root):
    assert sorted(p.stem for p in (root / "notebooks").glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(root, name):
    nb = nbformat.read(root / "notebooks" / f"{name}.ipynb", as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.timeout(180)  # all four together; each takes seconds, and the promise is under a minute each
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_draws(executed, name):
    nb = executed[name].result()  # a failing cell raises here, with the cell and its traceback
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no chart"
