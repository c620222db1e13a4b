"""The bottom layer: codes, the population's columns, sectors, random streams, the metric
schema and the compiled-kernel cache. Nothing here imports from another parksim layer."""
