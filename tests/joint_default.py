"""An independent check shared by the credit tests: the joint default probability by
adaptive quadrature, not through the code under test."""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import ndtr, ndtri


def joint_default_prob(pd: float, correlation: float) -> float:
    """P(two borrowers with asset correlation ρ both default) = E[p(Z)²]."""
    a = ndtri(pd)

    def integrand(z: float) -> float:
        p = ndtr((a - np.sqrt(correlation) * z) / np.sqrt(1 - correlation))
        return p * p * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    return integrate.quad(integrand, -12, 12, limit=200, epsabs=1e-15, epsrel=1e-12)[0]
