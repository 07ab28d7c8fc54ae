"""kpsim.model.lean_mesa: the model imports mesa without its grids and networks, and mesa is unchanged for whoever uses them.

Each check runs in a fresh interpreter: what is imported depends on what the process imported before.
"""

import json
import subprocess
import sys

HEAVY = ["scipy.spatial", "networkx", "mesa.discrete_space.grid", "mesa.discrete_space.network", "mesa.space"]

PROBE = r"""
import json, logging, sys
if sys.argv[1] == "kpsim":
    import kpsim.model.plenary  # the model's own import of mesa
else:
    import mesa  # as anyone else imports it
loaded_before = [m for m in {heavy} if type(sys.modules.get(m)).__name__ == "module"]
import mesa
from mesa.space import *  # a star import reads __all__ before anything else
star = "MultiGrid" in dir()
from mesa.discrete_space import OrthogonalMooreGrid
import mesa.discrete_space.grid as grid
logs = []
handler = logging.Handler()
handler.emit = lambda record: logs.append(record.getMessage().split(" with ")[0])
logging.getLogger("MESA").addHandler(handler)
logging.getLogger("MESA").setLevel(logging.DEBUG)
model = mesa.Model(rng=1)
print(json.dumps({{
    "loaded_before": loaded_before,
    "grid": OrthogonalMooreGrid is grid.OrthogonalMooreGrid and mesa.discrete_space.OrthogonalMooreGrid is OrthogonalMooreGrid,
    "multigrid": mesa.space.MultiGrid.__module__,
    "batch_run": mesa.batch_run.__module__,
    "continuous": mesa.experimental.continuous_space.ContinuousSpace.__module__,
    "loggers": sorted(mesa.mesa_logging._module_loggers),
    "logs": logs,
    "star": star,
    "grid_works": len(list(OrthogonalMooreGrid((3, 3), random=model.random).all_cells)),
}}))
""".format(heavy=HEAVY)


def probe(first: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, first], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_model_does_not_import_mesas_grids_networks_or_batch_runner():
    assert probe("kpsim")["loaded_before"] == []


def test_mesa_is_the_same_for_whoever_uses_the_deferred_parts():
    lean, plain = probe("kpsim"), probe("plain")
    assert plain["loaded_before"] == HEAVY  # the probe does see them when mesa is imported as usual
    assert lean["grid"] and lean["grid_works"] == 9
    for key in ("star", "multigrid", "batch_run", "continuous", "loggers", "logs", "grid_works"):
        assert lean[key] == plain[key], key
    assert "calling Model.__init__" in lean["logs"]  # method_logger's class name, read from the frame


def test_a_submodule_of_a_deferred_package_imports_first():
    """`import mesa.discrete_space.grid` (as unpickling a grid does) before anything read mesa.discrete_space: its
    package is imported first, as usual, not the submodule alone (which imported the package halfway through itself)."""
    script = (
        "import kpsim.model.plenary, mesa, pickle\n"
        "import mesa.discrete_space.grid as grid\n"
        "import mesa.experimental.continuous_space.continuous_space_agents as agents\n"
        "g = pickle.loads(pickle.dumps(grid.OrthogonalMooreGrid((2, 2), random=mesa.Model(rng=1).random)))\n"
        "assert type(g) is mesa.discrete_space.OrthogonalMooreGrid and agents.ContinuousSpaceAgent is mesa.experimental.continuous_space.ContinuousSpaceAgent\n"
    )
    subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
