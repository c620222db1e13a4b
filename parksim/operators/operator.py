"""The park operator: a heavy-asset landlord or a light-asset service provider (§四(三), §四(四)).

- Heavy (重资产 + 轻运营): owns the buildings, earns rent × occupied space, finances them
  with development loans and special bonds (table 6: 2.99-3.28%, 10-20 years); high
  leverage; fills space with whoever pays (horizontal clustering, §四(一)).
- Light (轻资产 + 重运营): has recycled the property through Pre-REITs/REITs (table 5)
  and keeps a sponsor stake; earns management and service fees, takes equity in tenants
  (服务换股权, Xi'an Qinchuangyuan §三(五)) and runs a park fund (table 4) that co-invests;
  low leverage; attracts fewer but better firms and links them into chains (§四(一)).
- Adaptive: starts heavy and converts to light once the property qualifies for a REIT
  (REITs available and occupancy high for long enough).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import mesa
import numpy as np

from parksim.core.codes import Stage
from parksim.core.population import N_ACTIVE_STAGES, EnterprisePopulation, stage_table
from parksim.core.units import QUARTERS_PER_YEAR

AssetModel = Literal["heavy", "light", "adaptive"]
SHARE = {"unit": "share"}


@dataclass(frozen=True)
class OperatorParams:
    """Economics of the park operator."""

    space_per_firm: tuple[float, ...] = field(
        default=(100.0, 300.0, 1000.0, 2500.0, 4000.0),
        metadata={"non_negative": True, "help": "floor area used by a firm, m², seed → listed"},
    )
    initial_occupancy: float = field(
        default=0.7,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "help": "occupancy at start; sets the park's floor area",
        },
    )
    property_value: float = field(
        default=1.0, metadata={"non_negative": True, "help": "property value, 万元 per m²"}
    )
    rent: float = field(
        default=0.09,
        metadata={
            "non_negative": True,
            "help": "annual rent, 万元 per occupied m² (≈2.5 元/m²/day)",
        },
    )
    operating_cost_ratio: float = field(
        default=0.56,
        metadata={
            **SHARE,
            "help": "operating cost / property revenue; a listed "
            "operator's park-operations gross margin is 44% (2023)",
        },
    )
    heavy_leverage: float = field(
        default=0.6, metadata={**SHARE, "help": "debt / property value of a heavy operator"}
    )
    bond_share: float = field(
        default=0.5, metadata={**SHARE, "help": "share of operator debt in special bonds"}
    )
    bond_coupon: float = field(
        default=0.031, metadata={**SHARE, "help": "special-bond coupon (table 6: 2.99-3.28%)"}
    )
    development_loan_rate: float = field(
        default=0.040, metadata={**SHARE, "help": "annual rate of development loans"}
    )
    amortisation: float = field(
        default=0.0125, metadata={**SHARE, "help": "quarterly share of debt repaid (20 years)"}
    )
    focal_loan_share: float = field(
        default=0.4, metadata={**SHARE, "help": "share of development loans from the focal bank"}
    )
    reit_share: float = field(
        default=0.8,
        metadata={
            **SHARE,
            "help": "share of the property sold into the REIT; the "
            "operator keeps the rest as sponsor",
        },
    )
    reit_yield: float = field(
        default=0.045, metadata={**SHARE, "help": "REIT distribution yield (2024: 3.9-5.1%)"}
    )
    reit_occupancy: float = field(
        default=0.85, metadata={**SHARE, "help": "occupancy an adaptive operator needs to REIT"}
    )
    reit_seasoning_quarters: int = field(
        default=8, metadata={"min": 0, "help": "quarters of that occupancy before converting"}
    )
    management_fee: float = field(
        default=0.10, metadata={**SHARE, "help": "light operator's fee / rent roll it manages"}
    )
    service_fee: float = field(
        default=1.0,
        metadata={
            "non_negative": True,
            "help": "light operator's service fees per firm per quarter, 万元",
        },
    )
    equity_for_services: float = field(
        default=0.01,
        metadata={
            **SHARE,
            "help": "equity a light operator takes in each "
            "seed/startup entrant in exchange for services",
        },
    )
    services_value: float = field(
        default=5.0,
        metadata={"non_negative": True, "help": "cost of the services given for that stake, 万元"},
    )
    light_leverage: float = field(
        default=0.2, metadata={**SHARE, "help": "debt / assets of a light operator"}
    )
    light_other_assets: float = field(
        default=0.05,
        metadata={
            **SHARE,
            "source": "assumption",
            "help": "a light operator's cash and receivables at the start, as a share of "
            "the property value it manages",
        },
    )
    vacancy_ramp: float = field(
        default=0.1,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "unit": "share",
            "source": "assumption",
            "help": "vacancy below which the park turns entrants away in proportion: at "
            "this vacancy or more every entrant finds space, in a full park none does",
        },
    )
    inflow: dict[str, float] = field(
        default_factory=lambda: {"heavy": 1.15, "light": 0.90},
        metadata={"min": 0.0, "help": "entry-rate multiplier by asset model"},
    )
    entrant_quality: dict[str, float] = field(
        default_factory=lambda: {"heavy": -0.10, "light": 0.15},
        metadata={"help": "shift of entrants' mean quality by asset model"},
    )
    graduation_uplift: dict[str, float] = field(
        default_factory=lambda: {"heavy": 1.0, "light": 1.15},
        metadata={"min": 0.0, "help": "graduation multiplier from incubation services"},
    )
    relocation: dict[str, float] = field(
        default_factory=lambda: {"heavy": 1.1, "light": 0.9},
        metadata={"min": 0.0, "help": "relocation multiplier by asset model"},
    )
    chain_link: dict[str, float] = field(
        default_factory=lambda: {"heavy": 0.05, "light": 0.25},
        metadata={"unit": "probability", "help": "chance an entrant supplies a chain leader"},
    )
    max_leverage: float = field(
        default=0.7,
        metadata={
            **SHARE,
            "help": "debt / appraised assets up to which banks finance the operator's cash "
            "deficit with new development loans (CBRC: operating-property loans <= 70% of "
            "the appraised value)",
        },
    )
    arrears_quarters: int = field(
        default=1,
        metadata={
            "min": 0,
            "help": "quarters a missed debt payment may stay unpaid; one more and the "
            "development loans default (1 = 90 days past due, Basel II §452, NFRA 2023)",
        },
    )

    def __post_init__(self) -> None:
        for name in ("inflow", "entrant_quality", "graduation_uplift", "relocation", "chain_link"):
            keys = set(getattr(self, name))
            if keys != {"heavy", "light"}:
                raise ValueError(f"{name} needs exactly the keys 'heavy' and 'light'")
        if len(self.space_per_firm) != N_ACTIVE_STAGES:
            raise ValueError(f"space_per_firm needs {N_ACTIVE_STAGES} values (seed .. listed)")


@dataclass
class OperatorLedger:
    """The operator's quarter (万元)."""

    revenue: float = 0.0
    equity_income: float = 0.0
    leverage: float = 0.0
    occupancy: float = 0.0
    light: bool = False
    reit_issued: float = 0.0  # size of a REIT issued this quarter
    arrears: float = 0.0  # debt service due and unpaid at quarter end
    in_default: bool = False  # development loans defaulted and in workout


