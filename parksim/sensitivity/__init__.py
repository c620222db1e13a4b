"""Sensitivity of the strategies' answers to the assumed parameters.

- `assumptions`: the plausible space (`parksim/data/assumptions.toml`) and how a point of
  it becomes a scenario.
"""
