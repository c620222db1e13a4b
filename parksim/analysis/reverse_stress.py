"""Reverse stress test: how hard must the economy turn before a strategy stops paying?

The severity s of a stress path (parksim/credit/stress.py: the path's shifts × s, its
valuation factors ^ s) is the shock's size; s = 0 is no stress and s = 1 the path as
written (a preset: ``mild``, ``severe``). At each severity the strategy and its reference
run the same replications (common random numbers: replication r has the same seed at
every s and for both strategies), and the paired difference of a metric gives a mean and
its interval (`paired_difference`, a t interval at `level`).

The threshold is the smallest severity at which the strategy stops beating its reference:
the lower end of the difference's interval reaches 0. It is found by bisection on s
(assuming the lower end falls as s grows, checked at the evaluated points) and placed
within the final bracket by linear interpolation. Its own interval is a bootstrap over
replications: each resample of the replications (the same replications at every
evaluated s, so the pairing across s is kept) gives its own lower-end curve through the
evaluated severities and its own crossing; the interval is the resamples' percentiles.
The break-even severity (the mean reaches 0) is reported alongside where the evaluated
points bracket it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from parksim.analysis.differences import LEVEL, paired_difference
from parksim.analysis.sensitivity.study import METRICS_BY_NAME, horizon_value
from parksim.credit.stress import StressPath
from parksim.ensemble.batches import batch_size_for, checked_batch_size
from parksim.ensemble.runner import replication_seed, simulate_batch
from parksim.scenario.schema import Scenario

__all__ = [
    "Evaluation",
    "ReverseStress",
    "find_threshold",
    "metric_value",
    "reverse_stress",
    "stressed_scenario",
]

DEFAULT_METRIC = "cum_net_profit"
# Bootstrap resamples for the threshold's interval: enough for stable 2.5/97.5 percentiles.
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Evaluation:
    """The paired difference (strategy − reference) at one severity."""

    severity: float
    differences: np.ndarray  # one per replication, in replication order
    mean: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ReverseStress:
    """A reverse stress test's answer.

    ``threshold``: the smallest severity at which the lower end of the difference's
    interval reaches 0 (0.0 if the strategy does not beat its reference even unstressed;
    NaN if it still does at ``max_severity``); ``bracket``: the bisection's last interval
    around it; ``interval``: its bootstrap interval (an upper end of inf: in more than
    the tail share of resamples the strategy still beats its reference at
    ``max_severity``); ``break_even``: the severity at which the mean difference reaches
    0, NaN if the evaluated severities do not bracket it."""

    threshold: float
    bracket: tuple[float, float]
    interval: tuple[float, float]
    break_even: float
    evaluations: tuple[Evaluation, ...]
    level: float
    max_severity: float

    def table(self):
        """The evaluations as a DataFrame, by severity."""
        import pandas as pd

        return pd.DataFrame(
            {
                "severity": [e.severity for e in self.evaluations],
                "mean": [e.mean for e in self.evaluations],
                "ci_low": [e.ci_low for e in self.evaluations],
                "ci_high": [e.ci_high for e in self.evaluations],
            }
        ).sort_values("severity", ignore_index=True)


def _evaluation(severity: float, differences: np.ndarray, level: float) -> Evaluation:
    d = np.asarray(differences, dtype=np.float64)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(f"need at least two paired differences per severity, got {d.shape}")
    paired = paired_difference(d, np.zeros_like(d), level=level)
    return Evaluation(
        float(severity),
        d,
        float(paired["mean"]),
        float(paired["ci_low"]),
        float(paired["ci_high"]),
    )


def _crossing(s: np.ndarray, y: np.ndarray) -> float:
    """First severity at which y (sorted by s) reaches 0, linear between the points
    around it; 0.0 if y[0] <= 0, NaN if y stays above 0."""
    if y[0] <= 0.0:
        return float(s[0])
    below = np.flatnonzero(y <= 0.0)
    if len(below) == 0:
        return math.nan
    k = below[0]
    return float(s[k - 1] + (s[k] - s[k - 1]) * y[k - 1] / (y[k - 1] - y[k]))


def find_threshold(
    evaluate: Callable[[float], np.ndarray],
    *,
    max_severity: float = 4.0,
    tolerance: float = 0.05,
    level: float = LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> ReverseStress:
    """The smallest severity in [0, `max_severity`] at which the strategy stops beating
    its reference, with its bootstrap interval.

    Args:
        evaluate: severity → paired differences (strategy − reference), one per
            replication, the same replications (common random numbers) at every severity.
        max_severity: the largest severity tried.
        tolerance: the bisection stops when its bracket is this narrow (in severity).
        level: coverage of the difference's interval and of the threshold's interval.
        resamples: bootstrap resamples of the replications.
        seed: seed of the bootstrap.
    """
    if not (max_severity > 0.0 and math.isfinite(max_severity)):
        raise ValueError(f"max_severity must be a positive number, got {max_severity!r}")
    if not tolerance > 0.0:
        raise ValueError(f"tolerance must be positive, got {tolerance!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    done: dict[float, Evaluation] = {}

    def at(s: float) -> Evaluation:
        if s not in done:
            done[s] = _evaluation(s, evaluate(s), level)
        return done[s]

    lo, hi = 0.0, max_severity
    if at(lo).ci_low <= 0.0:
        hi = lo
    elif at(hi).ci_low > 0.0:
        lo = hi
    else:
        while hi - lo > tolerance:
            mid = 0.5 * (lo + hi)
            if at(mid).ci_low <= 0.0:
                hi = mid
            else:
                lo = mid
    evaluations = tuple(done[s] for s in sorted(done))
    s = np.array([e.severity for e in evaluations])
    lows = np.array([e.ci_low for e in evaluations])
    threshold = _crossing(s, lows)
    means = np.array([e.mean for e in evaluations])
    break_even = _crossing(s, means) if means[-1] <= 0.0 or means[0] <= 0.0 else math.nan
    interval = _bootstrap_interval(evaluations, level, resamples, seed)
    return ReverseStress(
        threshold, (lo, hi), interval, break_even, evaluations, level, max_severity
    )


def _bootstrap_interval(
    evaluations: tuple[Evaluation, ...], level: float, resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile interval of the lower-end crossing over resamples of the replications."""
    s = np.array([e.severity for e in evaluations])
    d = np.stack([e.differences for e in evaluations])  # severities × replications
    n = d.shape[1]
    t = stats.t.ppf(0.5 + level / 2, n - 1)
    rng = np.random.default_rng(seed)
    crossings = np.empty(resamples)
    for b in range(resamples):
        sample = d[:, rng.integers(0, n, n)]
        lows = sample.mean(axis=1) - t * sample.std(axis=1, ddof=1) / math.sqrt(n)
        found = _crossing(s, lows)
        crossings[b] = math.inf if math.isnan(found) else found
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(crossings, [tail, 100.0 - tail], method="lower")
    return float(low), float(high)


