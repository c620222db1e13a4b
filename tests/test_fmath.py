"""parksim.core.fmath: the C library's functions, elementwise, for scalars and arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from parksim.core import fmath

RNG = np.random.default_rng(0)
X = RNG.uniform(-30.0, 30.0, 2000)
POSITIVE = np.abs(X) + 1e-3
UNARY = [
    (fmath.exp, math.exp, X),
    (fmath.expm1, math.expm1, X),
    (fmath.log, math.log, POSITIVE),
    (fmath.log1p, math.log1p, POSITIVE - 0.5),
]


@pytest.mark.parametrize(("ours", "libm", "x"), UNARY, ids=lambda f: getattr(f, "__name__", ""))
def test_each_value_is_the_c_library_s(ours, libm, x) -> None:
    # Python's math module calls the same C functions, one value at a time.
    assert np.array_equal(ours(x), [libm(v) for v in x])


def test_power_is_the_c_library_s() -> None:
    y = X / 7.0
    libm = [math.pow(a, b) for a, b in zip(POSITIVE, y, strict=True)]
    assert np.array_equal(fmath.power(POSITIVE, y), libm)


@pytest.mark.parametrize(("ours", "numpys"), [(fmath.exp, np.exp), (fmath.log, np.log)])
def test_values_agree_with_numpy_to_an_ulp(ours, numpys) -> None:
    np.testing.assert_array_max_ulp(ours(POSITIVE), numpys(POSITIVE), maxulp=1)


def test_scalars_give_float64_scalars_and_arrays_keep_their_shape() -> None:
    assert isinstance(fmath.exp(1.0), np.float64)
    assert fmath.exp(0) == 1.0  # integers are converted
    assert fmath.log(np.ones((2, 3, 4))).shape == (2, 3, 4)
    assert fmath.exp(np.arange(3)).dtype == np.float64
    # Broadcast like numpy's power: a rate discounted over quarters.
    np.testing.assert_allclose(fmath.power(1.05, -np.arange(5) / 4.0), 1.05 ** (-np.arange(5) / 4))


def test_edges_follow_ieee() -> None:
    with np.errstate(all="ignore"):
        assert np.array_equal(
            fmath.log(np.array([-1.0, 0.0, np.inf, np.nan])),
            [np.nan, -np.inf, np.inf, np.nan],
            equal_nan=True,
        )
        assert np.array_equal(fmath.exp(np.array([-np.inf, 1000.0])), [0.0, np.inf])
        assert fmath.log1p(-1.0) == -np.inf
