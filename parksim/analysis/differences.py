"""Paired differences between strategies and their uncertainty: the table `differences.csv`.

A strategy team asks "what does moving from A to B change?", so the answer is a
difference with an interval, not two means. Replication *i* of every strategy shares
child *i* of the root seed (common random numbers), so strategy − reference is taken
replication by replication and its spread is that of the paired differences, usually
far below that of two independent samples.

One row per strategy (other than the reference) × metric. For a metric X with values
x_i (strategy) and r_i (reference) in replication i, d_i = x_i − r_i, n pairs:

- ``mean`` = mean of d; ``se`` = sd(d) / √n; ``ci_low``, ``ci_high`` = mean ± t(0.975,
  n−1) · se, a 95 % interval of the mean difference;
- ``p_better`` = share of replications in which the strategy beats the reference
  (x_i > r_i where higher is better, x_i < r_i where lower is), a tie counting half (so
  two identical strategies give 0.5); ``p_tie`` = the share of ties, reported apart;
- ``median`` = median of d: with a skewed d the mean and ``p_better`` can point different
  ways (the mean better, yet the strategy loses in most replications, or the reverse), and
  ``sign_disagrees`` flags that row (the mean on the better side of zero while
  ``p_better`` < 0.5, or on the worse side while ``p_better`` > 0.5);
- ``breakeven_quarter`` (cumulative metrics only) = the first quarter from which the
  95 % interval of the cumulative difference stays on the better side of zero to the
  horizon (above zero for profit and listings, below for losses and fiscal cost);
  empty if it never does;
- ``se_unpaired`` = √(var(x)/n + var(r)/n), what the standard error would be without
  pairing, and ``correlation`` of x and r across replications: pairing pays when it is
  high.

Tail metrics (VaR and ES of the cumulative credit loss) are not means of per-replication
values, so their difference gets a paired bootstrap: replications are resampled with the
same indices for both strategies, ``mean`` is the difference on the full sample, ``se``
the bootstrap standard deviation and the interval the 2.5 / 97.5 % bootstrap percentiles
(seeded, so the numbers repeat).

Unpaired (runs with different seeds, `parksim compare`): the same columns from two
independent samples, Welch's interval, ``p_better`` the chance that a random replication
of the strategy beats a random one of the reference (ties half), ``median`` the median of
all differences between a replication of each (the Hodges-Lehmann estimate), and an
independent bootstrap. Only
the differences between runs are unpaired: two strategies of the same run share their
seeds, so their difference stays paired (``paired`` as a mapping of strategy to run).

Money in 万元. A metric whose time-series columns are absent (an older run) is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from parksim.analysis.summary import tail_rows
from parksim.core import fmath
from parksim.core.units import QUARTERS_PER_YEAR

#: Confidence level of every interval in the table.
LEVEL = 0.95
#: Bootstrap resamples of the tail differences.
RESAMPLES = 2000
#: Columns of differences.csv, in order (the first nine are the contract).
DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "strategy",
    "reference",
    "metric",
    "mean",
    "se",
    "ci_low",
    "ci_high",
    "p_better",
    "breakeven_quarter",
    "unit",
    "better",
    "replications",
    "se_unpaired",
    "correlation",
    "method",
    "p_tie",
    "median",
    "sign_disagrees",
)


@dataclass(frozen=True)
class DifferenceMetric:
    """A per-replication metric compared between strategies.

    Either the running sum of per-quarter ``flows`` less ``minus`` (a cumulative metric,
    with a path over quarters and a break-even quarter; ``discounted`` sums present
    values) or a ``stock`` column read at the horizon.
    """

    name: str
    unit: str
    better: Literal["higher", "lower"]
    description: str
    flows: tuple[str, ...] = ()
    stock: str | None = None
    discounted: bool = False
    minus: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.flows + self.minus if self.stock is None else (self.stock,)

    @property
    def sign(self) -> float:
        """+1 where higher is better, −1 where lower is."""
        return 1.0 if self.better == "higher" else -1.0

    def per_quarter(
        self, column: Callable[[str], np.ndarray], quarter: np.ndarray, discount_rate: float
    ) -> np.ndarray:
        """The metric in each quarter of a run (or of stacked runs): the stock, or the
        flows less `minus`, discounted to quarter 0 at `discount_rate` a year when
        `discounted`. `column(name)` gives a time-series column as float64, aligned with
        `quarter`. A cumulative metric's value to date is the running sum of these."""

        def total(columns: tuple[str, ...]) -> np.ndarray:
            return np.sum([column(name) for name in columns], axis=0)

        if self.stock is not None:
            return total((self.stock,))
        value = total(self.flows) - (total(self.minus) if self.minus else 0.0)
        if self.discounted:
            value = value * fmath.power(1.0 + discount_rate, -quarter / QUARTERS_PER_YEAR)
        return value


