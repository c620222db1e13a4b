"""Sensitivity of the strategies' answers to the assumed parameters.

- `assumptions`: the plausible space (`parksim/data/assumptions.toml`) and how a point of
  it becomes a scenario;
- `analysis`: SALib's Morris and Sobol designs and indices, and the one-at-a-time design
  around the scenario's values (the tornado's), from a study's tables;
- `study`: running every strategy at every design point through the ensemble runner;
- `robustness`: the share of the space in which a strategy wins (intervals that respect
  the design), and PRIM with its peeling trajectory, quasi-p-values and stability;
- `screening`: extra-trees feature scores, a second screen (scikit-learn, optional);
- `report`, `charts`: a study's tables and figures; `command`: `parksim sensitivity`.
"""

# Kept here, not in `analysis`, so that the command line starts without importing SALib.
METHODS = ("morris", "sobol", "oat")
