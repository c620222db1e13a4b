"""Moments: the model's counterpart of each calibration target, measured on observed runs.

Every moment takes the observations of one or more replications (`observe.Observation`)
and pools them (sums numerators and denominators across runs), so more replications give
the same estimator with less noise. Each function's docstring says how it mirrors the
definition of its source; the targets file (`parksim/data/targets.toml`) names the
function in `moment` and its keyword arguments in `args`.

Time is in quarters; quarter q (≥ 1) lies in calendar year (q − 1) // 4 of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from parksim.analysis.calibration.observe import Observation
from parksim.core.codes import STAGES, Stage

Runs = Sequence[Observation]

# The management accounts' revenue of the focal bank: net interest income after
# funds-transfer pricing (it includes the deposits' margin), fees, bank-held equity income
# and personal-finance income.
REVENUE_COLUMNS = (
    "net_interest_income",
    "fee_income",
    "equity_income",
    "personal_finance_income",
)


def _year(quarter: np.ndarray) -> np.ndarray:
    return (quarter - 1) // 4


def _exits(firms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry quarter, exit quarter (-1 if still in the park) and a failed flag."""
    entered = firms["entered_quarter"].to_numpy(np.int64)
    exited = firms["exit_quarter"].to_numpy(np.int64)
    failed = (firms["stage"] == "failed").to_numpy()
    return entered, exited, failed


