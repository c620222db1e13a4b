"""Running many replications of a scenario's strategies: seeds, chunks, executors and the
run folder they are written to."""