# --- the model ---------------------------------------------------------------------------


def metric_value(metrics: dict[str, np.ndarray], metric: str, discount_rate: float = 0.0) -> float:
    """One replication's value of `metric`: a metric of differences.csv as it defines it
    (`horizon_value`: `npv_net_profit` discounted at `discount_rate`, `cum_banking_profit`
    less equity income, ...); else ``cum_X`` is column X summed over the quarters and any
    other column its value at the horizon."""
    if metric in METRICS_BY_NAME:
        return horizon_value(metrics, METRICS_BY_NAME[metric], discount_rate)
    column = metric.removeprefix("cum_")
    if column not in metrics:
        raise ValueError(f"metric: {metric!r} is not a time-series column (docs/columns.md)")
    values = metrics[column]
    return float(values.sum() if metric.startswith("cum_") else values[-1])


def stressed_scenario(scenario: Scenario, path: StressPath) -> Scenario:
    """`scenario` with `path` as every strategy's stress (strategies' own paths dropped)."""
    return replace(
        scenario,
        stress=path,
        strategies=tuple(replace(s, stress=None) for s in scenario.strategies),
    )


def _pairs(args: tuple[Scenario, str, str, int, tuple[int, ...], str]) -> np.ndarray:
    """Strategy − reference for a block of replications: one batch of each strategy."""
    scenario, strategy, reference, seed, replications, metric = args
    seeds = [replication_seed(seed, r) for r in replications]
    rate = scenario.discount_rate
    x = [metric_value(m, metric, rate) for m in simulate_batch(scenario, strategy, seeds)]
    r = [metric_value(m, metric, rate) for m in simulate_batch(scenario, reference, seeds)]
    return np.subtract(x, r, dtype=np.float64)


def reverse_stress(
    scenario: Scenario,
    strategy: str,
    reference: str,
    path: StressPath,
    *,
    metric: str = DEFAULT_METRIC,
    replications: int = 50,
    seed: int | None = None,
    workers: int = 1,
    batch_size: int | None = None,
    **options,
) -> ReverseStress:
    """The reverse stress test of `strategy` against `reference` on the severity of
    `path` (e.g. ``StressPath(preset="severe")``), `replications` pairs per severity;
    `options` go to `find_threshold` (max_severity, tolerance, level, ...).

    The replications run in batches (`simulate_batch`) of at most `batch_size` (default:
    chosen from the park's size and the free memory), split so that each of the
    `workers` gets some."""
    batch_size = checked_batch_size(batch_size)
    for name in (strategy, reference):
        scenario.strategy(name)  # KeyError naming the strategies if unknown
    if strategy == reference:
        raise ValueError("strategy and reference must differ")
    if replications < 2:
        raise ValueError(f"replications must be at least 2, got {replications}")
    if not path.active:
        raise ValueError("the stress path has neither a preset nor periods: nothing to scale")
    root = scenario.seed if seed is None else seed
    metric_value(  # a bad metric fails before any run
        {name: np.zeros(1) for name in _columns()}, metric
    )
    batch = batch_size or batch_size_for(scenario, workers)
    share = -(-replications // max(1, workers))  # every worker gets a block
    blocks = list(itertools.batched(range(replications), min(batch, share)))
    pool = ProcessPoolExecutor(workers) if workers > 1 else None

    def evaluate(severity: float) -> np.ndarray:
        stressed = stressed_scenario(scenario, path.at_severity(severity))
        jobs = [(stressed, strategy, reference, root, block, metric) for block in blocks]
        mapped = pool.map(_pairs, jobs) if pool is not None else map(_pairs, jobs)
        return np.concatenate(list(mapped))

    try:
        return find_threshold(evaluate, **options)
    finally:
        if pool is not None:
            pool.shutdown()


def _columns() -> tuple[str, ...]:
    from parksim.core.metrics import METRIC_NAMES

    return tuple(METRIC_NAMES)
