"""M&A loans (并购贷款, §三(二)3, §四(一)): chain leaders in the park buy acquired firms
with a loan from their main bank."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from parksim.banks.bank import Bank
from parksim.banks.income import IncomeParams
from parksim.banks.market import LoanMarket
from parksim.banks.tiers import TierTable
from parksim.enterprises.population import EnterprisePopulation, LoanStatus
from parksim.streams import FirmStreams, Mechanism

# Share of acquisitions made by a chain leader inside the park (the rest by outsiders).
IN_PARK_ACQUIRER_SHARE = 0.5


def in_park_deals(
    pop: EnterprisePopulation, acquired: np.ndarray, streams: FirmStreams, quarter: int
) -> tuple[np.ndarray, np.ndarray]:
    """(buyers, targets) of this quarter's acquisitions by chain leaders without a loan.

    Each acquired firm draws two uniforms of its own; at most one deal per buyer and quarter.
    """
    none = np.empty(0, dtype=np.intp)
    if len(acquired) == 0:
        return none, none
    # Whether the acquirer is in the park, and which leader.
    keys = pop.stream_id[acquired]
    draws = streams.uniforms(Mechanism.MNA_IN_PARK, quarter, keys)
    picks = streams.uniforms(Mechanism.MNA_PICK, quarter, keys)
    leaders = pop.chain_leaders()
    leaders = leaders[(pop.loan_status[leaders] == LoanStatus.NONE).nonzero()[0]]
    if len(leaders) == 0:
        return none, none
    buyers = leaders[(picks * len(leaders)).astype(np.intp)]
    in_park = (draws < IN_PARK_ACQUIRER_SHARE).nonzero()[0]
    buyers, targets = buyers[in_park], acquired[in_park]
    if len(buyers) > 1:
        buyers, first = np.unique(buyers, return_index=True)
        targets = targets[first]
    return buyers, targets


def make_mna_loans(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    market: LoanMarket,
    tiers: TierTable,
    acquired: np.ndarray,
    streams: FirmStreams,
    quarter: int,
    income: IncomeParams,
) -> np.ndarray:
    """Chain leaders buy some of this quarter's acquired firms and ask the banks for an
    M&A loan, underwritten like any loan (`LoanMarket.underwrite_mna`).

    Returns the buyers that borrowed.
    """
    buyers, targets = in_park_deals(pop, acquired, streams, quarter)
    if len(buyers) == 0:
        return buyers
    price = income.acquisition_multiple * pop.valuation[targets]
    return market.underwrite_mna(pop, banks, tiers, buyers, price, quarter)