def death_rate(runs: Runs, from_year: int, to_year: int | None = None) -> float:
    """Annual death rate in years `from_year`..`to_year` of a firm's life (SAIC 2013).

    As the SAIC report counts them, year 1 is the calendar year a firm is founded (it
    enters the park) and year k the (k−1)-th calendar year after; the rate of year k is
    the firms that die in it over the firms alive at its start (for year 1: founded in
    it). A death is a failure; a firm that relocates or is acquired during the year
    counts as half a firm at risk (actuarial censoring). Only calendar years the run
    covers in full are used; initial firms enter from their year of age at quarter 0.
    """
    to_year = from_year if to_year is None else to_year
    deaths = at_risk = 0.0
    for run in runs:
        entered, exited, failed = _exits(run.firms)
        born = _year(entered)
        died = np.where(exited >= 0, _year(exited), np.iinfo(np.int64).max)
        for year in range(run.horizon // 4):
            start = 4 * year + 1
            age = year - born + 1
            present = (entered <= start + 3) & ((exited < 0) | (exited >= start))
            present &= (age >= from_year) & (age <= to_year)
            leaves = present & (died == year)
            deaths += np.count_nonzero(leaves & failed)
            at_risk += np.count_nonzero(present) - 0.5 * np.count_nonzero(leaves & ~failed)
    return deaths / at_risk if at_risk > 0 else np.nan


def exits_within(runs: Runs, years: float) -> float:
    """Share of the run's failures that came within `years` of entry (SAIC 2013: 59.1%
    of the firms that exited in 2008-2012 had lived less than five years)."""
    young = total = 0
    for run in runs:
        entered, exited, failed = _exits(run.firms)
        lifetime = (exited - entered)[failed]
        young += np.count_nonzero(lifetime < 4 * years)
        total += len(lifetime)
    return young / total if total else np.nan


def survival_by_size(
    runs: Runs, min_size: float, max_size: float = np.inf, years: float = 10
) -> float:
    """Kaplan-Meier chance that an entrant with entry size in [min_size, max_size) 万元
    has not failed `years` after entry (SAIC 2013 survival by registered capital).

    Relocation, acquisition and the end of the run censor; annual revenue at entry stands
    in for registered capital (both measure a firm's scale when it starts).
    """
    durations, events = [], []
    for run in runs:
        entered, exited, failed = _exits(run.firms)
        size = run.firms["entry_size"].to_numpy()
        cohort = (entered >= 1) & (size >= min_size) & (size < max_size)
        last = np.where(exited >= 0, exited, run.horizon)
        durations.append((last - entered + 1)[cohort])
        events.append(failed[cohort])
    duration, event = np.concatenate(durations), np.concatenate(events)
    survival = 1.0
    for t in range(1, round(4 * years) + 1):
        at_risk = np.count_nonzero(duration >= t)
        if at_risk == 0:
            return np.nan
        survival *= 1.0 - np.count_nonzero((duration == t) & event) / at_risk
    return survival


def round_funnel(runs: Runs, rounds: int, window_years: float = 7) -> float:
    """Share of seed-funded firms that close at least `rounds` rounds within
    `window_years` of their first (CB Insights: of US tech firms seed-funded in 2008-10,
    ~46% raised a second round and ~14% a fourth).

    The cohort is the firms whose first round of the run was at the seed stage, early
    enough for the whole window to fit in the run.
    """
    column = {2: "second_round_quarter", 4: "fourth_round_quarter"}.get(rounds)
    if column is None:
        raise ValueError(f"round_funnel tracks the 2nd and 4th round, got rounds={rounds}")
    window = 4 * window_years
    reached = cohort = 0
    for run in runs:
        firms = run.firms
        first = firms["first_round_quarter"].to_numpy()
        seeded = (firms["first_round_stage"].to_numpy() == Stage.SEED) & (first >= 1)
        seeded &= first <= run.horizon - window
        nth = firms[column].to_numpy()
        reached += np.count_nonzero(seeded & (nth >= 0) & (nth <= first + window))
        cohort += np.count_nonzero(seeded)
    return reached / cohort if cohort else np.nan


def cohort_outcome(runs: Runs, outcome: str, years: float = 7) -> float:
    """Share of young entrants (seed or startup on entry) that, `years` after entry, have
    failed (`closed`), been acquired (`acquired`) or listed (`ipo`). Carta 2025: of US
    start-ups founded in 2018, ~62% had closed, 5.5% been acquired, 0.3% listed."""
    window = round(4 * years)
    hits = cohort = 0
    for run in runs:
        firms = run.firms
        entered, exited, failed = _exits(firms)
        young = (entered >= 1) & (entered <= run.horizon - window)
        young &= firms["entry_stage"].to_numpy() <= Stage.STARTUP
        deadline = entered + window
        if outcome == "closed":
            hit = failed & (exited <= deadline)
        elif outcome == "acquired":
            hit = (firms["stage"] == "acquired").to_numpy() & (exited <= deadline)
        elif outcome == "ipo":
            listed = firms["listed_quarter"].to_numpy()
            hit = (listed >= 0) & (listed <= deadline)
        else:
            raise ValueError(f"outcome must be closed, acquired or ipo, got {outcome!r}")
        hits += np.count_nonzero(young & hit)
        cohort += np.count_nonzero(young)
    return hits / cohort if cohort else np.nan


def npl_ratio(runs: Runs, segment: str = "all", from_quarter: int = 8) -> float:
    """Non-performing over total enterprise loans of all the park's banks, pooled over
    quarters from `from_quarter` (NFRA: ~1.5% for all loans of commercial banks, CBIRC:
    ~3% for inclusive small-business loans). `segment` "small" keeps loans to seed,
    startup and growth firms. Development loans to the operator, which never defaults in
    the model, are left out."""
    if segment not in ("all", "small"):
        raise ValueError(f"segment must be all or small, got {segment!r}")
    npl = loans = 0.0
    for run in runs:
        book = run.book[run.book["quarter"] >= from_quarter]
        npl += book[f"npl_{segment}"].sum()
        loans += book[f"loans_{segment}"].sum()
    return npl / loans if loans > 0 else np.nan


def small_loan_rate(runs: Runs, from_quarter: int = 8) -> float:
    """Balance-weighted annual rate of performing loans to seed, startup and growth firms
    (NFRA/PBOC: inclusive small-business loans averaged 4.78% in 2023)."""
    interest = balance = 0.0
    for run in runs:
        book = run.book[run.book["quarter"] >= from_quarter].dropna(subset=["rate_small"])
        performing = book["loans_small"] - book["npl_small"]
        interest += (book["rate_small"] * performing).sum()
        balance += performing.sum()
    return interest / balance if balance > 0 else np.nan


def _stage_counts(runs: Runs, stages: Sequence[str]) -> tuple[int, int]:
    """Firms in `stages`, and active firms, at the end of the runs (summed)."""
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown stages {unknown}; expected some of {STAGES}")
    inside = active = 0
    for run in runs:
        stage = run.firms["stage"]
        inside += int(stage.isin(stages).sum())
        active += int(stage.isin(STAGES).sum())
    return inside, active


def stage_share(runs: Runs, stages: Sequence[str]) -> float:
    """Share of the park's active firms in `stages` at the end of the run. Listed firms
    give the listed share; "growth and later" stands in for high-tech certified firms
    (高新技术企业 need R&D staff, IP and a revenue record that seed and startup firms
    rarely have)."""
    inside, active = _stage_counts(runs, stages)
    return inside / active if active else np.nan


def stage_count(runs: Runs, stages: Sequence[str]) -> float:
    """Mean number of the park's firms in `stages` at the end of a run (as stage_share)."""
    inside, _ = _stage_counts(runs, stages)
    return inside / len(runs) if runs else np.nan


def entries_per_year(runs: Runs) -> float:
    """Firms entering the park per year (Lingang: 112 trade projects in 2023, §三(三))."""
    entries = sum(float(run.timeseries["entries"].sum()) for run in runs)
    years = sum(run.horizon / 4 for run in runs)
    return entries / years if years else np.nan


def rounds_per_year(runs: Runs) -> float:
    """Equity rounds closed by the park's firms per year (BioBAY: 30 in 2023, §三(一))."""
    rounds = sum(int(run.firms["rounds"].sum()) for run in runs)
    years = sum(run.horizon / 4 for run in runs)
    return rounds / years if years else np.nan


def _focal_sums(
    runs: Runs, numerator: Sequence[str], denominator: Sequence[str], from_quarter: int
) -> tuple[float, float]:
    """Σ of the `numerator` columns and Σ of the `denominator` columns of the focal bank's
    time series, pooled over quarters from `from_quarter` and over runs."""
    top = bottom = 0.0
    for run in runs:
        table = run.timeseries[run.timeseries["quarter"] >= from_quarter]
        top += float(table[list(numerator)].to_numpy().sum())
        bottom += float(table[list(denominator)].to_numpy().sum())
    return top, bottom


def _ratio(top: float, bottom: float, scale: float = 1.0) -> float:
    return scale * top / bottom if bottom > 0 else np.nan


def fee_share(runs: Runs, from_quarter: int = 8) -> float:
    """The focal bank's fee income over its revenue, pooled over quarters (CBA 2024: fees
    ~13% of large state banks' operating income). Revenue is the management accounts'
    (`REVENUE_COLUMNS`): net interest income after funds-transfer pricing, which includes
    the deposits' margin, plus fees, personal-finance and bank-held equity income."""
    return _ratio(*_focal_sums(runs, ["fee_income"], REVENUE_COLUMNS, from_quarter))


def cost_income(runs: Runs, from_quarter: int = 8) -> float:
    """The focal bank's park business: Σ operating cost over Σ revenue, pooled over
    quarters (ICBC 2024: 29.43%; the ratio of a whole bank, operating expense over
    operating income). Operating cost includes the head-office allocation and any tier
    investment booked in the quarter."""
    return _ratio(*_focal_sums(runs, ["operating_cost"], REVENUE_COLUMNS, from_quarter))


def pretax_roa(runs: Runs, from_quarter: int = 8) -> float:
    """Annualised pre-tax return on the park business's balance sheet: 4 · Σ pre-tax
    profit over Σ balance sheet (the larger of its loans and its deposits), pooled over
    quarters. Banks publish after-tax ROA on average total assets (ICBC 2024: 0.78%);
    at the 25% income tax that is about 1.0% before tax."""
    return _ratio(*_focal_sums(runs, ["pre_tax_profit"], ["balance_sheet"], from_quarter), 4)


def nim(runs: Runs, from_quarter: int = 8) -> float:
    """Annualised net interest margin: 4 · Σ net interest income (after funds-transfer
    pricing, deposits' margin included) over Σ balance sheet, pooled over quarters
    (NFRA: commercial banks' NIM 1.52% in 2024 Q4). A bank divides by interest-earning
    assets; the park business's balance sheet is the larger of its loans and deposits,
    the funded assets of a unit whose surplus deposits are lent to treasury at FTP."""
    return _ratio(*_focal_sums(runs, ["net_interest_income"], ["balance_sheet"], from_quarter), 4)


HIGH_TECH_STAGES = ("growth", "pre_ipo", "listed")


def ipo_rate(runs: Runs, from_quarter: int = 8) -> float:
    """Listings per high-tech firm and year: 4 · Σ listings over Σ firms in the growth,
    pre-IPO and listed stages at quarter end, pooled over quarters (A-share IPOs, 313 in
    2023, against China's certified high-tech enterprises, over 330,000 by 2021).

    The denominator is the park's stand-in for certified high-tech firms (as in
    `stage_share`); it includes listed firms, as the national count of high-tech
    enterprises does. Listings are of every board (the national figure counts main-board
    IPOs of firms that are not high-tech certified too; the band allows for it).
    """
    columns = [f"n_{stage}" for stage in HIGH_TECH_STAGES]
    return _ratio(*_focal_sums(runs, ["listings"], columns, from_quarter), 4)


SMALL_STAGES = ("seed", "startup", "growth")


def credit_access(runs: Runs, stages: Sequence[str] = SMALL_STAGES) -> float:
    """Share of the park's active firms in `stages` (default: seed, startup and growth,
    the 科技型中小企业 of policy.py) with a loan from any bank at the end of the run
    (World Bank Enterprise Survey, China: share of firms with a bank loan or line of
    credit)."""
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown stages {unknown}; expected some of {STAGES}")
    borrowers = firms = 0
    for run in runs:
        small = run.firms["stage"].isin(stages).to_numpy()
        borrowers += int(np.count_nonzero(small & (run.firms["lender"].to_numpy() >= 0)))
        firms += int(np.count_nonzero(small))
    return borrowers / firms if firms else np.nan


def down_ipo_share(runs: Runs) -> float:
    """Share of the run's listings priced below the firm's last private valuation (its
    valuation at the end of the quarter before it listed): IPOs as down rounds, 破发
    against the last private price (US 2014: 25% of IPOs were down rounds; A-shares:
    16.6% of 2023's IPOs closed their first day below the issue price, 28.3% in 2022)."""
    below = listed = 0
    for run in runs:
        multiple = run.firms["listing_multiple"].to_numpy(np.float64)
        multiple = multiple[np.isfinite(multiple)]
        below += int(np.count_nonzero(multiple < 1.0))
        listed += len(multiple)
    return below / listed if listed else np.nan


def listing_multiple(runs: Runs) -> float:
    """Median of the listings' valuation after listing over the last private valuation
    (the step-up of an IPO over the last private mark)."""
    values = [run.firms["listing_multiple"].to_numpy(np.float64) for run in runs]
    pooled = np.concatenate(values) if values else np.array([])
    pooled = pooled[np.isfinite(pooled)]
    return float(np.median(pooled)) if len(pooled) else np.nan


def bank_economics(timeseries: pd.DataFrame, from_quarter: int = 8) -> pd.DataFrame:
    """The bank-economics moments of every strategy of an ensemble's time series (the
    table of `timeseries.parquet`): one row per strategy, columns `cost_income`,
    `pretax_roa`, `fee_share`, `nim`, each pooled over quarters and replications as the
    moments of the same names are. This is the bank-economics check on a
    40-replication run of scenarios/baseline.toml."""
    rows = {}
    for strategy, table in timeseries.groupby("strategy", sort=False, observed=True):
        runs = [
            Observation(firms=pd.DataFrame(), book=pd.DataFrame(), timeseries=t, horizon=0)
            for _, t in table.groupby("replication", sort=True)
        ]
        rows[str(strategy)] = {
            fn.__name__: fn(runs, from_quarter) for fn in (cost_income, pretax_roa, fee_share, nim)
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("strategy")


# The moments a targets file can name, by name.
MOMENTS: dict[str, Callable[..., float]] = {
    fn.__name__: fn
    for fn in (
        death_rate,
        exits_within,
        survival_by_size,
        round_funnel,
        cohort_outcome,
        npl_ratio,
        small_loan_rate,
        stage_share,
        stage_count,
        entries_per_year,
        rounds_per_year,
        fee_share,
        cost_income,
        pretax_roa,
        nim,
        ipo_rate,
        credit_access,
        down_ipo_share,
        listing_multiple,
    )
}
