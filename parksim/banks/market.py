"""The park's loan market of one quarter: applications, every bank's offers, the
borrowers' choice and the booking, and the loan book the park opens with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from parksim.banks import book as loan_book
from parksim.banks.decisions import record_decisions
from parksim.banks.group import GroupParams
from parksim.banks.lending import (
    Applicants,
    BookState,
    LendingParams,
    Offers,
    applications,
    book_loans,
    choose_lenders,
    guarantee_cover,
    make_offers,
    price_warrants,
)
from parksim.banks.stakes import cap_warrants
from parksim.core.codes import LoanStatus, Product
from parksim.core.sectors import SectorArrays
from parksim.core.streams import FirmStreams, Mechanism
from parksim.core.units import QUARTERS_PER_YEAR
from parksim.credit import CreditParams
from parksim.enterprises.lifecycle import LifecycleParams
from parksim.policy import PolicyPackage, RiskPool

if TYPE_CHECKING:
    from parksim.banks.bank import Bank
    from parksim.banks.tiers import TierTable
    from parksim.core.population import EnterprisePopulation


@dataclass(frozen=True)
class LoanMarket:
    """What the loan market needs from the scenario, fixed for a run."""

    lending: LendingParams
    lifecycle: LifecycleParams
    credit: CreditParams
    sectors: SectorArrays
    policy: PolicyPackage
    pools: tuple[RiskPool, ...]  # each replication's risk pool
    sector_mix: np.ndarray  # (n_sectors,) the park's share of firms by sector code
    group: GroupParams = field(default_factory=GroupParams)  # the warrants' cap and price

    def offers(
        self,
        pop: EnterprisePopulation,
        tiers: TierTable,
        applicants: np.ndarray,
        need: np.ndarray,
        quarter: int,
        book: BookState | None = None,
    ) -> Offers:
        """Every bank's offers to the applicants (rows) for `need` 万元 each."""
        view = self.applicants(pop, applicants, need, quarter)
        return make_offers(view, tiers, self.lending, self.lifecycle, self.credit, book)

    def applicants(
        self, pop: EnterprisePopulation, rows: np.ndarray, need: np.ndarray, quarter: int
    ) -> Applicants:
        """What every bank looks at in these applicants."""
        return Applicants.of(
            pop, rows, need, quarter, self.lending, self.lifecycle, self.sectors, self.policy
        )

    def book_state(self, pop: EnterprisePopulation, banks: Sequence[Bank]) -> BookState:
        """Every bank's park book now, in total and by sector (万元), and its single-name
        cap (万元)."""
        by_sector = _book_by_sector(
            pop.lender, pop.sector, pop.debt, len(banks), len(self.sectors.names)
        )
        exposure = by_sector.sum(axis=1, keepdims=True)
        availability = self.pool_availability(pop, len(banks) // pop.n_banks)
        caps = np.array([bank.name_cap for bank in sorted(banks, key=lambda b: b.index)])
        return BookState(exposure, by_sector, availability, self.sector_mix, caps)

    def pool_availability(self, pop: EnterprisePopulation, replications: int = 1) -> np.ndarray:
        """Share of the risk pool's cover banks count on, in each replication: 1 while the
        pool's capital covers the claims the loans now on the book are expected to make
        over their remaining terms, and the ratio of the two once it does not (a
        depleting pool pays less)."""
        policy = self.policy
        availability = np.ones(replications)
        if policy.risk_pool_share == 0:
            return availability
        by_park = pop.by_replication(pop.loan_rows())
        for r, (pool, rows) in enumerate(zip(self.pools, by_park, strict=True)):
            pool_part = pop.loan_policy_cover[rows] - guarantee_cover(pop.stage[rows], policy)
            years_left = pop.loan_quarters_left[rows] / QUARTERS_PER_YEAR
            performing = pop.loan_status[rows] == LoanStatus.PERFORMING
            lgd_pd = pop.loan_lgd[rows] * np.minimum(pop.loan_pd[rows] * years_left, 1.0)
            at_risk = pop.debt[rows] * lgd_pd * np.maximum(pool_part, 0.0) * performing
            claims = float(at_risk.sum())
            if claims > pool.remaining:
                availability[r] = pool.remaining / claims
        return availability

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
        book = self.book_state(pop, banks)
        offers = make_offers(view, tiers, self.lending, self.lifecycle, self.credit, book)
        group = self.group
        coverage = np.array([spec.warrant_coverage for spec in tiers.specs[: pop.n_banks]])
        priced = price_warrants(
            offers,
            pop.stage[applicants],
            pop.valuation[applicants],
            coverage,
            group.warrant_stake_cap,
            group.warrant_option_value,
            group.warrant_pass_through,
        )
        offers = priced.booked
        lender = choose_lenders(
            priced.compared, pop.main_bank[applicants], self.lending.outside_rate
        )
        borrowers = book_loans(pop, applicants, lender, offers)
        loan_book.record_new_loans(pop, banks, borrowers)
        cap_warrants(pop, borrowers, group.warrant_stake_cap)
        record_decisions(pop, view, offers, lender, quarter)
        return applicants, borrowers

    def underwrite_mna(
        self,
        pop: EnterprisePopulation,
        banks: Sequence[Bank],
        tiers: TierTable,
        buyers: np.ndarray,
        price: np.ndarray,
        quarter: int,
    ) -> np.ndarray:
        """M&A loans to `buyers` (rows without a loan) for deals at `price` 万元.

        The same offers as any loan: every bank whose tier has the M&A product offers up
        to `mna_loan_cap` of the price (§三(二)3), the buyer's debt capacity and its
        single-name limit, over `mna_term_quarters`, with no policy cover; it approves on
        its expected-loss test and sector limit. Returns the buyers that borrowed.
        """
        need = self.policy.mna_loan_cap * price
        view = self.applicants(pop, buyers, need, quarter)
        limits = np.zeros_like(view.limits)
        limits[Product.MNA] = need
        view = view._replace(
            limits=limits,
            cover=np.zeros(len(buyers)),
            term=np.full(len(buyers), self.lending.mna_term_quarters),
        )
        book = self.book_state(pop, banks)
        offers = make_offers(view, tiers, self.lending, self.lifecycle, self.credit, book)
        lender = choose_lenders(offers, pop.main_bank[buyers], self.lending.outside_rate)
        borrowers = book_loans(pop, buyers, lender, offers)
        loan_book.record_new_loans(pop, banks, borrowers)
        return borrowers

    def open_book(
        self,
        pop: EnterprisePopulation,
        banks: Sequence[Bank],
        tiers: TierTable,
        streams: FirmStreams,
    ) -> None:
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
        lender = choose_lenders(offers, pop.main_bank[applicants], self.lending.outside_rate)
        book_loans(pop, applicants, lender, offers)
        record_decisions(pop, view, offers, lender, 0)
        elapsed = streams.uniforms(
            Mechanism.OPENING_TERM, 0, pop.stream_id[applicants], pop.replication[applicants]
        )
        left = 1 + (elapsed * term).astype(np.int16)
        taken = lender >= 0
        borrowers = applicants[taken]
        pop.loan_quarters_left[borrowers] = left[taken]
        pop.debt[borrowers] *= left[taken] / term
        # The opening book obeys the single-name limits from the start.
        loan_book.sell_down(pop, banks, quarter=0)


@njit(cache=True)
def _book_by_sector(lender, sector, debt, n_banks, n_sectors):
    """Every bank's loan balance by its borrowers' sector (万元), added up borrower by
    borrower in row order."""
    by_sector = np.zeros((n_banks, n_sectors))
    for i in range(len(lender)):
        if lender[i] >= 0:
            by_sector[lender[i], sector[i]] += debt[i]
    return by_sector
