"""The group's equity vehicle: who holds the park stakes and warrants, and its P&L.

A commercial bank may not hold equity in non-financial firms (Commercial Bank Law
art. 43); the source book puts the park stakes in group subsidiaries with equity-investment
licences (an AIC or investment subsidiary) or partner funds (§六(二)3), refers with
revenue sharing (§六(二)4) and notes the limits of bank investment subsidiaries (§五(三)).
So by default (`holder = "group"`) the bank books no equity income: the fund's stakes and
the warrants sit in the group vehicle, whose quarter (`group_quarter`) is

    share of fund gains   g · G                    (g = `group_share`, the rest is the LPs')
    + warrant gains       W                        (the vehicle holds the warrants whole)
    + management fee      m · (1 − g) · C / 4 · (1 − k)   (the LPs' part of the fee on
                                                   committed C, less the GP's running
                                                   cost, k = `fund_cost_ratio`)
    + carry               c · (1 − g) · [max(ΣG_t, 0) − max(ΣG_{t−1}, 0)]
                                                   (on the LPs' cumulative realised gain:
                                                    whole-fund waterfall, no hurdle)
    − funding             f · g · cost held / 4    (the group's paid-in capital)
    = pre-tax; tax at `tax_rate` on it less losses carried forward; income after tax.

With `holder = "bank"` the bank books the gains itself (fund and warrants whole), pays the
funding of the stakes at cost through its FTP and holds capital for them (banks/risk.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from parksim.core.units import QUARTERS_PER_YEAR

SHARE = {"unit": "share"}


@dataclass(frozen=True)
class GroupParams:
    """Where the park's equity is held, the fund's terms and the warrants' terms."""

    holder: Literal["group", "bank"] = field(
        default="group",
        metadata={
            "help": "who books equity income: 'group' (investment subsidiary / AIC or partner "
            "fund, Commercial Bank Law art. 43; book §六(二)3-4) or 'bank' (the branch itself)"
        },
    )
    committed_capital: float = field(
        default=50000.0,
        metadata={
            "min": 0.0,
            "unit": "万元",
            "help": "committed capital of each bank group's park fund; co-investments stop "
            "when it is spent and sale proceeds are distributed, not recycled. Book table of "
            "park funds: 3 亿 (深圳投控园区产业基金), 5 亿 (弘盛宝龙), 10 亿 (成都策源), "
            "20 亿 (北京经开); range in assumptions.toml",
        },
    )
    group_share: float = field(
        default=0.2,
        metadata={
            **SHARE,
            "help": "group's share of the fund as GP and anchor LP; partner LPs hold the rest. "
            "Assumption: bank AIC and government-guided funds 10-30 % (range in "
            "assumptions.toml)",
        },
    )
    management_fee: float = field(
        default=0.02,
        metadata={
            **SHARE,
            "help": "annual management fee / committed capital: the 2 % market convention "
            "(2 and 20; Metrick & Yasuda 2010, RFS 23(6): median 2 %)",
        },
    )
    carry: float = field(
        default=0.2,
        metadata={
            **SHARE,
            "help": "carried interest / partners' realised gain: the 20 % market convention "
            "(Metrick & Yasuda 2010: 20 % in almost all funds)",
        },
    )
    fund_cost_ratio: float = field(
        default=0.6,
        metadata={
            **SHARE,
            "help": "share of the management fee the GP spends running the fund (investment "
            "team, deal and monitoring costs); assumption, range in assumptions.toml",
        },
    )
    affiliate_cost_ratio: float = field(
        default=0.55,
        metadata={
            **SHARE,
            "help": "operating cost / fee income of the group's securities affiliate on the "
            "sponsor and underwriting mandates (group_fee_income): China's securities "
            "industry earned 1,378 亿 net on 4,059 亿 of revenue in 2023 (SAC), about 45 % "
            "pre-tax; range in assumptions.toml",
        },
    )
    tax_rate: float = field(
        default=0.25,
        metadata={
            **SHARE,
            "help": "corporate income tax on the vehicle's profit: 25 % (企业所得税法 art. 4); "
            "losses carried forward",
        },
    )
    funding_cost: float = field(
        default=0.018,
        metadata={
            **SHARE,
            "help": "annual funding cost of the group's paid-in capital in the fund; "
            "default the banks' funding cost (lending.funding_cost)",
        },
    )
    lockup_quarters: int = field(
        default=4,
        metadata={
            "min": 0,
            "unit": "quarters",
            "help": "lock-up after a listing before the fund, the warrants and the operator's "
            "stakes can be sold: 12 months for pre-IPO shareholders (公司法 art. 160, "
            "A-share listing rules); 36 months for controllers",
        },
    )
    illiquidity_discount: float = field(
        default=0.25,
        metadata={
            **SHARE,
            "help": "discount for lack of marketability in the mark to model; assumption, "
            "restricted-stock studies 20-35 % (range in assumptions.toml)",
        },
    )
    exit_horizon_quarters: int = field(
        default=12,
        metadata={
            "min": 0,
            "unit": "quarters",
            "help": "quarters to exit over which the mark to model applies a firm's quarterly "
            "failure PD: value × (1 − PD)^horizon; assumption (VC holding 3-5 years)",
        },
    )
    warrant_stake_cap: float = field(
        default=0.02,
        metadata={
            **SHARE,
            "help": "cap on a warrant's implied stake (notional / strike): local 认股权贷款 "
            "pilots take small stakes, typically 0.5-2 % of the firm (range in "
            "assumptions.toml)",
        },
    )
    warrant_option_value: float = field(
        default=0.3,
        metadata={
            **SHARE,
            "help": "value of a warrant at grant per unit of notional (an at-the-money call on "
            "a venture firm net of failure: Black-Scholes, σ 60 %, 5 years gives 0.52 before "
            "failure); assumption, range in assumptions.toml",
        },
    )
    warrant_pass_through: float = field(
        default=0.5,
        metadata={
            **SHARE,
            "help": "share of the warrant's value the bank gives back as a lower loan rate; "
            "below 1 a firm prefers a loan without warrant at the same base price",
        },
    )


