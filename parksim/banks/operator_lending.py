"""The banks' development loans to the park operator (§四(一)): how they are shared
between banks, their interest, and their loss when the operator defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.banks.bank import Bank


def lend_to_operator(banks: Sequence[Bank], development_loans: float, focal_share: float) -> None:
    """Split the operator's development loans (万元): the focal bank (index 0) holds
    `focal_share` when other banks serve the park, the others share the rest."""
    share = focal_share if len(banks) > 1 else 1.0
    others = (1.0 - share) / max(len(banks) - 1, 1)
    for bank in banks:
        bank.operator_loan = development_loans * (share if bank.index == 0 else others)


def service_operator_loans(banks: Sequence[Bank], rate: float, ftp_rate: float) -> None:
    """A quarter's interest on the development loans and their FTP charge (annual rates;
    `rate` is 0 while the loans are in default)."""
    for bank in banks:
        bank.ledger.interest_income += bank.operator_loan * rate / QUARTERS_PER_YEAR
        bank.ledger.ftp_charge += bank.operator_loan * ftp_rate / QUARTERS_PER_YEAR


def take_operator_default(banks: Sequence[Bank], written_off: float) -> None:
    """The operator's development loans defaulted: each bank loses its share of the
    written-off amount (万元), in proportion to what it had lent."""
    lent = sum(bank.operator_loan for bank in banks)
    for bank in banks:
        share = bank.operator_loan / lent if lent > 0 else 1.0 / len(banks)
        bank.book_credit_loss(written_off * share, 0.0)
