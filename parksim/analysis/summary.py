"""Per-strategy summary statistics of the time-series table.

Every function is pure: it takes the tidy time-series table described in
:mod:`parksim.core.metrics` (one row per strategy × replication × quarter), or the
per-replication table made from it, and returns new DataFrames; nothing is read or written.

Money is in 万元 (10,000 RMB). Flow columns (income, cost, loss, new loans) are per
quarter in the input; the ``cum_*`` metrics here are sums over the whole horizon.

Tail risk of the cumulative credit loss L (one value per replication, n replications):

- expected loss EL = mean of L (``cum_credit_loss_mean``);
- VaR_α = the empirical α-quantile of L: the k-th smallest loss with k = ⌈α·n⌉, i.e. the
  smallest simulated loss that at least a share α of replications do not exceed. It is
  always a simulated value (no interpolation, unlike the p5/p50/p95 columns);
- ES_α (expected shortfall) = the mean of the losses ≥ VaR_α;
- unexpected loss UL = VaR_99.9 − EL; return on risk = mean cumulative net profit / UL.

Beside it, RAROC per replication: the annualised net profit over the mean Basel IRB
capital the bank holds on its book (``capital_irb``, quarters 1 to the horizon).

A tail estimate needs replications beyond it: with fewer than 1,000 replications VaR and
ES at 99.9 % are both the largest simulated loss, and with fewer than 100 so are those at
99 %. Read them as "the worst case seen", not as a 1-in-1,000 loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import stats

from parksim.core.codes import STAGES

KEYS: tuple[str, str] = ("strategy", "replication")

#: Quantiles reported for every metric, as (suffix, probability).
QUANTILES: tuple[tuple[str, float], ...] = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))

#: Per-quarter flows summed over the horizon; reported as ``cum_<column>``.
CUMULATIVE_METRICS: tuple[str, ...] = (
    "credit_loss",
    "policy_recoveries",
    "net_interest_income",
    "fee_income",
    "equity_income",
    "personal_finance_income",
    "operating_cost",
    "pre_tax_profit",
    "tax",
    "net_profit",
    "group_fee_income",
    "group_equity_income",
    "group_net_profit",
    "new_loans",
    "defaults",
    "listings",
    "failures",
    "entries",
    "operator_revenue",
    "fiscal_pool_paid",
    "fiscal_guarantee_paid",
    "fiscal_subsidy_cost",
    "young_new_loans",
)
#: Columns whose sum is the fiscal cost: what public money pays for the policy package.
FISCAL_COLUMNS: tuple[str, ...] = (
    "fiscal_pool_paid",
    "fiscal_guarantee_paid",
    "fiscal_subsidy_cost",
)

#: Every metric summarised, with its unit, in output order.
METRICS: dict[str, str] = {
    "cum_credit_loss": "万元",
    # Right after the tail metrics of cum_credit_loss, so RAROC sits beside return_on_risk.
    "mean_capital": "万元",
    "raroc": "share per year",
    # Credit loss is net of the policy's cover: the gross loss is what the defaults cost
    # before the risk pool and guarantee pay their part.
    "cum_gross_credit_loss": "万元",
    "cum_policy_recoveries": "万元",
    "cum_net_interest_income": "万元",
    "cum_fee_income": "万元",
    "cum_equity_income": "万元",
    "cum_personal_finance_income": "万元",
    "cum_operating_cost": "万元",
    "cum_pre_tax_profit": "万元",
    "cum_tax": "万元",
    "cum_net_profit": "万元",
    "cum_group_fee_income": "万元",
    "cum_group_equity_income": "万元",
    "cum_group_net_profit": "万元",
    "final_npl_ratio": "share",
    "peak_exposure": "万元",
    "final_exposure": "万元",
    "cum_new_loans": "万元",
    "cum_defaults": "loans",
    "cum_listings": "firms",
    "cum_failures": "firms",
    "cum_entries": "firms",
    "annual_default_rate": "share per year",
    "mean_operator_leverage": "share",
    "mean_occupancy": "share",
    "cum_operator_revenue": "万元",
    "cum_fiscal_pool_paid": "万元",
    "cum_fiscal_guarantee_paid": "万元",
    "cum_fiscal_subsidy_cost": "万元",
    "cum_fiscal_cost": "万元",
    "final_pool_remaining": "万元",
    "cum_young_new_loans": "万元",
}

#: Why a risk pool can raise the bank's losses, printed where a strategy has one.
POOL_NOTE = (
    "A risk pool can raise the bank's credit losses: the bank approves a loan when its "
    "expected loss after policy cover fits its appetite, so cover lets it lend to riskier "
    "young firms, and gross defaults rise; a small pool runs out, and from then the bank "
    "bears those loans' losses in full."
)


#: Performing borrowers by stage at the start of each quarter: the default-rate base.
START_BORROWERS: tuple[str, ...] = tuple(f"borrowers_{s}" for s in STAGES)

#: Confidence levels of the tail metrics, as (column suffix, level).
TAIL_LEVELS: tuple[tuple[str, float], ...] = (("95", 0.95), ("99", 0.99), ("99_9", 0.999))

#: Tail-risk columns of the summary, with their units, in output order.
TAIL_METRICS: dict[str, str] = {
    **{
        f"cum_credit_loss_{stat}{suffix}": "万元"
        for suffix, _ in TAIL_LEVELS
        for stat in ("var", "es")
    },
    "unexpected_loss_99_9": "万元",
    "return_on_risk": "万元 per 万元 (share)",
}


def strategy_order(timeseries: pd.DataFrame) -> list[str]:
    """Strategy names in order of first appearance (the scenario's order)."""
    # Unique values first: turning 100,000s of categorical rows into strings is slow.
    return [str(s) for s in pd.unique(timeseries["strategy"])]


def cumulative(timeseries: pd.DataFrame, columns: str | Iterable[str]) -> pd.DataFrame:
    """Add ``cum_<column>`` running sums within each strategy × replication.

    Sums run in quarter order, whatever the row order of the input; the returned
    copy keeps the input's rows, row order and index. Units are those of the summed
    column (a per-quarter flow in 万元 becomes a stock in 万元 to date).
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    out = timeseries.copy()
    if not cols:
        return out
    # Work on positions so a non-unique or unsorted index cannot misalign the sums.
    frame = timeseries[[*KEYS, "quarter", *cols]].reset_index(drop=True)
    ordered = frame.sort_values([*KEYS, "quarter"], kind="stable")
    sums = ordered.groupby(list(KEYS), sort=False, observed=True)[cols].cumsum().sort_index()
    for c in cols:
        out[f"cum_{c}"] = sums[c].to_numpy()
    return out


def per_replication(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy × replication (index ``strategy``, ``replication``) with every
    metric of :data:`METRICS`; strategies in order of first appearance."""
    stocks = ["npl_ratio", "exposure", "operator_leverage", "occupancy", "pool_remaining"]
    # Tables written before 0.6.0 lack the tax and group columns: their sums are missing.
    flows = [c for c in CUMULATIVE_METRICS if c in timeseries.columns]
    ts = timeseries[[*KEYS, "quarter", *flows, *stocks, *START_BORROWERS]].copy()
    # Defaults in quarter q happen among the borrowers at the start of q (the
    # borrowers_<stage> columns); the quarter-0 row only repeats the opening book.
    ts["start_borrowers"] = ts[list(START_BORROWERS)].sum(axis=1) * (ts["quarter"] >= 1)
    # Tables written before 0.3.0 have no capital column: their RAROC is missing.
    capital = timeseries.get("capital", np.nan)
    ts["capital_for_raroc"] = pd.Series(capital, index=ts.index).where(ts["quarter"] >= 1)
    ts["strategy"] = ts["strategy"].astype(str)
    ts = ts.sort_values([*KEYS, "quarter"], kind="stable")
    g = ts.groupby(list(KEYS), sort=False)

    per = pd.DataFrame(index=g.size().index)
    for c in CUMULATIVE_METRICS:
        per[f"cum_{c}"] = g[c].sum() if c in flows else np.nan
    # Sorted by quarter above, so "last" is the horizon quarter.
    per["final_npl_ratio"] = g["npl_ratio"].last()
    per["peak_exposure"] = g["exposure"].max()
    per["final_exposure"] = g["exposure"].last()
    # Defaults per borrower-quarter, ×4 to annualise; undefined (NaN) without borrowers.
    borrower_quarters = g["start_borrowers"].sum()
    per["annual_default_rate"] = (
        per["cum_defaults"] / borrower_quarters.where(borrower_quarters > 0) * 4
    )
    per["cum_fiscal_cost"] = per[[f"cum_{c}" for c in FISCAL_COLUMNS]].sum(axis=1)
    per["cum_gross_credit_loss"] = per["cum_credit_loss"] + per["cum_policy_recoveries"]
    per["final_pool_remaining"] = g["pool_remaining"].last()
    # RAROC: annual net profit over the mean IRB capital of quarters 1..horizon.
    years = (ts["quarter"] >= 1).groupby([ts[k] for k in KEYS], sort=False).sum() / 4.0
    per["mean_capital"] = g["capital_for_raroc"].mean()
    capital = per["mean_capital"].where(per["mean_capital"] > 0)
    per["raroc"] = per["cum_net_profit"] / years.where(years > 0) / capital
    per["mean_operator_leverage"] = g["operator_leverage"].mean()
    per["mean_occupancy"] = g["occupancy"].mean()
    return per[list(METRICS)].reindex(strategy_order(timeseries), level="strategy")


def value_at_risk(losses: np.ndarray, level: float) -> float:
    """Empirical VaR: the k-th smallest loss, k = ⌈level · n⌉ (NaN without losses).

    ``level`` is read as the decimal it prints as (0.999 is exactly 999/1000), so k does
    not drift with binary rounding: 1,000 losses give k = 999 at 99.9 %, not 1,000.
    """
    values = np.sort(np.asarray(losses, dtype=np.float64))
    if len(values) == 0:
        return float("nan")
    k = math.ceil(Fraction(str(level)) * len(values))
    return float(values[max(k, 1) - 1])


def expected_shortfall(losses: np.ndarray, level: float) -> float:
    """Mean of the losses ≥ the empirical VaR at ``level`` (NaN without losses)."""
    values = np.asarray(losses, dtype=np.float64)
    var = value_at_risk(values, level)
    return float(values[values >= var].mean()) if len(values) else float("nan")


def tail_risk(losses: np.ndarray, profits: np.ndarray) -> dict[str, float]:
    """The :data:`TAIL_METRICS` of one strategy from its per-replication cumulative credit
    losses and net profits (万元).

    Return on risk is NaN when UL ≤ 0: with no loss beyond the expected one in the sample
    (for example no credit loss in any replication) the ratio is undefined, and it is
    reported as missing rather than as ±inf.
    """
    out: dict[str, float] = {}
    for suffix, level in TAIL_LEVELS:
        out[f"cum_credit_loss_var{suffix}"] = value_at_risk(losses, level)
        out[f"cum_credit_loss_es{suffix}"] = expected_shortfall(losses, level)
    unexpected = out["cum_credit_loss_var99_9"] - float(np.mean(losses))
    out["unexpected_loss_99_9"] = unexpected
    out["return_on_risk"] = float(np.mean(profits)) / unexpected if unexpected > 0 else np.nan
    return out


def policy_effects(per: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Per strategy (index ``strategy``): what its policy package costs and buys.

    - ``pool_exhausted_share``: share of replications in which the risk pool paid and
      ran out (no capital left at the horizon);
    - ``extra_young_lending_per_fiscal_cost``: extra new loans to seed and startup firms
      (all banks) per 万元 of extra fiscal cost, both against ``reference`` (default: the
      first strategy), from the means over replications; empty for the reference and when
      the strategy costs no more public money than it;
    - ``policy_note``: for strategies whose pool paid out, the pool's payout and how often
      it ran out, with :data:`POOL_NOTE`.

    ``per`` is :func:`per_replication`'s table.
    """
    g = per.groupby(level="strategy", sort=False)
    means = g.mean()
    reference = str(means.index[0]) if reference is None else reference
    paid = per["cum_fiscal_pool_paid"] > 0
    exhausted = (paid & (per["final_pool_remaining"] <= 0)).groupby(level="strategy").mean()
    extra_cost = means["cum_fiscal_cost"] - means.loc[reference, "cum_fiscal_cost"]
    extra_lending = means["cum_young_new_loans"] - means.loc[reference, "cum_young_new_loans"]
    ratio = (extra_lending / extra_cost.where(extra_cost > 0)).where(means.index != reference)
    out = pd.DataFrame(
        {
            "pool_exhausted_share": exhausted.reindex(means.index),
            "extra_young_lending_per_fiscal_cost": ratio,
        }
    )
    notes = []
    for name in means.index:
        pool = means.loc[name, "cum_fiscal_pool_paid"]
        if pool > 0:
            share = out.loc[name, "pool_exhausted_share"]
            notes.append(
                f"The risk pool paid {pool:,.0f} 万元 on average and ran out in {share:.0%} "
                f"of replications. {POOL_NOTE}"
            )
        else:
            notes.append("")
    out["policy_note"] = notes
    return out


def summarise(timeseries: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Summarise each strategy over replications.

    Returns one row per strategy (index ``strategy``, in order of first appearance)
    with ``replications`` (count) and, for each metric in :data:`METRICS`, the
    columns ``<metric>_mean``, ``<metric>_p5``, ``<metric>_p50``, ``<metric>_p95``
    taken across replications (quantiles use numpy's linear interpolation). After the
    ``cum_credit_loss_*`` columns come the tail metrics of :data:`TAIL_METRICS`
    (estimators in the module docstring): ``cum_credit_loss_var{95,99,99_9}``,
    ``cum_credit_loss_es{95,99,99_9}``, ``unexpected_loss_99_9`` and ``return_on_risk``.

    Metrics, per replication:

    - ``cum_<flow>``: the flow summed over all quarters. Money (credit_loss,
      net_interest_income, fee_income, equity_income, personal_finance_income,
      operating_cost, pre_tax_profit, tax, net_profit, group_fee_income,
      group_equity_income, group_net_profit, new_loans, operator_revenue) in 万元;
      defaults in loans; listings, failures, entries in firms.
    - ``cum_policy_recoveries``: what the risk pool and the government guarantee paid
      the focal bank on its defaults, 万元; ``cum_gross_credit_loss`` = cum_credit_loss +
      cum_policy_recoveries, the defaults' loss before that cover (defaulted exposure ×
      LGD), 万元.
    - ``final_npl_ratio``: npl_ratio at the last quarter (share, 0-1).
    - ``peak_exposure`` / ``final_exposure``: maximum / last-quarter exposure, 万元.
    - ``annual_default_rate``: sum(defaults) / sum of the performing borrowers at the
      start of each quarter × 4, i.e. defaults per borrower-quarter annualised linearly
      (share per year); NaN if the bank never had a borrower.
    - ``mean_operator_leverage`` / ``mean_occupancy``: mean over quarters (share).
    - ``cum_fiscal_*``: public money paid over the horizon to all banks: risk-pool and
      guarantee payouts, interest subsidies; ``cum_fiscal_cost`` is their sum, 万元.
      ``final_pool_remaining``: the pool's capital left at the horizon, 万元.
      ``cum_young_new_loans``: new loans to seed and startup firms, all banks, 万元.

    Last come the columns of :func:`policy_effects` (against ``reference``, default
    the first strategy): ``pool_exhausted_share``,
    ``extra_young_lending_per_fiscal_cost`` and ``policy_note``.
    - ``mean_capital``: mean capital (IRB, operational, stakes, operator loans) of
      quarters 1 to the horizon, 万元.
    - ``raroc``: cum_net_profit per year / mean_capital (share per year); NaN without
      capital. Reported beside ``return_on_risk`` (profit / UL).
    """
    order = strategy_order(timeseries)
    per = per_replication(timeseries)
    g = per.groupby(level="strategy", sort=False)

    parts: dict[str, pd.DataFrame | pd.Series] = {"replications": g.size()}
    means = g.mean()
    quantiles = {suffix: g.quantile(q) for suffix, q in QUANTILES}
    tails = pd.DataFrame(
        {
            name: tail_risk(group["cum_credit_loss"].to_numpy(), group["cum_net_profit"].to_numpy())
            for name, group in g
        }
    ).T
    for m in METRICS:
        parts[f"{m}_mean"] = means[m]
        for suffix, _ in QUANTILES:
            parts[f"{m}_{suffix}"] = quantiles[suffix][m]
        if m == "cum_credit_loss":
            parts.update({name: tails[name] for name in TAIL_METRICS})
    out = pd.DataFrame(parts).reindex(order)
    out = out.join(policy_effects(per, reference))
    out.index.name = "strategy"
    out["replications"] = out["replications"].astype(np.int64)
    return out


def tail_rows(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """VaR and ES at ``level`` of each row of ``samples`` (rows: resamples of the same
    size), by the estimators of :func:`value_at_risk` and :func:`expected_shortfall`."""
    ordered = np.sort(samples, axis=1)
    k = math.ceil(Fraction(str(level)) * ordered.shape[1])
    var = ordered[:, max(k, 1) - 1 : max(k, 1)]
    tail = ordered >= var
    return var[:, 0], (ordered * tail).sum(axis=1) / tail.sum(axis=1)


def _expected_shortfalls(samples: np.ndarray, level: float) -> np.ndarray:
    """ES at ``level`` of each row of ``samples`` (rows: resamples of the same size)."""
    return tail_rows(samples, level)[1]


#: The one coverage of the intervals the charts and the report print (also differences.csv's).
INTERVAL = 0.95


def mean_interval(values: np.ndarray, interval: float = INTERVAL) -> tuple[float, float, float]:
    """The mean of ``values`` (one per replication) and its normal interval of coverage
    ``interval``: mean ± z standard errors (z = 1.96 at 95 %); NaN bounds with fewer than
    two values, and the NaNs of a metric that is undefined in a replication left out."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    z = float(stats.norm.ppf(1.0 - (1.0 - interval) / 2.0))
    margin = z * x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
    mean = float(x.mean())
    return mean, mean - margin, mean + margin


def intervals(
    per: pd.DataFrame,
    metrics: Iterable[str] | None = None,
    interval: float = INTERVAL,
    resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every figure of the summary a reader may cite, with an interval of coverage
    ``interval`` (default 95 %) for its sampling uncertainty: one row per strategy ×
    metric (columns ``strategy``, ``metric``, ``value``, ``low``, ``high``).

    ``per`` is :func:`per_replication`'s table. A metric of :data:`METRICS` (default: all)
    is its mean over replications with :func:`mean_interval`. The tail metrics of
    :data:`TAIL_METRICS` are the summary's estimates (:func:`tail_risk`) with the
    percentile interval over ``resamples`` bootstrap resamples of the replications (a
    fixed ``seed``, so the numbers repeat); a resample whose UL is not positive has no
    return on risk and is left out of that interval. With few replications a tail
    interval spans the largest losses seen.
    """
    names = list(METRICS) if metrics is None else list(metrics)
    rng = np.random.default_rng(seed)
    tail = (1.0 - interval) / 2.0
    rows = []
    for name, group in per.groupby(level="strategy", sort=False):
        for metric in names:
            mean, low, high = mean_interval(group[metric].to_numpy(), interval)
            rows.append((name, metric, mean, low, high))
        losses = group["cum_credit_loss"].to_numpy(dtype=np.float64)
        profits = group["cum_net_profit"].to_numpy(dtype=np.float64)
        n = len(losses)
        pick = rng.integers(0, n, size=(resamples, n))
        boot: dict[str, np.ndarray] = {}
        for suffix, level in TAIL_LEVELS:
            boot[f"cum_credit_loss_var{suffix}"], boot[f"cum_credit_loss_es{suffix}"] = tail_rows(
                losses[pick], level
            )
        unexpected = boot["cum_credit_loss_var99_9"] - losses[pick].mean(axis=1)
        boot["unexpected_loss_99_9"] = unexpected
        positive = np.where(unexpected > 0, unexpected, np.nan)
        boot["return_on_risk"] = profits[pick].mean(axis=1) / positive
        point = tail_risk(losses, profits)
        for metric in TAIL_METRICS:
            values = boot[metric][~np.isnan(boot[metric])]
            low, high = np.quantile(values, [tail, 1.0 - tail]) if len(values) else (np.nan, np.nan)
            rows.append((name, metric, point[metric], float(low), float(high)))
    return pd.DataFrame(rows, columns=["strategy", "metric", "value", "low", "high"])


def risk_return(
    per: pd.DataFrame,
    level: float = 0.99,
    resamples: int = 1000,
    seed: int = 0,
    interval: float = INTERVAL,
) -> pd.DataFrame:
    """Per strategy: ES of cumulative credit loss at ``level`` and mean cumulative net
    profit, each with an interval for its sampling uncertainty (万元).

    ``per`` is :func:`per_replication`'s table. Both intervals have coverage ``interval``
    (default 95 %): ``es``, ``es_low``, ``es_high`` (the percentile interval of the ES
    over ``resamples`` bootstrap resamples of the replications, drawn with a fixed
    ``seed`` so the numbers repeat), ``profit_mean``, ``profit_low``, ``profit_high``
    (mean ± z standard errors, z = 1.96 at 95 %) and ``replications``. With few
    replications the ES interval is wide and, at 99 % with fewer than 100 replications,
    spans the largest losses seen.
    """
    rows = {}
    rng = np.random.default_rng(seed)
    tail = (1.0 - interval) / 2.0
    for name, group in per.groupby(level="strategy", sort=False):
        losses = group["cum_credit_loss"].to_numpy(dtype=np.float64)
        profits = group["cum_net_profit"].to_numpy(dtype=np.float64)
        n = len(losses)
        boot = _expected_shortfalls(losses[rng.integers(0, n, size=(resamples, n))], level)
        mean, low, high = mean_interval(profits, interval)
        rows[name] = {
            "es": expected_shortfall(losses, level),
            "es_low": float(np.quantile(boot, tail)),
            "es_high": float(np.quantile(boot, 1.0 - tail)),
            "profit_mean": mean,
            "profit_low": low,
            "profit_high": high,
            "replications": n,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "strategy"
    return out
