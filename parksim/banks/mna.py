"""M&A loans (并购贷款, §三(二)3, §四(一)): chain leaders in the park buy acquired firms
with a loan from their main bank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from parksim.core.codes import LoanStatus
from parksim.core.streams import FirmStreams, Mechanism, firm_uniform

if TYPE_CHECKING:
    from parksim.banks.bank import Bank
    from parksim.banks.income import IncomeParams
    from parksim.banks.market import LoanMarket
    from parksim.banks.tiers import TierTable
    from parksim.core.population import EnterprisePopulation


def in_park_deals(
    pop: EnterprisePopulation,
    acquired: np.ndarray,
    streams: FirmStreams,
    quarter: int,
    in_park_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(buyers, targets) of this quarter's acquisitions by chain leaders without a loan,
    in the order of the buyers' rows: a share `in_park_share` of acquisitions
    (`LendingParams.mna_in_park_share`) is bought inside the park.

    Each acquired firm draws two uniforms of its own; at most one deal per buyer and quarter.
    In a batch each replication's acquired firms go to its own park's leaders.
    """
    none = np.empty(0, dtype=np.intp)
    if len(acquired) == 0:
        return none, none
    in_park_bases = streams.base(Mechanism.MNA_IN_PARK, quarter)
    pick_bases = streams.base(Mechanism.MNA_PICK, quarter)
    acquired = np.asarray(acquired, dtype=np.int64)
    deals = []
    leaders = pop.chain_leaders()
    free = pop.by_replication(leaders[(pop.loan_status[leaders] == LoanStatus.NONE).nonzero()[0]])
    by_park = zip(free, pop.by_replication(acquired), strict=True)
    for r, (leaders, targets) in enumerate(by_park):
        if len(leaders) > 0 and len(targets) > 0:
            deals.append(
                _deals(
                    in_park_bases[r],
                    pick_bases[r],
                    pop.stream_id,
                    targets,
                    leaders,
                    in_park_share,
                )
            )
    if not deals:
        return none, none
    buyers = np.concatenate([b for b, _ in deals])
    targets = np.concatenate([t for _, t in deals])
    # Sorted here, not in the kernel: numba's argsort compiles for a second; a handful
    # of distinct buyers (no ties to break) sort in microseconds either way.
    order = np.argsort(buyers)
    return buyers[order], targets[order]


@njit(cache=True)
def _deals(in_park_base, pick_base, stream_id, acquired, leaders, in_park_share):
    """Each acquired firm's buyer is a chain leader with chance `in_park_share` (its first
    uniform), the leader its second uniform picks; a leader picked twice buys its first
    target only. Returns (buyers, targets) in the order of the targets."""
    buyers = np.empty(len(acquired), dtype=np.int64)
    targets = np.empty(len(acquired), dtype=np.int64)
    count = 0
    for k in range(len(acquired)):
        target = acquired[k]
        if not firm_uniform(in_park_base, stream_id[target]) < in_park_share:
            continue
        buyer = leaders[int(firm_uniform(pick_base, stream_id[target]) * len(leaders))]
        taken = False
        for j in range(count):
            taken |= buyers[j] == buyer
        if taken:
            continue
        buyers[count], targets[count] = buyer, target
        count += 1
    return buyers[:count], targets[:count]


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
    share = market.lending.mna_in_park_share
    buyers, targets = in_park_deals(pop, acquired, streams, quarter, share)
    if len(buyers) == 0:
        return buyers
    price = income.acquisition_multiple * pop.valuation[targets]
    return market.underwrite_mna(pop, banks, tiers, buyers, price, quarter)
