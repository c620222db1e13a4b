"""The banks' development loans to the park operator (§四(一)): how they are shared
between banks within each bank's single-name limit, their interest, and their loss when
the operator defaults.

The operator is one name for every lender (商业银行大额风险暴露管理办法 2018): no bank
holds more of its development loans than its single-name cap (`Bank.name_cap`). What a
bank cannot hold goes first to the park's other banks, up to their own caps, as a club
loan (银团贷款) in proportion to their shares; what none of them can hold is syndicated to
banks outside the park, which the model does not follow (the operator owes it all the
same; its interest and losses are theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from parksim.core.units import QUARTERS_PER_YEAR

if TYPE_CHECKING:
    from parksim.banks.bank import Bank


def operator_shares(n_banks: int, focal_share: float) -> list[float]:
    """Each bank's intended share of the development loans (bank 0 is the focal bank): the
    focal bank holds `focal_share` when other banks serve the park, the others share the
    rest equally."""
    share = focal_share if n_banks > 1 else 1.0
    others = (1.0 - share) / max(n_banks - 1, 1)
    return [share if b == 0 else others for b in range(n_banks)]


def club_amounts(intended: Sequence[float], caps: Sequence[float]) -> list[float]:
    """What each bank lends (万元) of the `intended` amounts within its cap (万元; inf: no
    limit): a bank's excess is shared among the banks with room left, in proportion to
    their intended amounts, until no excess is left or no bank has room. The sum of the
    amounts is at most the sum of `intended`; the rest is syndicated outside the park."""
    held = [min(want, cap) for want, cap in zip(intended, caps, strict=True)]
    excess = sum(intended) - sum(held)
    while excess > 0:
        room = [cap - h for h, cap in zip(held, caps, strict=True)]
        weights = [w if r > 0 else 0.0 for w, r in zip(intended, room, strict=True)]
        total = sum(weights)
        if total <= 0:
            break
        placed = 0.0
        for b, weight in enumerate(weights):
            take = min(excess * weight / total, room[b])
            held[b] += take
            placed += take
        excess -= placed
        if placed <= 0:
            break
    return held


def lend_to_operator(banks: Sequence[Bank], development_loans: float, focal_share: float) -> None:
    """Split the operator's development loans (万元) between the banks (`operator_shares`),
    each within its single-name cap (`club_amounts`); the rest is syndicated outside the
    park. Each bank keeps its share of the whole (`Bank.operator_share`)."""
    ordered = sorted(banks, key=lambda bank: bank.index)
    intended = [development_loans * s for s in operator_shares(len(ordered), focal_share)]
    held = club_amounts(intended, [bank.name_cap for bank in ordered])
    for bank, amount in zip(ordered, held, strict=True):
        bank.operator_loan = amount
        bank.operator_share = amount / development_loans if development_loans > 0 else 0.0


def service_operator_loans(banks: Sequence[Bank], rate: float, ftp_rate: float) -> None:
    """A quarter's interest on the development loans and their FTP charge (annual rates;
    `rate` is 0 while the loans are in default)."""
    for bank in banks:
        bank.ledger.interest_income += bank.operator_loan * rate / QUARTERS_PER_YEAR
        bank.ledger.ftp_charge += bank.operator_loan * ftp_rate / QUARTERS_PER_YEAR


def take_operator_default(banks: Sequence[Bank], written_off: float) -> None:
    """The operator's development loans defaulted: each bank loses its share of the
    written-off amount (万元), the share of the loans it held (`Bank.operator_share`);
    lenders outside the park lose the rest."""
    for bank in banks:
        bank.book_credit_loss(written_off * bank.operator_share, 0.0)
