"""What the banks thought of each loan applicant, and what they decided: kept on the
enterprise (columns `bank_view`, `bank_pd`, `bank_decision`, `loan_outcome`,
`loan_applied_quarter`) for researchers, until its next application. No mechanism reads
them back."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.core.codes import CreditDecision, FinanceState

if TYPE_CHECKING:
    from parksim.banks.lending import Applicants, Offers
    from parksim.core.population import EnterprisePopulation


def record_decisions(
    pop: EnterprisePopulation,
    applicants: Applicants,
    offers: Offers,
    lender: np.ndarray,
    quarter: int,
) -> None:
    """Write every bank's view, PD estimate and decision on this quarter's applicants,
    and whether each applicant borrowed (`lender` >= 0) or was refused by every bank."""
    _write_decisions(applicants.rows, offers, lender, quarter, DecisionColumns.of(pop))


class DecisionColumns(NamedTuple):
    """The population's record of its last application (firms × banks, or per firm)."""

    bank_view: np.ndarray
    bank_pd: np.ndarray
    bank_decision: np.ndarray  # `CreditDecision` code
    loan_applied_quarter: np.ndarray
    loan_outcome: np.ndarray  # `FinanceState` code

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> DecisionColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


@njit(cache=True)
def _write_decisions(
    rows: np.ndarray,
    offers: Offers,
    lender: np.ndarray,
    quarter: int,
    record: DecisionColumns,
) -> None:
    """Each bank's view, PD and decision (bank × applicant `offers`) into the applicants'
    rows of the firm × bank columns (numpy's row scatter into 2-D columns is slow), and
    each applicant's quarter of application and outcome."""
    for k in range(len(rows)):
        i = rows[k]
        for b in range(offers.posterior_mean.shape[0]):
            record.bank_view[i, b] = offers.posterior_mean[b, k]
            record.bank_pd[i, b] = offers.annual_pd[b, k]
            approved = offers.approved[b, k]
            record.bank_decision[i, b] = (
                CreditDecision.APPROVED if approved else CreditDecision.REFUSED
            )
        record.loan_applied_quarter[i] = quarter
        record.loan_outcome[i] = FinanceState.FUNDED if lender[k] >= 0 else FinanceState.REFUSED