#: What differences.csv compares, in output order. RAROC and the fiscal cost appear when
#: the time series has their columns.
DIFFERENCE_METRICS: tuple[DifferenceMetric, ...] = (
    DifferenceMetric(
        "cum_net_profit", "万元", "higher", "net profit summed over the horizon", ("net_profit",)
    ),
    DifferenceMetric(
        "npv_net_profit",
        "万元 at quarter 0",
        "higher",
        "net profit discounted to quarter 0 at the scenario's discount_rate",
        ("net_profit",),
        discounted=True,
    ),
    # Profit split by source: equity gains (warrants, fund stakes) are lumpy exits that
    # only the tiers holding stakes earn, so no pairing removes their variance; the rest
    # of profit (lending, fees, deposits, costs) pairs tightly across strategies.
    DifferenceMetric(
        "cum_pre_tax_profit",
        "万元",
        "higher",
        "the bank's profit before tax summed over the horizon",
        ("pre_tax_profit",),
    ),
    DifferenceMetric(
        "cum_banking_profit",
        "万元",
        "higher",
        "pre-tax profit less the bank's own equity income (lending, fees, deposits, less "
        "costs and credit loss) over the horizon",
        ("pre_tax_profit",),
        minus=("equity_income",),
    ),
    DifferenceMetric(
        "cum_equity_income",
        "万元",
        "higher",
        "equity income booked at the bank, before tax (0 unless group.holder = 'bank'), "
        "over the horizon",
        ("equity_income",),
    ),
    DifferenceMetric(
        "cum_group_net_profit",
        "万元",
        "higher",
        "the group view: the bank's net profit plus the group's equity vehicle and "
        "securities affiliate, after tax, over the horizon",
        ("group_net_profit",),
    ),
    DifferenceMetric(
        "npv_group_net_profit",
        "万元 at quarter 0",
        "higher",
        "the group view's net profit discounted to quarter 0 at the scenario's discount_rate",
        ("group_net_profit",),
        discounted=True,
    ),
    DifferenceMetric(
        "cum_group_equity_income",
        "万元",
        "higher",
        "the group equity vehicle's realised income after tax, over the horizon",
        ("group_equity_income",),
    ),
    DifferenceMetric(
        "cum_group_equity_fv_income",
        "万元",
        "higher",
        "the group equity vehicle's income with its stakes marked to model (realised plus "
        "the change in fair value), over the horizon",
        ("group_equity_fv_income",),
    ),
    DifferenceMetric(
        "cum_credit_loss", "万元", "lower", "credit loss summed over the horizon", ("credit_loss",)
    ),
    DifferenceMetric(
        "cum_expected_loss",
        "万元",
        "lower",
        "one-quarter expected loss of the performing book, summed over the horizon",
        ("expected_loss",),
    ),
    DifferenceMetric(
        "final_npl_ratio", "share", "lower", "NPL ratio at the horizon", stock="npl_ratio"
    ),
    DifferenceMetric(
        "final_raroc", "share per year", "higher", "RAROC at the horizon", stock="raroc"
    ),
    DifferenceMetric(
        "cum_listings", "firms", "higher", "listings (IPOs) over the horizon", ("listings",)
    ),
    DifferenceMetric(
        "cum_young_new_loans",
        "万元",
        "higher",
        "new loans to seed and startup firms, all banks, over the horizon",
        ("young_new_loans",),
    ),
    DifferenceMetric(
        "cum_fiscal_cost",
        "万元",
        "lower",
        "risk-pool and guarantee payouts and interest subsidies, over the horizon",
        ("fiscal_pool_paid", "fiscal_guarantee_paid", "fiscal_subsidy_cost"),
    ),
)

METRIC_BY_NAME = {m.name: m for m in DIFFERENCE_METRICS}

#: Tail metrics of the cumulative credit loss, as (metric name, statistic, level).
TAIL_DIFFERENCES: tuple[tuple[str, str, float], ...] = (
    ("cum_credit_loss_var95", "var", 0.95),
    ("cum_credit_loss_var99", "var", 0.99),
    ("cum_credit_loss_es95", "es", 0.95),
    ("cum_credit_loss_es99", "es", 0.99),
)


