"""The park's loan market of one quarter: applications, every bank's offers, the
borrowers' choice and the booking, and the loan book the park opens with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from parksim.banks import book as loan_book
from parksim.banks.bank import Bank
from parksim.banks.decisions import record_decisions
from parksim.banks.lending import (
    Applicants,
    LendingParams,
    Offers,
    applications,
    book_loans,
    choose_lenders,
    make_offers,
)
from parksim.banks.tiers import TierTable
from parksim.credit import CreditParams
from parksim.enterprises.lifecycle import LifecycleParams
from parksim.enterprises.population import EnterprisePopulation
from parksim.enterprises.sectors import SectorArrays
from parksim.policy import PolicyPackage
from parksim.streams import FirmStreams, Mechanism


@dataclass(frozen=True)
class LoanMarket:
    """What the loan market needs from the scenario, fixed for a run."""

    lending: LendingParams
    lifecycle: LifecycleParams
    credit: CreditParams
    sectors: SectorArrays
    policy: PolicyPackage

    def offers(
        self,
        pop: EnterprisePopulation,
        tiers: TierTable,
        applicants: np.ndarray,
        need: np.ndarray,
        quarter: int,
    ) -> Offers:
        """Every bank's offers to the applicants (rows) for `need` 万元 each."""
        view = self.applicants(pop, applicants, need, quarter)
        return make_offers(view, tiers, self.lending, self.lifecycle, self.credit)

    def applicants(
        self, pop: EnterprisePopulation, rows: np.ndarray, need: np.ndarray, quarter: int
    ) -> Applicants:
        """What every bank looks at in these applicants."""
        return Applicants.of(
            pop, rows, need, quarter, self.lending, self.lifecycle, self.sectors, self.policy
        )

    def lend(
        self,
        pop: EnterprisePopulation,
        banks: Sequence[Bank],
        tiers: TierTable,
        streams: FirmStreams,
        quarter: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """This quarter's applications and loans over all live rows.

        Returns (applicants, borrowers), rows of the population.
        """
        applicants, need = applications(
            pop, slice(None), self.lending, self.policy, streams, quarter
        )
        view = self.applicants(pop, applicants, need, quarter)
        offers = make_offers(view, tiers, self.lending, self.lifecycle, self.credit)
        lender = choose_lenders(offers, pop.main_bank[applicants])
        borrowers = book_loans(pop, applicants, lender, offers, self.lending, self.policy)
        loan_book.record_new_loans(pop, banks, borrowers)
        record_decisions(pop, view, offers, lender, tiers, quarter)
        return applicants, borrowers

    def open_book(self, pop: EnterprisePopulation, tiers: TierTable, streams: FirmStreams) -> None:
        """Give the park the loan book it has at the start, so curves start in steady state.

        A firm still owes a loan if it borrowed within the last loan term: it applies with
        the chance of at least one request in that many quarters, banks compete as in any
        quarter, and the loan is part-way through its amortisation.
        """
        lending = self.lending
        term = lending.loan_term_quarters
        recent = tuple(1.0 - (1.0 - d) ** term for d in lending.demand)
        opening = replace(lending, demand=recent)
        applicants, need = applications(pop, pop.active(), opening, self.policy, streams, 0)
        view = self.applicants(pop, applicants, need, 0)
        offers = make_offers(view, tiers, self.lending, self.lifecycle, self.credit)
        lender = choose_lenders(offers, pop.main_bank[applicants])
        book_loans(pop, applicants, lender, offers, lending, self.policy)
        record_decisions(pop, view, offers, lender, tiers, 0)
        elapsed = streams.uniforms(Mechanism.OPENING_TERM, 0, pop.stream_id[applicants])
        left = 1 + (elapsed * term).astype(np.int16)
        taken = lender >= 0
        borrowers = applicants[taken]
        pop.loan_quarters_left[borrowers] = left[taken]
        pop.debt[borrowers] *= left[taken] / term
