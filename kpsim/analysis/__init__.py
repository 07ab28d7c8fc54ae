"""From runs to findings: Results, compare, summaries, survival, blockers, thresholds, power, and the outputs registry."""