class ParkOperator(mesa.Agent):
    """The park operator (园区运营方)."""

    def __init__(
        self,
        model: mesa.Model,
        params: OperatorParams,
        asset_model: AssetModel,
        floor_area: float,
        reits_available: bool,
        park_fund: float,
    ) -> None:
        super().__init__(model)
        self.params = params
        self.rule = asset_model
        self.floor_area = floor_area
        self.reits_available = reits_available
        self.park_fund = park_fund  # uncommitted capital of the park fund, 万元
        self.light = asset_model == "light"
        value = floor_area * params.property_value
        if self.light:
            # A light operator has already recycled its property (or manages someone
            # else's): it keeps only the sponsor stake when REITs exist.
            self.property = 0.0
            self.reit_stake = (1 - params.reit_share) * value if reits_available else 0.0
            self.other_assets = params.light_other_assets * value
            debt = params.light_leverage * (self.reit_stake + self.other_assets)
        else:
            self.property = value
            self.reit_stake = 0.0
            self.other_assets = 0.0
            debt = params.heavy_leverage * value
        # Special bonds and bank development loans (万元); a deficit is borrowed from the
        # banks, so the split drifts from `bond_share`.
        self.bonds = params.bond_share * debt
        self.loans = debt - self.bonds
        self.arrears = 0.0  # debt service due and unpaid, 万元
        self.quarters_in_arrears = 0
        self.workout_quarters_left = 0  # > 0 while defaulted loans are in workout
        self.high_occupancy_quarters = 0
        self.scheduled_reit = 0.0  # size of a REIT a scheduled change issued, 万元
        self.ledger = OperatorLedger()

    def __repr__(self) -> str:
        return (
            f"ParkOperator({self.model_name}, rule={self.rule!r}, debt={self.debt:,.0f} 万元, "
            f"occupancy={self.ledger.occupancy:.0%})"
        )

    @property
    def debt(self) -> float:
        """Special bonds plus bank development loans, 万元."""
        return self.bonds + self.loans

    @property
    def development_loans(self) -> float:
        """The banks' development loans to the operator, 万元."""
        return self.loans

    @property
    def in_default(self) -> bool:
        """Whether the development loans have defaulted and are still in workout."""
        return self.workout_quarters_left > 0

    def appraised_assets(self, occupancy: float) -> float:
        """Property at its income value (a constant capitalisation rate, so the value
        moves with occupancy from the value at the initial occupancy), plus the REIT
        stake and other assets, 万元."""
        income_value = self.property * occupancy / self.params.initial_occupancy
        return income_value + self.reit_stake + self.other_assets

    def _leverage(self, occupancy: float) -> float:
        assets = self.appraised_assets(occupancy)
        return (self.debt + self.arrears) / assets if assets > 0 else 0.0

    @property
    def model_name(self) -> str:
        return "light" if self.light else "heavy"

    def occupancy(self, pop: EnterprisePopulation, replication: int = 0) -> float:
        """Occupied floor area / park floor area (firms that left use none), of the park
        of `replication` in a batch."""
        return self.occupancy_of(space_used(pop, self.params)[replication])

    def occupancy_of(self, used: float) -> float:
        """Occupancy when the park's firms use `used` floor area (`space_used`)."""
        return float(min(1.0, used / self.floor_area)) if self.floor_area > 0 else 0.0

    def vacancy_room(self, occupancy: float) -> float:
        """Entry multiplier: a full park turns entrants away, one with `vacancy_ramp` or
        more of its space free takes them all."""
        return min(1.0, max(0.0, (1.0 - occupancy) / self.params.vacancy_ramp))

    def take_service_stakes(self, pop: EnterprisePopulation, new_ids: np.ndarray) -> None:
        """Services for equity (服务换股权): a light operator takes a stake in young entrants."""
        if not self.light or self.params.equity_for_services == 0:
            return
        young = new_ids[pop.stage[new_ids] <= Stage.STARTUP]
        pop.operator_stake[young] += self.params.equity_for_services
        pop.operator_stake_cost[young] += self.params.services_value

    def open_books(self, occupancy: float) -> None:
        """The operator's position at the start (no flows yet)."""
        self.ledger = OperatorLedger(
            leverage=self._leverage(occupancy),
            occupancy=occupancy,
            light=self.light,
        )

    def consider_conversion(self, occupancy: float) -> float:
        """Adaptive rule: convert to light once the property is seasoned for a REIT.

        The whole property goes into the REIT; the operator sells `reit_share` of the units
        and keeps the rest as sponsor (Chinese public REITs require the sponsor to hold at
        least 20%). Returns the size of the REIT (万元), 0 if none was issued.
        """
        p = self.params
        self.high_occupancy_quarters = (
            self.high_occupancy_quarters + 1 if occupancy >= p.reit_occupancy else 0
        )
        ready = self.high_occupancy_quarters >= p.reit_seasoning_quarters
        # A REIT issued by a scheduled change this quarter is reported here, once.
        scheduled, self.scheduled_reit = self.scheduled_reit, 0.0
        if self.rule != "adaptive" or self.light or not self.reits_available or not ready:
            return scheduled
        return self._convert_to_light()

    def change_model(self, asset_model: AssetModel) -> None:
        """A scheduled change of model. To light: the property goes into a REIT as under
        the adaptive rule (when REITs are available; otherwise the operator keeps it and
        changes only how it serves firms); the REIT is reported by `consider_conversion`
        of the same quarter. To heavy: it serves firms as a landlord again, keeping the
        assets it has. To adaptive: the rule decides from now on.
        """
        self.rule = asset_model
        if asset_model == "heavy":
            self.light = False
        elif asset_model == "light" and not self.light:
            if self.reits_available and self.property > 0:
                self.scheduled_reit = self._convert_to_light()
            self.light = True

    def _convert_to_light(self) -> float:
        p = self.params
        reit_size = self.property
        proceeds = p.reit_share * self.property
        self.reit_stake = self.property - proceeds
        self.property = 0.0
        repay = min(self.debt, proceeds)
        share = repay / self.debt if self.debt > 0 else 0.0
        self.bonds *= 1.0 - share
        self.loans *= 1.0 - share
        self.other_assets += proceeds - repay
        self.light = True
        return reit_size

    def settle_quarter(
        self,
        pop: EnterprisePopulation,
        occupancy: float,
        equity_income: float,
        tenants: int | None = None,
    ) -> OperatorLedger:
        """Revenue, debt service and leverage for the quarter.

        Debt service (interest, scheduled principal and any arrears) is paid from cash
        and the quarter's operating income; a shortfall is borrowed from the banks as new
        development loans while debt stays within `max_leverage` of the appraised
        assets, and what is still unpaid is in arrears (see `past_due`). `tenants` are the
        park's firms (default: counted in `pop`, a population of one park).
        """
        p = self.params
        if tenants is None:
            tenants = int(np.count_nonzero(pop.stage <= Stage.LISTED))
        rent_roll = p.rent * occupancy * self.floor_area / QUARTERS_PER_YEAR
        if self.light:
            fees = p.management_fee * rent_roll + p.service_fee * tenants
            revenue = fees + p.reit_yield * self.reit_stake / QUARTERS_PER_YEAR + equity_income
            cost = p.operating_cost_ratio * fees
        else:
            revenue = rent_roll + equity_income
            cost = p.operating_cost_ratio * rent_roll
        # Loans in workout accrue no interest (non-accrual); bonds are always serviced.
        in_workout = self.in_default
        loan_rate = 0.0 if in_workout else p.development_loan_rate
        interest = (self.bonds * p.bond_coupon + self.loans * loan_rate) / QUARTERS_PER_YEAR
        principal = p.amortisation * self.debt
        self.bonds -= p.amortisation * self.bonds
        self.loans -= p.amortisation * self.loans
        shortfall = interest + principal + self.arrears - (self.other_assets + revenue - cost)
        if shortfall > 0:
            room = max(0.0, p.max_leverage * self.appraised_assets(occupancy) - self.debt)
            borrowed = min(shortfall, room)
            self.loans += borrowed
            shortfall -= borrowed
        self.arrears = max(shortfall, 0.0)
        self.other_assets = max(-shortfall, 0.0)
        self.quarters_in_arrears = self.quarters_in_arrears + 1 if self.arrears > 0 else 0
        if self.workout_quarters_left > 0:
            self.workout_quarters_left -= 1
        self.ledger = OperatorLedger(
            revenue=revenue,
            equity_income=equity_income,
            leverage=self._leverage(occupancy),
            occupancy=occupancy,
            light=self.light,
            arrears=self.arrears,
            in_default=in_workout,
        )
        return self.ledger

    @property
    def past_due(self) -> bool:
        """A missed payment has stayed unpaid for more than `arrears_quarters`: the
        development loans are in default."""
        return self.quarters_in_arrears > self.params.arrears_quarters

    def restructure(self, lgd: float, workout_quarters: int) -> tuple[float, float]:
        """The banks' development loans default: arrears are capitalised into them, the
        banks write off `lgd` of the balance, and the rest stays lent to the operator,
        without interest for `workout_quarters`. Returns (defaulted balance, written off),
        万元."""
        defaulted = self.loans + self.arrears
        written_off = lgd * defaulted
        self.loans = defaulted - written_off
        self.arrears = 0.0
        self.quarters_in_arrears = 0
        self.workout_quarters_left = max(workout_quarters, 1)
        self.ledger.arrears = 0.0
        self.ledger.in_default = True
        return defaulted, written_off

    def services(self) -> tuple[float, float, float, float, float]:
        """(inflow, entrant quality, graduation uplift, relocation, chain link) of the model."""
        p, m = self.params, self.model_name
        return (
            p.inflow[m],
            p.entrant_quality[m],
            p.graduation_uplift[m],
            p.relocation[m],
            p.chain_link[m],
        )


def space_used(pop: EnterprisePopulation, params: OperatorParams) -> np.ndarray:
    """Floor area the firms of each replication's park occupy (firms that left use none),
    by replication."""
    return pop.stage_table_sums(stage_table(params.space_per_firm))
