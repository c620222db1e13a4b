"""Every assumed parameter has a plausible range (parksim/data/assumptions.toml)."""

from __future__ import annotations

import numpy as np
import pytest

from parksim.analysis.sensitivity.assumptions import (
    ASSUMPTIONS_FILE,
    DISTRIBUTIONS,
    apply_values,
    default_value,
    load_assumptions,
    parents,
    schema_leaves,
    structural_leaves,
    unranged,
)
from parksim.scenario.addresses import read
from parksim.scenario.loader import load_scenario

ASSUMPTIONS = load_assumptions()
BASELINE = load_scenario("scenarios/baseline.toml")
ADD_A_RANGE = """
{key} (default {default!r}) is a scenario parameter with no range in {file}.
If it is an assumption, add:

    [[parameters]]
    key = "{key}"
    low = ...                      # plausible lower end (the default must lie in [low, high])
    high = ...
    distribution = "uniform"       # or "triangular" (mode: the default), "log-uniform"
    reason = "why this range"      # or source = "..." for a published range

For a tuple or table field, one entry with `scale = true` ranges all its elements as a
multiple of the scenario's value. If it is a published figure, list it as
[[sourced]] key = "{key}", source = "...". If it is structural (a switch, a reference
level), list it as [[fixed]] key = "{key}", reason = "...". Fitted parameters are the
[[parameters]] of parksim/data/targets.toml.
"""


def test_every_scenario_parameter_is_fitted_sourced_fixed_or_ranged():
    missing = unranged(ASSUMPTIONS)
    messages = [
        ADD_A_RANGE.format(key=key, default=default_value(key), file=ASSUMPTIONS_FILE.name)
        for key in missing
    ]
    assert not missing, "\n".join(messages)


def test_every_entry_names_a_scenario_parameter_once():
    keys = (
        [p.key for p in ASSUMPTIONS.parameters]
        + list(ASSUMPTIONS.sourced)
        + list(ASSUMPTIONS.fixed)
        + list(ASSUMPTIONS.fitted)
    )
    # A range may also name the park and the banks (structural parameters).
    leaves = {**schema_leaves(), **structural_leaves()}
    stale = [k for k in keys if k not in leaves]
    assert not stale, f"{ASSUMPTIONS_FILE.name} names keys the scenario schema lacks: {stale}"
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"keys listed more than once (ranged, sourced, fixed, fitted): {repeated}"
    shadowed = [k for k in keys if any(parent in keys for parent in parents(k))]
    assert not shadowed, f"keys whose whole field is already listed: {shadowed}"


@pytest.mark.parametrize("parameter", ASSUMPTIONS.parameters, ids=lambda p: p.key)
def test_range_is_valid_and_holds_the_default(parameter):
    assert parameter.distribution in DISTRIBUTIONS, parameter.key
    assert parameter.low < parameter.high, parameter.key
    assert parameter.reason, f"{parameter.key}: give a reason or a source for the range"
    if parameter.key in structural_leaves():  # the baseline's park and banks
        default = read(BASELINE, parameter.key)
    else:
        default = 1.0 if parameter.scale else default_value(parameter.key)
    if parameter.levels:  # the default is one of the levels ("never": absent)
        assert ("never" if default is None else default) in parameter.levels, parameter.key
        return
    assert parameter.low <= default <= parameter.high, (
        f"{parameter.key}: default {default} outside [{parameter.low}, {parameter.high}]"
    )
    if parameter.distribution == "log-uniform":
        assert parameter.low > 0, f"{parameter.key}: a log-uniform range needs low > 0"


@pytest.mark.parametrize("end", ["low", "high"])
def test_both_ends_of_every_range_make_a_valid_scenario(end):
    values = {p.key: getattr(p, end) for p in ASSUMPTIONS.parameters}
    scaled = [p.key for p in ASSUMPTIONS.parameters if p.scale]
    by_key = {p.key: p for p in ASSUMPTIONS.parameters}
    # raises ScenarioError if invalid; a parameter with levels takes its first or last level
    scenario = apply_values(BASELINE, values, scaled, by_key)
    assert scenario.lifecycle.refused_failure_mult == values["lifecycle.refused_failure_mult"]


def test_a_point_sets_elements_tables_tiers_and_scaled_vectors():
    scenario = apply_values(
        BASELINE,
        {
            "equity.bar[2]": 0.7,
            "operator.inflow.light": 0.8,
            "tiers.2.0.signal_noise": 0.9,
            "lending.demand": 1.2,
            "lending.loan_term_quarters": 5.6,
        },
        scaled=["lending.demand"],
    )
    assert scenario.equity.bar[2] == 0.7 and scenario.equity.bar[1] == BASELINE.equity.bar[1]
    assert scenario.operator.inflow == {"heavy": 1.15, "light": 0.8}
    assert scenario.tiers["2.0"]["signal_noise"] == 0.9
    assert scenario.lending.demand == pytest.approx([1.2 * d for d in BASELINE.lending.demand])
    assert scenario.lending.loan_term_quarters == 6


def test_distributions_map_probabilities_onto_the_range():
    u = np.linspace(0.0, 1.0, 101)
    by_key = {p.key: p for p in ASSUMPTIONS.parameters}
    log = by_key["lifecycle.relocation"]
    values = log.from_unit(u)
    assert values[0] == pytest.approx(log.low) and values[-1] == pytest.approx(log.high)
    assert values[50] == pytest.approx(np.sqrt(log.low * log.high))  # median: geometric mean
    tri = by_key["lifecycle.funded_graduation_boost"]
    cdf_at_mode = (tri.peak - tri.low) / (tri.high - tri.low)
    assert tri.from_unit(cdf_at_mode) == pytest.approx(tri.peak)
    quarters = by_key["lending.loan_term_quarters"]
    assert quarters.integer and set(quarters.from_unit(u)) <= set(range(4, 13))
