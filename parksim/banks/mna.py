"""M&A loans (并购贷款, §三(二)3, §四(一)): chain leaders in the park buy acquired firms
with a loan from their main bank."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from parksim.banks.bank import Bank
from parksim.banks.income import IncomeParams
from parksim.banks.lending import LendingParams
from parksim.credit import CreditParams
from parksim.enterprises.population import EnterprisePopulation, LoanStatus
from parksim.policy import PolicyPackage
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
    acquired: np.ndarray,
    streams: FirmStreams,
    quarter: int,
    policy: PolicyPackage,
    lending: LendingParams,
    credit: CreditParams,
    income: IncomeParams,
) -> None:
    """The buyers' main banks lend `mna_loan_cap` of each deal's price."""
    buyers, targets = in_park_deals(pop, acquired, streams, quarter)
    if len(buyers) == 0:
        return
    amount = policy.mna_loan_cap * pop.valuation[targets] * income.acquisition_multiple
    pop.lender[buyers] = pop.main_bank[buyers]
    pop.debt[buyers] = amount
    pop.loan_rate[buyers] = lending.base_rate + lending.margin
    pop.loan_lgd[buyers] = credit.lgd_unsecured
    pop.loan_product[buyers] = 5
    pop.loan_quarters_left[buyers] = lending.loan_term_quarters
    pop.loan_status[buyers] = LoanStatus.PERFORMING
    pop.loan_policy_cover[buyers] = 0.0
    for bank in banks:
        bank.ledger.new_loans += float(amount[pop.main_bank[buyers] == bank.index].sum())
