"""Observing a run for calibration: what the moments need that the end state no longer shows.

`enterprises.to_frame()` at the end of a run gives every firm ever in the park, with its
entry and exit quarters and final stage: enough for ages at failure. Three things are gone
by then and are recorded while the model steps: each firm's size and stage on entry
(survival by size, entry cohorts), its equity rounds (the seed-to-later-round funnel) and
the banks' loan book quarter by quarter (NPL ratios, loan rates). Observing only reads
the model; it never changes a run.

Firms are keyed by id. The population may archive firms that left and owe nothing at the
end of a quarter, so a firm can leave and disappear within one step; what the end-of-run
table still holds about it (size and stage at exit, quarter of its last round) fills in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parksim.core.codes import LoanStatus, Stage
from parksim.core.population import EnterprisePopulation
from parksim.model import ParkModel

# Columns of `Observation.book`, one row per quarter (amounts in 万元, across all banks).
BOOK_COLUMNS = (
    "quarter",
    "loans_all",  # enterprise loans on the books, performing and non-performing
    "npl_all",  # non-performing part of it
    "loans_small",  # loans to seed, startup and growth firms (科技型中小企业, as in policy.py)
    "npl_small",
    "rate_small",  # balance-weighted annual rate of performing loans to those firms
)


@dataclass(frozen=True)
class Observation:
    """One run, as the moments read it.

    `firms` is `enterprises.to_frame()` at the end (indexed by id) plus, per firm:
    `entry_size` (annual revenue at the end of its first quarter in the park, 万元;
    quarter-0 size for the initial firms), `entry_stage` (stage code at that time, the
    last active one if it had already left), `rounds` (equity rounds closed during the
    run), `first_round_quarter`, `first_round_stage` (stage code when it closed its first
    round of the run) and `second_round_quarter`, `fourth_round_quarter` (all -1 if none),
    and `listing_multiple`: for a firm that listed during the run, its valuation after
    listing over its valuation at the end of the quarter before (the last private mark;
    NaN otherwise).
    `book` has the columns `BOOK_COLUMNS`; `timeseries` is `model.timeseries()`.
    """

    firms: pd.DataFrame
    book: pd.DataFrame
    timeseries: pd.DataFrame
    horizon: int


def observe(model: ParkModel, quarters: int | None = None) -> Observation:
    """Step `model` for `quarters` (default: its horizon) and record what moments need."""
    quarters = model.config.horizon if quarters is None else quarters
    pop = model.enterprises
    entries = [_entry_rows(pop, model.quarter)]
    rounds = []
    listings = []
    book = [_book_row(pop, model.quarter)]
    for _ in range(quarters):
        before = pd.Series(pop.valuation.copy(), index=_live_ids(pop).copy())
        model.step()
        entries.append(_entry_rows(pop, model.quarter))
        rounds.append(_round_rows(pop, model.quarter))
        listings.append(_listing_rows(pop, model.quarter, before))
        book.append(_book_row(pop, model.quarter))
    firms = pop.to_frame()
    firms = firms.join(_entry_columns(firms, entries)).join(_round_columns(firms, rounds))
    firms = firms.join(_listing_column(firms, listings))
    return Observation(
        firms=firms,
        book=pd.DataFrame(book, columns=list(BOOK_COLUMNS)),
        timeseries=model.timeseries(),
        horizon=model.quarter,
    )


def _live_ids(pop: EnterprisePopulation) -> np.ndarray:
    """Ids of the live rows (a population without an id column numbers firms by row)."""
    ids = getattr(pop, "id", None)
    return np.arange(pop.n) if ids is None else np.asarray(ids)


def _current_stage(pop: EnterprisePopulation) -> np.ndarray:
    """Stage code of every live row, the last active one for firms that left."""
    return np.where(pop.stage <= Stage.LISTED, pop.stage, pop.last_active_stage)


def _entry_rows(pop: EnterprisePopulation, quarter: int) -> pd.DataFrame:
    """Size and stage of the firms that entered this quarter (all firms at quarter 0)."""
    new = np.flatnonzero(pop.entered_quarter == quarter) if quarter > 0 else np.arange(pop.n)
    return pd.DataFrame(
        {"entry_size": pop.size[new], "entry_stage": _current_stage(pop)[new]},
        index=pd.Index(_live_ids(pop)[new], name="id"),
    )


def _round_rows(pop: EnterprisePopulation, quarter: int) -> pd.DataFrame:
    """Firms that closed a round this quarter, with the stage they raised it at.

    Rounds close before the lifecycle moves firms, so a firm that graduated later in the
    quarter raised at the stage below. (An entrant that graduates in its entry quarter
    cannot be told apart and counts at its new stage: a rare case.)
    """
    funded = np.flatnonzero(pop.last_round_quarter == quarter)
    stage = _current_stage(pop)[funded]
    moved = (pop.stage[funded] <= Stage.LISTED) & (pop.stage_quarter[funded] == quarter)
    moved &= pop.entered_quarter[funded] != quarter
    return pd.DataFrame(
        {"quarter": quarter, "stage": stage - moved},
        index=pd.Index(_live_ids(pop)[funded], name="id"),
    )


def _listing_rows(pop: EnterprisePopulation, quarter: int, before: pd.Series) -> pd.Series:
    """Valuation after listing over the valuation at the end of the quarter before, of
    the firms that listed this quarter (NaN for one that entered in the same quarter)."""
    listed = np.flatnonzero(pop.listed_quarter == quarter)
    ids = _live_ids(pop)[listed]
    start = before.reindex(ids).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(start > 0, pop.valuation[listed] / start, np.nan)
    return pd.Series(ratio, index=pd.Index(ids, name="id"), dtype=np.float64)


def _listing_column(firms: pd.DataFrame, listings: list[pd.Series]) -> pd.Series:
    """Per-firm `listing_multiple` (NaN for firms that did not list during the run)."""
    seen = pd.concat([pd.Series(dtype=np.float64), *listings])
    seen = seen[~seen.index.duplicated()]
    return seen.reindex(firms.index).rename("listing_multiple")


def _book_row(pop: EnterprisePopulation, quarter: int) -> tuple[float, ...]:
    on_book = pop.lender >= 0
    npl = on_book & (pop.loan_status == LoanStatus.NON_PERFORMING)
    small = on_book & (_current_stage(pop) <= Stage.GROWTH)
    performing_small = small & ~npl
    debt = pop.debt
    balance = float(debt[performing_small].sum())
    # Products summed by numpy's pairwise sum: np.dot would take OpenBLAS's kernel for
    # this CPU, whose order of additions differs between CPUs.
    interest = float((debt[performing_small] * pop.loan_rate[performing_small]).sum())
    return (
        quarter,
        float(debt[on_book].sum()),
        float(debt[npl].sum()),
        float(debt[small].sum()),
        float(debt[small & npl].sum()),
        interest / balance if balance > 0 else np.nan,
    )


def _entry_columns(firms: pd.DataFrame, entries: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-firm entry size and stage; a firm gone before it was seen left in its entry
    quarter, so its size and last active stage at exit are those on entry."""
    seen = pd.concat(entries)
    seen = seen[~seen.index.duplicated()].reindex(firms.index)
    exit_stage = firms["last_active_stage"].cat.codes.astype(np.int64)
    return pd.DataFrame(
        {
            "entry_size": seen["entry_size"].fillna(firms["size"]),
            "entry_stage": seen["entry_stage"].fillna(exit_stage).astype(np.int64),
        },
        index=firms.index,
    )


