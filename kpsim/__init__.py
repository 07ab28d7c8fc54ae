"""kpsim: consensus decision-making in the Kimberley Process and other bodies, simulated.

The public API, for notebooks and scripts:

    import kpsim
    scenario = kpsim.load_scenario("scenarios/kp/marange.yaml")
    results = kpsim.compare(scenario, reps=2000)    # every rule, on the same random draws
    results.summary                                 # one row per rule, each figure with its 95% interval
    results.write("results/marange")                # the results folder, tables and charts
    kpsim.Results.read("results/marange")           # and back

Names are imported on first use, so `import kpsim` (and the `kpsim` command)
starts at once; using `compare` or `Results` also registers the charts.
"""

from kpsim.version import __version__

__all__ = ["load_scenario", "Scenario", "PlenaryModel", "compare", "Results", "RULES", "InputError", "__version__"]

# name -> the module that defines it
_WHERE = {
    "load_scenario": "kpsim.scenario.load",
    "Scenario": "kpsim.scenario.schema",
    "PlenaryModel": "kpsim.model.plenary",
    "compare": "kpsim.analysis.compare",
    "Results": "kpsim.analysis.results",
    "RULES": "kpsim.rules",
    "InputError": "kpsim.errors",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'kpsim' has no attribute {name!r}")
    import importlib

    if name in ("compare", "Results"):
        importlib.import_module("kpsim.output")  # registers the charts that Results.write draws
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
