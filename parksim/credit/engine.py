"""Correlated default engine: one-factor Gaussian latent-variable model with sector factors.

Borrower i in sector k defaults in quarter t iff

    X_i = √r_m · Z_t + √r_s · S_{k,t} + √(1 − r_m − r_s) · ε_i  <  Φ⁻¹(pd_i),

with the macro factor Z_t, the sector factors S_{k,t} and the idiosyncratic ε_i standard
normals. Two borrowers of one sector therefore have asset correlation r_m + r_s, two
borrowers of different sectors r_m. The macro factor is a credit cycle: a stationary AR(1)

    Z_t = φ · Z_{t−1} + √(1 − φ²) · η_t,    η_t ~ N(0, 1) independent, Z_1 = η_1,

so every quarter's Z_t is still N(0, 1) (the per-quarter Vasicek distribution holds) while
bad quarters cluster into bad years. Sector factors and ε_i are independent over time.

Random-number consumption is fixed and documented per method so that simulations stay
reproducible when other components share the same ``np.random.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

__all__ = ["CreditParams", "CreditRiskEngine", "FactorDraw", "loan_lgd", "secured_lgd"]

# Φ⁻¹ is infinite at 0 and 1; clipping keeps the arithmetic finite, and pd exactly 0 or 1
# is restored afterwards so that certain survival / certain default stay exact.
_PD_CLIP = 1e-12
# The model's systematic factors: the macro cycle and the borrower's sector (its structure,
# not a magnitude); a draw of them has one column each, macro first.
N_SYSTEMATIC_FACTORS = 2


@dataclass(frozen=True)
class CreditParams:
    """Parameters of the correlated default model and of loss given default."""

    macro_correlation: float = field(
        default=0.12,
        metadata={
            "min": 0.0,
            "exclusive_max": 1.0,
            "help": "r_m, asset correlation with "
            "the common factor; Basel II corporate lower bound (0.12)",
        },
    )
    sector_correlation: float = field(
        default=0.06,
        metadata={
            "min": 0.0,
            "exclusive_max": 1.0,
            "help": "r_s, extra correlation among borrowers of one sector (assumption)",
        },
    )
    macro_persistence: float = field(
        default=0.87,
        metadata={
            "unit": "autocorrelation per quarter",
            "min": 0.0,
            "exclusive_max": 1.0,
            "help": "φ, quarter-to-quarter autocorrelation of the macro factor (credit "
            "cycle); 0.87 makes consecutive years' default rates correlate 0.55, as "
            "Moody's annual default rates did 1970-2016 (Hull, Risk Management and "
            "Financial Institutions, table 11.6); plausible 0.7-0.95",
        },
    )
    lgd_unsecured: float = field(
        default=0.45,
        metadata={"unit": "share", "help": "LGD of senior unsecured loans, Basel II F-IRB"},
    )
    lgd_secured: float = field(
        default=0.35,
        metadata={"unit": "share", "help": "LGD of collateral-secured loans, Basel floor"},
    )
    workout_quarters: int = field(
        default=4,
        metadata={
            "min": 0,
            "help": "quarters a defaulted loan stays non-performing before "
            "it is written off (assumption)",
        },
    )

    def __post_init__(self) -> None:
        r_m, r_s = self.macro_correlation, self.sector_correlation
        # Comparisons are phrased so that NaN fails them.
        if not r_m >= 0.0:
            raise ValueError(f"macro_correlation must be >= 0, got {r_m!r}")
        if not r_s >= 0.0:
            raise ValueError(f"sector_correlation must be >= 0, got {r_s!r}")
        if not r_m + r_s < 1.0:
            raise ValueError(
                "macro_correlation + sector_correlation must be < 1 (the idiosyncratic "
                f"share must stay positive), got {r_m!r} + {r_s!r} = {r_m + r_s!r}"
            )
        phi = self.macro_persistence
        if not 0.0 <= phi < 1.0:
            raise ValueError(
                f"macro_persistence must lie in [0, 1) (a stationary AR(1)), got {phi!r}"
            )
        for name in ("lgd_unsecured", "lgd_secured"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
        if self.lgd_secured > self.lgd_unsecured:
            raise ValueError(
                f"lgd_secured ({self.lgd_secured!r}) must not exceed "
                f"lgd_unsecured ({self.lgd_unsecured!r}): collateral cannot raise the loss"
            )
        w = self.workout_quarters
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 0:
            raise ValueError(f"workout_quarters must be a non-negative integer, got {w!r}")

    @property
    def intra_sector_correlation(self) -> float:
        """Asset correlation of two borrowers in the same sector, r_m + r_s."""
        return self.macro_correlation + self.sector_correlation

    @property
    def inter_sector_correlation(self) -> float:
        """Asset correlation of two borrowers in different sectors, r_m."""
        return self.macro_correlation


# eq=False: the generated __eq__ would compare numpy arrays inside a tuple, which raises.
@dataclass(frozen=True, eq=False)
class FactorDraw:
    """Systematic factors of one quarter: the macro factor Z and one factor per sector."""

    macro: float
    sector: np.ndarray  # shape (n_sectors,)

    def __post_init__(self) -> None:
        sector = np.array(self.sector, dtype=np.float64)  # own copy, made read-only below
        if sector.ndim != 1:
            raise ValueError(f"sector factors must be 1-D, got shape {sector.shape}")
        sector.setflags(write=False)
        object.__setattr__(self, "macro", float(self.macro))
        object.__setattr__(self, "sector", sector)


def loan_lgd(params: CreditParams, secured_share: ArrayLike) -> np.ndarray:
    """LGD interpolated between unsecured and secured by the collateralised share of the loan
    (`secured_lgd` of each share)."""
    share = np.asarray(secured_share, dtype=np.float64)
    lgd = _secured_lgds(params.lgd_unsecured, params.lgd_secured, share.ravel())
    if np.isnan(lgd.sum()):
        raise ValueError("secured_share must not contain NaN")
    return lgd.reshape(share.shape)


@njit(cache=True)
def secured_lgd(lgd_unsecured: float, lgd_secured: float, secured_share: float) -> float:
    """LGD of a loan whose `secured_share` is backed by collateral (Basel II F-IRB, paras.
    287-295: the secured part at the collateral's LGD, the rest at the unsecured one):
    lgd = lgd_unsecured − (lgd_unsecured − lgd_secured) · clip(secured_share, 0, 1); NaN
    for a NaN share."""
    if np.isnan(secured_share):
        return np.nan
    share = min(max(secured_share, 0.0), 1.0)
    return lgd_unsecured - (lgd_unsecured - lgd_secured) * share


@njit(cache=True)
def _secured_lgds(lgd_unsecured: float, lgd_secured: float, share: np.ndarray) -> np.ndarray:
    lgd = np.empty(len(share))
    for i in range(len(share)):
        lgd[i] = secured_lgd(lgd_unsecured, lgd_secured, share[i])
    return lgd


# Bounds that spare most borrowers the erfc: Φ at a grid of c from -10 to 3 in steps of
# 1/16. A borrower whose c lies in cell k has Φ(c) between _PHI_GRID[k] and
# _PHI_GRID[k + 1]; the test below leaves a whole cell of margin on each side, far more
# than rounding can move c or Φ (cells differ by > 1e-4 relative there, rounding by
# ~1e-16), so it decides exactly as the erfc would. Outside the grid the erfc decides,
# except below -10 where Φ(c) < 1e-23 is below every uniform (the smallest is 2**-54).
_GRID_LO, _GRID_STEP, _GRID_CELLS = -10.0, 16.0, 13 * 16
_PHI_GRID = np.array(
    [0.5 * math.erfc(-(_GRID_LO + k / _GRID_STEP) / math.sqrt(2.0)) for k in range(_GRID_CELLS + 1)]
)


@njit(cache=True)
def defaults_given(uniform: float, threshold: float, shift: float, load_idio: float) -> bool:
    """Whether one borrower defaults: U < Φ((threshold − shift)/load_idio), with shift the
    systematic part √r_m·Z + √r_s·S_k of its sector k."""
    c = (threshold - shift) / load_idio
    x = (c - _GRID_LO) * _GRID_STEP
    if x < 0.0:  # also c = -inf (PD 0)
        return False
    k = int(x)
    if k + 2 <= _GRID_CELLS:
        if uniform >= _PHI_GRID[k + 2]:
            return False
        if k >= 1 and uniform < _PHI_GRID[k - 1]:
            return True
    return uniform < 0.5 * math.erfc(-c / math.sqrt(2.0))


@njit(cache=True)
def defaults_below_threshold(
    uniform: np.ndarray,
    threshold: np.ndarray,
    sector: np.ndarray,
    shift: np.ndarray,
    load_idio: float,
) -> np.ndarray:
    """Whether each borrower defaults this quarter: U_i < Φ((threshold_i − shift_k)/load_idio),
    with shift_k = √r_m·Z + √r_s·S_k the systematic part of its sector k."""
    out = np.zeros(len(uniform), dtype=np.bool_)
    for i in range(len(uniform)):
        out[i] = defaults_given(uniform[i], threshold[i], shift[sector[i]], load_idio)
    return out


class CreditRiskEngine:
    """Draws systematic factors and correlated defaults for a portfolio of borrowers."""

    def __init__(self, params: CreditParams, n_sectors: int) -> None:
        """Bind the model parameters and the number of sectors (sector ids 0..n_sectors-1)."""
        if isinstance(n_sectors, bool) or not isinstance(n_sectors, int | np.integer):
            raise ValueError(f"n_sectors must be a positive integer, got {n_sectors!r}")
        if n_sectors < 1:
            raise ValueError(f"n_sectors must be a positive integer, got {n_sectors!r}")
        self.params = params
        self.n_sectors = int(n_sectors)
        # Loadings are fixed for the engine's life; computing them once saves work per quarter.
        self._load_macro = math.sqrt(params.macro_correlation)
        self._load_sector = math.sqrt(params.sector_correlation)
        self._load_idio = math.sqrt(1.0 - params.macro_correlation - params.sector_correlation)
        self._persistence = params.macro_persistence
        self._innovation = math.sqrt(1.0 - params.macro_persistence**2)
        self._macro: float | None = None  # last quarter's macro factor; None before the first
        # The unstressed AR(1) state: a stress shift moves the quarter's factor, not the cycle.
        self._macro_cycle: float | None = None

    def __repr__(self) -> str:
        return f"CreditRiskEngine(params={self.params!r}, n_sectors={self.n_sectors})"

    def draw_factors(self, rng: np.random.Generator, shift: float = 0.0) -> FactorDraw:
        """Draw the next quarter's factors: consumes exactly ``1 + n_sectors`` normals.

        The first normal is the macro factor's innovation η_t, the rest are sector factors
        0..n_sectors-1. The macro factor is φ·Z_{t−1} + √(1 − φ²)·η_t; the first quarter
        starts from the stationary distribution (Z_1 = η_1), so Z_t ~ N(0, 1) every
        quarter. With φ = 0 the macro factor is η_t exactly.

        `shift` (a stress path's ``macro_shift``, in standard deviations) is added to this
        quarter's factor only: the AR(1) runs on the unshifted factor, so the quarter's
        factor is N(shift, 1) and the quarters after a stress are drawn as without it.
        The draws consumed do not depend on the shift.
        """
        z = rng.standard_normal(1 + self.n_sectors)
        cycle = float(z[0])
        if self._macro_cycle is not None:
            cycle = self._persistence * self._macro_cycle + self._innovation * cycle
        self._macro_cycle = cycle
        self._macro = cycle + shift
        return FactorDraw(macro=self._macro, sector=z[1:])

    @property
    def macro_factor(self) -> float | None:
        """The macro factor of the last quarter drawn, None before the first draw."""
        return self._macro

    def _check_inputs(
        self, pd: ArrayLike, sector: ArrayLike, factors: FactorDraw
    ) -> tuple[np.ndarray, np.ndarray]:
        pd_arr = np.asarray(pd, dtype=np.float64)
        if not np.all((pd_arr >= 0.0) & (pd_arr <= 1.0)):
            raise ValueError("pd must lie in [0, 1] (and not be NaN)")
        sec = np.asarray(sector)
        if sec.size == 0:
            sec = sec.astype(np.intp)  # np.asarray([]) is float, which cannot index
        elif not np.issubdtype(sec.dtype, np.integer):
            raise ValueError(f"sector must hold integer sector ids, got dtype {sec.dtype}")
        try:
            compatible = np.broadcast_shapes(pd_arr.shape, sec.shape) == pd_arr.shape
        except ValueError:
            compatible = False
        if not compatible:
            raise ValueError(
                f"sector shape {sec.shape} does not broadcast to pd shape {pd_arr.shape}"
            )
        # Negative ids would silently wrap around under numpy indexing.
        if sec.size and (sec.min() < 0 or sec.max() >= self.n_sectors):
            raise ValueError(f"sector ids must lie in [0, {self.n_sectors}), got out-of-range ids")
        if factors.sector.shape != (self.n_sectors,):
            raise ValueError(
                f"factors hold {factors.sector.shape[0]} sector factors, engine has "
                f"{self.n_sectors} sectors"
            )
        return pd_arr, sec

    def _conditional(self, pd_arr: np.ndarray, systematic: ArrayLike) -> np.ndarray:
        """Φ((Φ⁻¹(pd) − systematic)/√(1 − r_m − r_s)), exact at pd = 0 and pd = 1."""
        threshold = ndtri(np.clip(pd_arr, _PD_CLIP, 1.0 - _PD_CLIP))
        p = ndtr((threshold - systematic) / self._load_idio)
        return np.where(pd_arr <= 0.0, 0.0, np.where(pd_arr >= 1.0, 1.0, p))

    def conditional_pd(self, pd: ArrayLike, sector: ArrayLike, factors: FactorDraw) -> np.ndarray:
        """Default probability of each borrower given this quarter's systematic factors.

        p_i = Φ((Φ⁻¹(pd_i) − √r_m Z − √r_s S_{sector_i}) / √(1 − r_m − r_s)).
        ``pd`` is clipped to [1e-12, 1 − 1e-12] for the arithmetic; pd = 0 gives exactly 0
        and pd = 1 exactly 1. ``sector`` holds integer ids broadcastable to ``pd``.
        """
        pd_arr, sec = self._check_inputs(pd, sector, factors)
        systematic = self._load_macro * factors.macro + self._load_sector * factors.sector[sec]
        return self._conditional(pd_arr, systematic)

    def draw_defaults(
        self,
        pd: ArrayLike,
        sector: ArrayLike,
        factors: FactorDraw,
        rng: np.random.Generator,
        *,
        validate: bool = True,
    ) -> np.ndarray:
        """Boolean default indicator per borrower for one quarter.

        Consumes exactly ``len(pd)`` uniforms (``rng.random(len(pd))``), one per borrower in
        order, whatever the pds are, so the stream stays aligned across scenarios.
        ``validate=False`` is the model's hot path: it trusts ``pd`` (1-D, in [0, 1]) and
        ``sector`` (integer ids in range) and skips the checks; results are identical.
        """
        if validate:
            p = self.conditional_pd(pd, sector, factors)
        else:
            # ndtri(0) = -inf and ndtr(-inf) = 0 (likewise at 1), so no clipping is needed
            # for pd = 0 or 1 to stay exact; in-place steps avoid temporaries.
            systematic = (
                self._load_macro * factors.macro + self._load_sector * factors.sector[sector]
            )
            p = ndtri(pd)
            p -= systematic
            p /= self._load_idio
            ndtr(p, out=p)
        if p.ndim != 1:
            raise ValueError(f"pd must be 1-D for draw_defaults, got shape {p.shape}")
        return rng.random(len(p)) < p

    def defaults_below(
        self,
        threshold: np.ndarray,
        sector: np.ndarray,
        factors: FactorDraw,
        uniform: np.ndarray,
    ) -> np.ndarray:
        """Defaults given each borrower's threshold Φ⁻¹(pd) and its own uniform U_i.

        Borrower i defaults iff √r_m·Z + √r_s·S_k + √(1 − r_m − r_s)·ε_i < threshold_i with
        ε_i = Φ⁻¹(U_i): the latent-variable form, evaluated as U_i < Φ((threshold_i −
        √r_m·Z − √r_s·S_k)/√(1 − r_m − r_s)), the same event as `draw_defaults`. The caller
        keeps thresholds from quarter to quarter (Φ⁻¹ only where a PD changed) and owns the
        uniforms (the model keys them per firm and quarter).
        """
        return defaults_below_threshold(
            uniform, threshold, sector, self.systematic_shift(factors), self._load_idio
        )

    def systematic_shift(self, factors: FactorDraw) -> np.ndarray:
        """√r_m·Z + √r_s·S_k for each sector k: the systematic part of the latent variable."""
        return self._load_macro * factors.macro + self._load_sector * factors.sector

    @property
    def idiosyncratic_loading(self) -> float:
        """√(1 − r_m − r_s), the weight of a borrower's own shock in its latent variable."""
        return self._load_idio

    def default_rate_distribution(
        self, pd: float, n_loans: int, n_quarters: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Default rate per quarter of a homogeneous one-sector portfolio over independent quarters.

        The quarters are independent draws of the stationary distribution, whatever
        `macro_persistence` is: this checks the per-quarter distribution, not the cycle.

        For each quarter the macro and the sector factor are drawn (one
        ``rng.standard_normal((n_quarters, 2))`` call, macro in column 0), then the number of
        defaults is drawn as Binomial(n_loans, p(Z, S)). Given the factors the borrowers
        default independently with the same conditional pd, so the count is exactly
        binomial: this is distributionally identical to ``draw_defaults`` on n_loans
        borrowers, but does not reproduce its random stream. Asset correlation within the
        portfolio is r_m + r_s.
        """
        if np.ndim(pd) != 0 or not 0.0 <= pd <= 1.0:
            raise ValueError(f"pd must be a scalar in [0, 1], got {pd!r}")
        for name, value, low in (("n_loans", n_loans, 1), ("n_quarters", n_quarters, 0)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        factors = rng.standard_normal((int(n_quarters), N_SYSTEMATIC_FACTORS))
        systematic = self._load_macro * factors[:, 0] + self._load_sector * factors[:, 1]
        p = self._conditional(np.full(int(n_quarters), float(pd)), systematic)
        return rng.binomial(int(n_loans), p) / n_loans

    @staticmethod
    def expected_loss(exposure: ArrayLike, pd: ArrayLike, lgd: ArrayLike) -> float:
        """Expected one-period loss Σ exposure · pd · lgd."""
        return float(np.sum(np.asarray(exposure, dtype=np.float64) * pd * lgd))
