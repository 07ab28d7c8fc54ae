"""Running replications on any concurrent.futures executor: raw runs only, no summaries."""