# --- per-replication values -----------------------------------------------------------


def metric_paths(
    timeseries: pd.DataFrame, metric: DifferenceMetric, discount_rate: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Per strategy: one row per replication, one column per quarter.

    A cumulative metric's value to date at each quarter (a flow discounted at
    ``discount_rate`` a year if ``metric.discounted``); a stock metric's value.
    """

    value = metric.per_quarter(
        lambda name: timeseries[name].to_numpy(dtype=np.float64),
        timeseries["quarter"].to_numpy(),
        discount_rate,
    )
    out = {}
    for name, rows in _strategy_rows(timeseries).items():
        # The pivot of these rows (replication × quarter, both sorted), placed directly.
        replications, at_replication = np.unique(
            timeseries["replication"].to_numpy()[rows], return_inverse=True
        )
        quarters, at_quarter = np.unique(
            timeseries["quarter"].to_numpy()[rows], return_inverse=True
        )
        grid = np.full((len(replications), len(quarters)), np.nan)
        grid[at_replication, at_quarter] = value[rows]
        table = pd.DataFrame(
            grid,
            index=pd.Index(replications, name="replication"),
            columns=pd.Index(quarters, name="quarter"),
        )
        out[name] = table.cumsum(axis=1) if metric.stock is None else table
    return out


def _strategy_rows(timeseries: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per strategy (in order of appearance): the positions of its rows."""
    strategy = timeseries["strategy"]
    groups = strategy.groupby(strategy.astype(str), sort=False, observed=True).indices
    return {str(name): np.asarray(rows) for name, rows in groups.items()}


# --- statistics of a difference --------------------------------------------------------


def paired_difference(
    x: np.ndarray, r: np.ndarray, better: str = "higher", level: float = LEVEL
) -> dict[str, np.ndarray]:
    """Mean of x − r over paired replications (axis 0), its standard error, interval,
    share of pairs where x beats r, the unpaired standard error and the correlation.

    ``x`` and ``r`` have the same shape: (replications,) or (replications, quarters).
    """
    x, r = np.asarray(x, dtype=np.float64), np.asarray(r, dtype=np.float64)
    n = x.shape[0]
    d = x - r
    mean = d.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = d.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full_like(mean, np.nan)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * se if n > 1 else se
        unpaired = (
            np.sqrt((x.var(axis=0, ddof=1) + r.var(axis=0, ddof=1)) / n)
            if n > 1
            else np.full_like(mean, np.nan)
        )
        sx, sr = x.std(axis=0), r.std(axis=0)
        cov = ((x - x.mean(axis=0)) * (r - r.mean(axis=0))).mean(axis=0)
        correlation = np.where((sx > 0) & (sr > 0), cov / (sx * sr), np.nan)
    beats = d > 0 if better == "higher" else d < 0
    ties = (d == 0).mean(axis=0)
    return {
        "mean": mean,
        "se": se,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "p_better": beats.mean(axis=0) + ties / 2,
        "se_unpaired": unpaired,
        "correlation": correlation,
        "p_tie": ties,
        "median": np.median(d, axis=0),
    }


def unpaired_difference(
    x: np.ndarray, r: np.ndarray, better: str = "higher", level: float = LEVEL
) -> dict[str, np.ndarray]:
    """As :func:`paired_difference` for independent samples (Welch's interval); the
    samples may differ in size. ``p_better`` is the chance that a random x beats a
    random r (a tie counts half, ``p_tie`` is their share), ``median`` the median of all
    differences x_i − r_j."""
    x, r = np.asarray(x, dtype=np.float64), np.asarray(r, dtype=np.float64)
    nx, nr = x.shape[0], r.shape[0]
    mean = x.mean(axis=0) - r.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        vx = x.var(axis=0, ddof=1) / nx if nx > 1 else np.full_like(mean, np.nan)
        vr = r.var(axis=0, ddof=1) / nr if nr > 1 else np.full_like(mean, np.nan)
        se = np.sqrt(vx + vr)
        df = (vx + vr) ** 2 / (vx**2 / max(nx - 1, 1) + vr**2 / max(nr - 1, 1))
        half = stats.t.ppf(0.5 + level / 2, np.where(np.isfinite(df) & (df > 0), df, 1.0)) * se
    d = x[:, None] - r[None, :]
    wins = d > 0 if better == "higher" else d < 0
    ties = (d == 0).mean(axis=(0, 1))
    return {
        "mean": mean,
        "se": se,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "p_better": wins.mean(axis=(0, 1)) + ties / 2,
        "se_unpaired": se,
        "correlation": np.full_like(mean, np.nan),
        "p_tie": ties,
        "median": np.median(d, axis=(0, 1)),
    }


