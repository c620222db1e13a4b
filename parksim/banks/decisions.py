"""What the banks thought of each loan applicant, and what they decided: kept on the
enterprise (columns `bank_view`, `bank_pd`, `bank_decision`, `loan_outcome`,
`loan_applied_quarter`) for researchers, until its next application. No mechanism reads
them back."""

from __future__ import annotations

import numpy as np
from numba import njit

from parksim.banks.lending import Applicants, Offers
from parksim.core.codes import CreditDecision, FinanceState
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
    _write_decisions(
        applicants.rows,
        offers.view,
        offers.annual_pd,
        offers.approved,
        lender,
        quarter,
        pop.bank_view,
        pop.bank_pd,
        pop.bank_decision,
        pop.loan_applied_quarter,
        pop.loan_outcome,
        int(CreditDecision.APPROVED),
        int(CreditDecision.REFUSED),
        int(FinanceState.FUNDED),
        int(FinanceState.REFUSED),
    )


@njit(cache=True)
def _write_decisions(
    rows,
    view,
    annual_pd,
    approved,
    lender,
    quarter,
    bank_view,
    bank_pd,
    bank_decision,
    applied_quarter,
    outcome,
    yes,
    no,
    funded,
    refused,
):
    """Each bank's view, PD and decision (bank × applicant) into the applicants' rows of the
    firm × bank columns (numpy's row scatter into 2-D columns is slow), and each
    applicant's quarter of application and outcome."""
    for k in range(len(rows)):
        i = rows[k]
        for b in range(view.shape[0]):
            bank_view[i, b] = view[b, k]
            bank_pd[i, b] = annual_pd[b, k]
            bank_decision[i, b] = yes if approved[b, k] else no
        applied_quarter[i] = quarter
        outcome[i] = funded if lender[k] >= 0 else refused