def _round_columns(firms: pd.DataFrame, rounds: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-firm round count and the quarters of its 1st, 2nd and 4th round of the run."""
    none = pd.DataFrame({"quarter": [], "stage": []}, index=pd.Index([], name="id"))
    events = pd.concat([none, *rounds])
    # A firm archived in the quarter of a round was not seen raising it; that round is
    # its last, which the end-of-run table still records.
    last = firms.loc[firms["last_round_quarter"] >= 1, ["last_round_quarter"]]
    recorded = events.reset_index().groupby("id")["quarter"].max()
    missed = last[recorded.reindex(last.index, fill_value=-1) < last["last_round_quarter"]]
    missed = pd.DataFrame(
        {
            "quarter": missed["last_round_quarter"],
            "stage": firms.loc[missed.index, "last_active_stage"].cat.codes.astype(np.int64),
        }
    )
    events = pd.concat([events, missed]).reset_index().sort_values(["quarter", "id"])
    events["number"] = events.groupby("id").cumcount() + 1
    columns = pd.DataFrame(index=firms.index)
    columns["rounds"] = events.groupby("id").size().reindex(firms.index, fill_value=0)
    for number, name in ((1, "first"), (2, "second"), (4, "fourth")):
        nth = events[events["number"] == number].set_index("id")
        columns[f"{name}_round_quarter"] = nth["quarter"].reindex(firms.index, fill_value=-1)
    first = events[events["number"] == 1].set_index("id")["stage"]
    columns["first_round_stage"] = first.reindex(firms.index, fill_value=-1)
    return columns.astype(np.int64)
