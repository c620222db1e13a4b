"""Per-strategy summary statistics of the time-series table.

Both functions are pure: they take the tidy time-series table described in
:mod:`parksim.reporting.columns` (one row per strategy × replication × quarter) and
return new DataFrames; nothing is read or written.

Money is in 万元 (10,000 RMB). Flow columns (income, cost, loss, new loans) are per
quarter in the input; the ``cum_*`` metrics here are sums over the whole horizon.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

KEYS: tuple[str, str] = ("strategy", "replication")

#: Quantiles reported for every metric, as (suffix, probability).
QUANTILES: tuple[tuple[str, float], ...] = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))

#: Per-quarter flows summed over the horizon; reported as ``cum_<column>``.
CUMULATIVE_METRICS: tuple[str, ...] = (
    "credit_loss",
    "net_interest_income",
    "fee_income",
    "equity_income",
    "personal_finance_income",
    "operating_cost",
    "net_profit",
    "new_loans",
    "defaults",
    "listings",
    "failures",
    "entries",
    "operator_revenue",
)

#: Every metric summarised, with its unit, in output order.
METRICS: dict[str, str] = {
    "cum_credit_loss": "万元",
    "cum_net_interest_income": "万元",
    "cum_fee_income": "万元",
    "cum_equity_income": "万元",
    "cum_personal_finance_income": "万元",
    "cum_operating_cost": "万元",
    "cum_net_profit": "万元",
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
}


def strategy_order(timeseries: pd.DataFrame) -> list[str]:
    """Strategy names in order of first appearance (the scenario's order)."""
    return [str(s) for s in pd.unique(timeseries["strategy"].astype(str))]


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
    frame["strategy"] = frame["strategy"].astype(str)
    ordered = frame.sort_values([*KEYS, "quarter"], kind="stable")
    sums = ordered.groupby(list(KEYS), sort=False)[cols].cumsum().sort_index()
    for c in cols:
        out[f"cum_{c}"] = sums[c].to_numpy()
    return out


def _per_replication(timeseries: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy × replication with every metric of :data:`METRICS`."""
    ts = timeseries.copy()
    ts["strategy"] = ts["strategy"].astype(str)
    ts = ts.sort_values([*KEYS, "quarter"], kind="stable")
    g = ts.groupby(list(KEYS), sort=False)

    per = pd.DataFrame(index=g.size().index)
    for c in CUMULATIVE_METRICS:
        per[f"cum_{c}"] = g[c].sum()
    # Sorted by quarter above, so "last" is the horizon quarter.
    per["final_npl_ratio"] = g["npl_ratio"].last()
    per["peak_exposure"] = g["exposure"].max()
    per["final_exposure"] = g["exposure"].last()
    # Defaults per borrower-quarter, ×4 to annualise; undefined (NaN) without borrowers.
    borrower_quarters = g["borrowers"].sum()
    per["annual_default_rate"] = (
        per["cum_defaults"] / borrower_quarters.where(borrower_quarters > 0) * 4
    )
    per["mean_operator_leverage"] = g["operator_leverage"].mean()
    per["mean_occupancy"] = g["occupancy"].mean()
    return per[list(METRICS)]


def summarise(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Summarise each strategy over replications.

    Returns one row per strategy (index ``strategy``, in order of first appearance)
    with ``replications`` (count) and, for each metric in :data:`METRICS`, the
    columns ``<metric>_mean``, ``<metric>_p5``, ``<metric>_p50``, ``<metric>_p95``
    taken across replications (quantiles use numpy's linear interpolation).

    Metrics, per replication:

    - ``cum_<flow>``: the flow summed over all quarters. Money (credit_loss,
      net_interest_income, fee_income, equity_income, personal_finance_income,
      operating_cost, net_profit, new_loans, operator_revenue) in 万元;
      defaults in loans; listings, failures, entries in firms.
    - ``final_npl_ratio``: npl_ratio at the last quarter (share, 0-1).
    - ``peak_exposure`` / ``final_exposure``: maximum / last-quarter exposure, 万元.
    - ``annual_default_rate``: sum(defaults) / sum(borrowers) × 4, i.e. defaults per
      borrower-quarter annualised linearly (share per year); NaN if the bank never
      had a borrower.
    - ``mean_operator_leverage`` / ``mean_occupancy``: mean over quarters (share).
    """
    order = strategy_order(timeseries)
    per = _per_replication(timeseries)
    g = per.groupby(level="strategy", sort=False)

    parts: dict[str, pd.DataFrame | pd.Series] = {"replications": g.size()}
    means = g.mean()
    quantiles = {suffix: g.quantile(q) for suffix, q in QUANTILES}
    for m in METRICS:
        parts[f"{m}_mean"] = means[m]
        for suffix, _ in QUANTILES:
            parts[f"{m}_{suffix}"] = quantiles[suffix][m]
    out = pd.DataFrame(parts).reindex(order)
    out.index.name = "strategy"
    out["replications"] = out["replications"].astype(np.int64)
    return out
