"""A sweep reads its parameter paths with kpsim.scenario.paths, the same code scenario events use."""

from kpsim.scenario import paths
from kpsim.sweep import design


def test_the_sweep_uses_the_scenario_paths():
    assert design.resolve_path is paths.resolve_path
    assert design.point_scenario is paths.with_values
