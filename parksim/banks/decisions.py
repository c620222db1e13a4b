"""What the banks thought of each loan applicant, and what they decided: kept on the
enterprise (columns `bank_view`, `bank_pd`, `bank_decision`, `loan_outcome`,
`loan_applied_quarter`) for researchers, until its next application. No mechanism reads
them back."""

from __future__ import annotations

import numpy as np

from parksim.banks.lending import Applicants, Offers, posterior_quality
from parksim.banks.tiers import TierTable
from parksim.enterprises.population import CreditDecision, EnterprisePopulation, FinanceState


def record_decisions(
    pop: EnterprisePopulation,
    applicants: Applicants,
    offers: Offers,
    lender: np.ndarray,
    tiers: TierTable,
    quarter: int,
) -> None:
    """Write every bank's view, PD estimate and decision on this quarter's applicants,
    and whether each applicant borrowed (`lender` >= 0) or was refused by every bank."""
    rows = applicants.rows
    view, _ = posterior_quality(applicants, tiers)
    pop.bank_view[rows] = view.T
    pop.bank_pd[rows] = offers.annual_pd.T
    pop.bank_decision[rows] = np.where(
        offers.approved.T, CreditDecision.APPROVED, CreditDecision.REFUSED
    )
    pop.loan_applied_quarter[rows] = quarter
    pop.loan_outcome[rows] = np.where(lender >= 0, FinanceState.FUNDED, FinanceState.REFUSED)