def sign_disagrees(mean, p_better, better) -> np.ndarray:
    """Whether the mean difference and ``p_better`` point different ways: the mean on the
    better side of zero (above it where higher is better, below where lower is) while the
    strategy beats the reference in fewer than half the replications, or the reverse.
    False where either is zero-sided (mean 0, ``p_better`` 0.5) or missing."""
    sign = np.where(np.asarray(better) == "higher", 1.0, -1.0)
    side = np.sign(sign * np.asarray(mean, dtype=np.float64))
    lean = np.sign(np.asarray(p_better, dtype=np.float64) - 0.5)
    with np.errstate(invalid="ignore"):
        return np.asarray(side * lean < 0)


def breakeven_quarter(
    quarters: np.ndarray, low: np.ndarray, high: np.ndarray, better: str
) -> float:
    """First quarter from which the interval [low, high] of a cumulative difference stays
    on the better side of zero up to the last quarter; NaN if it never does."""
    on_side = low > 0 if better == "higher" else high < 0
    if not on_side[-1]:
        return float("nan")
    misses = np.flatnonzero(~on_side)
    start = misses[-1] + 1 if len(misses) else 0
    return float(quarters[start])


def tail_difference(
    x: np.ndarray,
    r: np.ndarray,
    statistic: str,
    level: float,
    *,
    paired: bool = True,
    resamples: int = RESAMPLES,
    rng: np.random.Generator,
) -> dict[str, float]:
    """VaR or ES (``statistic`` "var" or "es") of x less that of r, with a bootstrap
    standard error and 95 % percentile interval; paired resamples use one set of
    replication indices for both. ``se_unpaired`` is the standard error of independent
    resamples, for comparison."""
    x, r = np.asarray(x, dtype=np.float64), np.asarray(r, dtype=np.float64)
    index = 0 if statistic == "var" else 1

    def statistic_of(sample: np.ndarray) -> np.ndarray:
        return tail_rows(sample, level)[index]

    point = statistic_of(x[None, :])[0] - statistic_of(r[None, :])[0]
    ix = rng.integers(0, len(x), size=(resamples, len(x)))
    ir = rng.integers(0, len(r), size=(resamples, len(r)))
    resampled_x = statistic_of(x[ix])  # shared by both bootstraps: one sort, not two
    independent = resampled_x - statistic_of(r[ir])
    boot = resampled_x - statistic_of(r[ix]) if paired else independent
    low, high = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    both = len(x) == len(r) and x.std() > 0 and r.std() > 0
    return {
        "mean": float(point),
        "se": float(boot.std(ddof=1)),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_better": float("nan"),
        "se_unpaired": float(independent.std(ddof=1)),
        "correlation": float(np.corrcoef(x, r)[0, 1]) if paired and both else float("nan"),
        "p_tie": float("nan"),
        "median": float("nan"),
    }


# --- the table -------------------------------------------------------------------------


def differences(
    timeseries: pd.DataFrame,
    reference: str | None = None,
    *,
    discount_rate: float = 0.0,
    paired: bool | Mapping[str, str] = True,
    seed: int = 0,
    resamples: int = RESAMPLES,
    metrics: Sequence[DifferenceMetric] = DIFFERENCE_METRICS,
) -> pd.DataFrame:
    """The differences table (columns :data:`DIFFERENCE_COLUMNS`): every strategy but the
    reference against ``reference`` (default: the first strategy), for every metric of
    ``metrics`` whose columns the table has and for the tail metrics.

    ``paired`` pairs replication i of a strategy with replication i of the reference
    (right when they share the root seed); pairs are the replications both have. As a
    mapping of each strategy to its seed group (in `parksim compare`, its run), a
    strategy is paired with the reference when both are of the same group, and compared
    as an independent sample otherwise.
    ``discount_rate`` (annual) discounts ``npv_net_profit``; ``seed`` seeds the bootstrap.
    """
    names = [str(s) for s in pd.unique(timeseries["strategy"])]
    reference = names[0] if reference is None else str(reference)
    if reference not in names:
        raise KeyError(f"reference {reference!r} is not a strategy of the table; it has {names}")
    present = [m for m in metrics if set(m.columns) <= set(timeseries.columns)]
    paths = {m.name: metric_paths(timeseries, m, discount_rate) for m in present}
    losses = paths.get("cum_credit_loss") or metric_paths(
        timeseries, METRIC_BY_NAME["cum_credit_loss"], discount_rate
    )
    rows = []
    for position, name in enumerate(names):
        if name == reference:
            continue
        rng = np.random.default_rng((seed, position))
        pair = replications_pair(paired, name, reference)
        for metric in present:
            rows.append(_metric_row(name, reference, metric, paths[metric.name], pair))
        x, r = _final(losses[name]), _final(losses[reference])
        if pair:
            x, r = _common(x, r)
        for metric_name, statistic, level in TAIL_DIFFERENCES:
            result = tail_difference(
                x.to_numpy(),
                r.to_numpy(),
                statistic,
                level,
                paired=pair,
                resamples=resamples,
                rng=rng,
            )
            rows.append(
                _row(name, reference, metric_name, result, "万元", "lower", len(x), pair, True)
            )
    out = pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))
    out["sign_disagrees"] = sign_disagrees(out["mean"], out["p_better"], out["better"])
    out["breakeven_quarter"] = out["breakeven_quarter"].astype("Int64")
    out["replications"] = out["replications"].astype(np.int64)
    return out


