"""Transcendental functions that give the same bits on every x86-64 CPU.

numpy picks the loop of a float64 ufunc by the CPU it runs on: np.exp, np.log,
np.expm1, np.log1p, np.power (and ``**`` on float arrays) have AVX-512 loops of numpy's
own that differ in the last bit from the C library's functions, which the same numpy
calls on an AVX2 machine. A bit is enough for a firm to default, or a loan to be
approved, on one machine and not on the other, so a scenario and a seed would give
different tables on different computers.

These functions are numba ufuncs whose loop calls the C library's function, as numba
lowers ``math.exp`` and the like to it. glibc chooses its variant of exp, log, pow, ...
by FMA support only (there is no AVX-512 variant), so AVX2 and AVX-512 machines run the
same code; numba vectorises no call to them without Intel's SVML, which parksim does not
use. The functions take scalars and arrays of any shape (broadcast like numpy's), and
return float64: the numpy scalar for scalars. Every result-affecting transcendental call
outside compiled kernels goes through here (kernels compiled by numba call the C
library already); tests/test_cross_cpu.py checks a run on this CPU against the same run
emulating an AVX2 one.
"""

from __future__ import annotations

import math

from numba import vectorize

__all__ = ["exp", "expm1", "log", "log1p", "power"]


@vectorize(["float64(float64)"], cache=True)
def exp(x):
    """e**x."""
    return math.exp(x)


@vectorize(["float64(float64)"], cache=True)
def expm1(x):
    """e**x - 1, accurate for small x."""
    return math.expm1(x)


@vectorize(["float64(float64)"], cache=True)
def log(x):
    """Natural logarithm (nan below 0, -inf at 0)."""
    return math.log(x)


@vectorize(["float64(float64)"], cache=True)
def log1p(x):
    """log(1 + x), accurate for small x (nan below -1, -inf at -1)."""
    return math.log1p(x)


@vectorize(["float64(float64, float64)"], cache=True)
def power(x, y):
    """x**y."""
    return x**y