@dataclass
class GroupVehicle:
    """One bank group's equity vehicle: its fund's room and its running state."""

    room: float  # committed capital not yet invested, 万元
    cumulative_gain: float = 0.0  # the fund's realised gains so far, 万元
    loss_carried: float = 0.0  # tax losses carried forward, 万元
    unrealised: float = 0.0  # last quarter's fair value less cost of what it holds, 万元
    fair_value: float = 0.0  # holder's stakes and warrants marked to model, 万元


class GroupQuarter(NamedTuple):
    """The group vehicle's P&L of one quarter (万元)."""

    fund_share: float  # g · fund gains
    warrants: float
    fee: float
    carry: float
    funding: float
    pre_tax: float
    tax: float
    income: float  # after tax


def group_quarter(
    vehicle: GroupVehicle,
    fund_gain: float,
    warrant_gain: float,
    cost_held: float,
    params: GroupParams,
    fund_open: bool = True,
) -> GroupQuarter:
    """The group vehicle's quarter (module docstring): `fund_gain` is the whole fund's
    realised gain, `warrant_gain` the warrants', `cost_held` what the fund paid for the
    stakes it still holds; the management fee runs while the fund is open (`fund_open`:
    the bank's tier co-invests, or the fund still holds stakes). Updates the vehicle's
    cumulative gain and tax losses."""
    g = params.group_share
    before = max(vehicle.cumulative_gain, 0.0)
    vehicle.cumulative_gain += fund_gain
    carry = params.carry * (1.0 - g) * (max(vehicle.cumulative_gain, 0.0) - before)
    fee = params.management_fee * (1.0 - g) * params.committed_capital / QUARTERS_PER_YEAR
    fee *= fund_open * (1.0 - params.fund_cost_ratio)
    funding = params.funding_cost * g * cost_held / QUARTERS_PER_YEAR
    fund_share = g * fund_gain
    pre_tax = fund_share + warrant_gain + fee + carry - funding
    taxable = pre_tax - vehicle.loss_carried
    if taxable >= 0.0:
        tax, vehicle.loss_carried = params.tax_rate * taxable, 0.0
    else:
        tax, vehicle.loss_carried = 0.0, -taxable
    return GroupQuarter(fund_share, warrant_gain, fee, carry, funding, pre_tax, tax, pre_tax - tax)


def affiliate_income(sponsor_fees: float, referral_paid: float, params: GroupParams) -> float:
    """The securities affiliate's after-tax income of a quarter on the mandates of the
    bank's clients (万元): sponsor and underwriting fees less the referral share it pays
    the bank (an intra-group transfer, so the group view counts it once, at the bank),
    less its operating cost (`affiliate_cost_ratio`), less tax at `tax_rate`."""
    pre_tax = (sponsor_fees - referral_paid) * (1.0 - params.affiliate_cost_ratio)
    return pre_tax * (1.0 - params.tax_rate)