def replications_pair(paired: bool | Mapping[str, str], name: str, reference: str) -> bool:
    """Whether the replications of `name` and `reference` pair: `paired` is True or False
    for every strategy, or each strategy's seed group (its run), pairing within one."""
    if isinstance(paired, bool):
        return paired
    return paired[name] == paired[reference]


def _final(table: pd.DataFrame) -> pd.Series:
    return table.iloc[:, -1]


def _common(x: pd.DataFrame | pd.Series, r: pd.DataFrame | pd.Series):
    both = x.index.intersection(r.index)
    if len(both) == 0:
        raise ValueError("the strategy and the reference share no replication to pair")
    return x.loc[both], r.loc[both]


def _metric_row(
    name: str,
    reference: str,
    metric: DifferenceMetric,
    paths: dict[str, pd.DataFrame],
    paired: bool,
) -> dict[str, object]:
    x, r = paths[name], paths[reference]
    if paired:
        x, r = _common(x, r)
    compute = paired_difference if paired else unpaired_difference
    if metric.stock is not None:
        # A stock may be undefined in some replications (RAROC without capital).
        fx, fr = _final(x), _final(r)
        keep = fx.notna() & fr.notna() if paired else None
        if paired:
            fx, fr = fx[keep], fr[keep]
        else:
            fx, fr = fx.dropna(), fr.dropna()
        result = compute(fx.to_numpy(), fr.to_numpy(), metric.better)
        count = len(fx)
        breakeven = float("nan")
    else:
        full = compute(x.to_numpy(), r.to_numpy(), metric.better)
        result = {key: value[-1] for key, value in full.items()}
        quarters = x.columns.to_numpy()
        breakeven = breakeven_quarter(quarters, full["ci_low"], full["ci_high"], metric.better)
        count = len(x)
    row = _row(name, reference, metric.name, result, metric.unit, metric.better, count, paired)
    row["breakeven_quarter"] = breakeven
    return row


def _row(
    name: str,
    reference: str,
    metric: str,
    result: dict[str, float],
    unit: str,
    better: str,
    count: int,
    paired: bool,
    bootstrap: bool = False,
) -> dict[str, object]:
    if bootstrap:
        method = "paired bootstrap" if paired else "independent bootstrap"
    else:
        method = "paired t" if paired else "Welch t (unpaired)"
    return {
        "strategy": name,
        "reference": reference,
        "metric": metric,
        **{key: float(value) for key, value in result.items()},
        "breakeven_quarter": float("nan"),
        "unit": unit,
        "better": better,
        "replications": count,
        "method": method,
    }


def replications_for(se: float, replications: int, mean: float, relative: float = 0.05) -> float:
    """Replications at which the 95 % interval of a mean difference is ± ``relative`` of
    the mean, given its standard error ``se`` at ``replications`` (se ∝ 1/√n)."""
    if mean == 0 or not np.isfinite(se):
        return float("nan")
    target = relative * abs(mean) / 1.96
    return float(math.ceil(replications * (se / target) ** 2))


__all__ = [
    "DIFFERENCE_COLUMNS",
    "DIFFERENCE_METRICS",
    "DifferenceMetric",
    "breakeven_quarter",
    "differences",
    "metric_paths",
    "paired_difference",
    "replications_for",
    "sign_disagrees",
    "tail_difference",
    "unpaired_difference",
]
