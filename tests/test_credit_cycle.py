"""The credit cycle in the full model: the macro factor each quarter is an AR(1) of the
macro stream's innovations, and it is a column of the time series."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parksim import ParkModel

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def _macro_path(persistence: float) -> np.ndarray:
    model = ParkModel(
        BASELINE, rng=4, park__enterprises=60, credit__macro_persistence=persistence
    ).run(6)
    return model.timeseries()["macro_factor"].to_numpy()


def test_model_macro_factor_is_the_ar1_of_the_macro_stream():
    # The macro stream is the same whatever the persistence (common random numbers), so
    # the run with φ = 0 shows the innovations the persistent run is built from.
    innovations = _macro_path(0.0)
    phi = 0.87
    cycle = _macro_path(phi)
    assert innovations[0] == cycle[0] == 0.0  # quarter 0: no draw yet
    assert cycle[1] == innovations[1]  # stationary start
    expected = cycle[1:-1] * phi + np.sqrt(1 - phi**2) * innovations[2:]
    np.testing.assert_allclose(cycle[2:], expected, rtol=1e-12)
    assert not np.allclose(cycle[2:], innovations[2:])
