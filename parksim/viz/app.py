"""`parksim app [SCENARIO]`: one park as it runs, in the browser (Mesa + Solara).

The page (parksim.viz.app_page) shows the park's enterprises by stage, the focal bank's
exposure, NPL ratio, net profit and credit loss, and the operator's occupancy, quarter
by quarter; the park's firms as a table one can sort and filter; and the supply chains
(chain leaders, 链主, and the firms that supply them) as a network. Its controls: step /
play / reset, the strategy, the focal bank's tier, the operator's model, the main policy
levers, the seed, and every parameter ranged in parksim/data/assumptions.toml (grouped,
with its unit), applied through the parameter addresses (parksim.scenario.addresses). A
change of control takes effect at Reset (a new model is built from the controls, as in
Mesa's SolaraViz). Needs the `app` extra: `pip install "parksim[app]"`.

This module holds what needs no solara (the model the controls build, the controls, the
charts), so that `parksim app --help` and the tests work without the extra. The charts
are matplotlib images drawn on the server: the page loads no JavaScript from the
internet (Mesa's own SolaraViz lays out with a grid that fetches vue-grid-layout from a
CDN, so it stays blank offline).

`parksim app` runs `solara run parksim.viz.app_page:Page`; the scenario comes in the
environment variable PARKSIM_APP_SCENARIO (default scenarios/baseline.toml).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import io
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from parksim.analysis.sensitivity.assumptions import load_assumptions
from parksim.banks.tiers import TIER_SPECS, TIERS
from parksim.core.codes import STAGES
from parksim.model import ParkModel
from parksim.operators.operator import AssetModel
from parksim.scenario.addresses import keyword_of, scenario_leaves, steps
from parksim.scenario.loader import load_scenario
from parksim.scenario.schema import Scenario
from parksim.viz import fonts
from parksim.viz.report import cjk_font_data

SCENARIO_VARIABLE = "PARKSIM_APP_SCENARIO"
DEFAULT_SCENARIO = Path("scenarios/baseline.toml")
#: Choice of the tier and operator controls that keeps the strategy's own.
AS_STRATEGY = "the strategy's"
#: The policy levers on the page: (field, label, max, step). Ranges follow docs/model.md:
#: local pools (风险补偿资金池) cover ≤50-55%, a government guarantor (政府性融资担保) ≤80%,
#: an interest subsidy (贴息) is a few percentage points at most.
POLICY_LEVERS: tuple[tuple[str, str, float, float], ...] = (
    ("risk_pool_share", "pool: loss share", 1.0, 0.05),
    ("risk_pool_size", "pool: capital", 100_000.0, 5_000.0),
    ("guarantee_share", "guarantee: share", 0.8, 0.05),
    ("interest_subsidy", "interest subsidy", 0.03, 0.0025),
)
POLICY_UNITS = {
    "risk_pool_share": "share",
    "risk_pool_size": "万元",
    "guarantee_share": "share",
    "interest_subsidy": "share",
}
#: One chart in pixels at the page's resolution (two to a row on a laptop screen).
CHART_SIZE_IN = (5.0, 2.7)
CHART_DPI = 100
STAGE_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08519c", "#08306b")
#: The report's fonts (Chinese glyphs from the shipped CJK font) and a light frame.
STYLE = {
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.88",
}


@dataclass(frozen=True)
class Panel:
    """One chart of the page: its title, the time-series columns (docs/columns.md) it
    draws, with their legend labels and colours, and whether it is a share (0-1)."""

    key: str
    title: str
    lines: tuple[tuple[str, str, str], ...]
    share: bool = False


PANELS: tuple[Panel, ...] = (
    Panel(
        "stages",
        "enterprises by stage",
        tuple(
            (f"n_{stage}", stage.replace("_", "-"), colour)
            for stage, colour in zip(STAGES, STAGE_COLOURS, strict=True)
        ),
    ),
    Panel("exposure", "focal bank: exposure, 万元", (("exposure", "exposure", "#08519c"),)),
    Panel("npl", "focal bank: NPL ratio", (("npl_ratio", "NPL ratio", "#cb181d"),), share=True),
    Panel(
        "profit",
        "focal bank: net profit per quarter, 万元",
        (("net_profit", "net profit", "#238b45"),),
    ),
    Panel(
        "loss",
        "focal bank: credit loss and policy recoveries per quarter, 万元",
        (
            ("credit_loss", "credit loss", "#cb181d"),
            ("policy_recoveries", "policy recoveries", "#fd8d3c"),
        ),
    ),
    Panel(
        "occupancy",
        "operator: occupancy",
        (("occupancy", "occupancy", "#6a51a3"),),
        share=True,
    ),
)


class AppModel(ParkModel):
    """The park model with the page's controls as its arguments, so that the page can
    build a new one from them at Reset.

    A policy lever or a ranged parameter overrides the scenario only when it differs from
    the value it started at (the first strategy's policy; the scenario's parameter), so
    that choosing another strategy and leaving the levers alone runs that strategy's own
    policy. A ranged parameter is a keyword of its address (``lifecycle__relocation``,
    ``tiers__2_0__fixed_cost``); one with ``scale = true`` is a multiplier of the
    scenario's tuple or table (1 keeps it). Other keywords are ParkModel's overrides.
    """

    def __init__(
        self,
        config: str | Path = DEFAULT_SCENARIO,
        strategy: str | None = None,
        bank_tier: str = AS_STRATEGY,
        operator_model: str = AS_STRATEGY,
        seed: int = 1,
        scenario: Any = None,  # Mesa's experiment scenario, which its Reset passes; unused
        rng: Any = None,
        **controls: Any,
    ) -> None:
        start = _policy_start(config)
        ranged = {control.keyword: control for control in ranged_controls(config)}
        overrides: dict[str, Any] = {}
        addresses: dict[str, Any] = {}
        for name, value in controls.items():
            if name in start:
                if value != start[name]:
                    overrides[name] = value
            elif name in ranged:
                control = ranged[name]
                if value != control.value:
                    addresses[control.address] = control.applied(value)
            else:
                overrides[name] = value
        if bank_tier != AS_STRATEGY:
            overrides["bank_tier"] = float(bank_tier)
        if operator_model != AS_STRATEGY:
            overrides["operator_model"] = operator_model
        if int(seed) < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {seed}")
        self.app_overrides = overrides | addresses
        own = load_scenario(config)
        chosen = own.strategy(strategy) if strategy else own.strategies[0]
        #: The strategy as the scenario defines it (the headline says what was set here).
        self.own_strategy = chosen
        super().__init__(
            own,
            strategy,
            rng=int(seed) if rng is None else rng,
            overrides=addresses,
            **overrides,
        )

    def step(self) -> None:
        """One quarter; at the scenario's horizon Step and Play go grey."""
        super().step()
        self.running = self.quarter < self.config.horizon


def _policy_start(config: str | Path) -> dict[str, float]:
    """The levers' start values: the first strategy's policy."""
    policy = load_scenario(config).strategies[0].policy
    return {name: float(getattr(policy, name)) for name, *_ in POLICY_LEVERS}


# ------------------------------------------------------------------ ranged parameters

#: Titles of the groups of ranged parameters (the first part of an address).
GROUPS = {
    "firms": "firms at the start",
    "lifecycle": "firms' life cycle",
    "equity": "equity rounds",
    "lending": "lending",
    "income": "bank income",
    "group": "group equity vehicle",
    "credit": "credit risk",
    "operator": "park operator",
    "tiers": "service tiers (bank)",
    "discount_rate": "valuation",
}
#: Steps a float slider of a ranged parameter has between its low and high end.
SLIDER_STEPS = 100
SCALE_UNIT = "× the scenario's values"


@dataclass(frozen=True)
class RangedControl:
    """A control of one parameter ranged in parksim/data/assumptions.toml."""

    address: str  # parameter address, e.g. lifecycle.relocation
    keyword: str  # the same as a Python keyword: lifecycle__relocation
    group: str  # key of GROUPS
    low: float
    high: float
    value: float  # the scenario's value (1.0 for a multiplier)
    unit: str  # the field's unit (SCALE_UNIT for a multiplier)
    integer: bool
    scale: bool  # a multiplier of the scenario's tuple or table
    base: Any  # the scenario's value at the address
    help: str  # the field's help text and the range's reason

    @property
    def step(self) -> float:
        return 1 if self.integer else (self.high - self.low) / SLIDER_STEPS

    def applied(self, value: float) -> Any:
        """What the control's `value` sets at its address."""
        if self.scale:
            if isinstance(self.base, dict):
                return {key: item * value for key, item in self.base.items()}
            return [item * value for item in self.base]
        return round(value) if self.integer else float(value)

    def show(self, value: float) -> str:
        """The value as the page prints it beside the slider, with its unit."""
        return show_value(value, self.unit, self.integer)


def show_value(value: float, unit: str, integer: bool = False) -> str:
    """A control's value in words: shares in percent, money grouped, others to 3 digits."""
    if unit in ("share", "probability", "probability per quarter"):
        suffix = "" if unit != "probability per quarter" else " per quarter"
        return f"{value:.4g}" if value > 1 else f"{value:.2%}".replace(".00%", "%") + suffix
    if integer:
        return f"{round(value):,} {unit}".strip()
    if unit == SCALE_UNIT:
        return f"× {value:.2f}"
    number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{number} {unit}".strip()


def field_of(address: str) -> dataclasses.Field[Any] | None:
    """The dataclass field of the scenario schema that holds `address` (its unit, help)."""
    cls: Any = Scenario
    found = None
    parts = steps(address)
    if parts[0] == "tiers":
        cls, parts = type(TIER_SPECS[float(parts[1])]), parts[2:]
    for part in parts:
        if not (isinstance(part, str) and dataclasses.is_dataclass(cls)):
            break
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if part not in fields:
            break
        found = fields[part]
        hint = typing.get_type_hints(cls).get(part)
        cls = hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None
    return found


@functools.cache
def _ranged_controls(config: str) -> tuple[RangedControl, ...]:
    scenario = load_scenario(config)
    values = scenario_leaves(scenario)
    controls = []
    for parameter in load_assumptions().ranged():
        base = values[parameter.key]
        f = field_of(parameter.key)
        meta = f.metadata if f is not None else {}
        value = 1.0 if parameter.scale else float(base)
        controls.append(
            RangedControl(
                address=parameter.key,
                keyword=keyword_of(parameter.key),
                group=steps(parameter.key)[0] if parameter.key in values else "",
                # The scenario's value may lie outside the range: the slider reaches it.
                low=min(parameter.low, value),
                high=max(parameter.high, value),
                value=value,
                unit=SCALE_UNIT if parameter.scale else _unit(parameter.key, meta),
                integer=parameter.integer,
                scale=parameter.scale,
                base=base,
                help=" — ".join(t for t in (str(meta.get("help", "")), parameter.reason) if t),
            )
        )
    return tuple(controls)


def _unit(address: str, meta: Any) -> str:
    """A field's unit; a count of quarters says so in its name when it has none."""
    if "unit" in meta:
        return str(meta["unit"])
    return "quarters" if address.endswith("quarters") else ""


def ranged_controls(config: str | Path) -> tuple[RangedControl, ...]:
    """A control for every parameter ranged in assumptions.toml, in the file's order."""
    return _ranged_controls(str(Path(config).resolve()))


def grouped_controls(config: str | Path) -> dict[str, list[RangedControl]]:
    """The ranged controls by group (GROUPS' order)."""
    out: dict[str, list[RangedControl]] = {group: [] for group in GROUPS}
    for control in ranged_controls(config):
        out.setdefault(control.group, []).append(control)
    return {group: controls for group, controls in out.items() if controls}


def control_label(control: RangedControl) -> str:
    """A ranged control's label: its address without the group."""
    return control.address.split(".", 1)[1] if "." in control.address else control.address


def model_params(config: str | Path) -> dict[str, Any]:
    """The page's controls for a scenario file (Mesa's model_params format): strategy,
    tier, operator model, policy levers, seed and the ranged parameters; the file itself
    fixed."""
    scenario = load_scenario(config)
    start = _policy_start(config)
    params: dict[str, Any] = {
        "config": str(config),
        "strategy": {
            "type": "Select",
            "label": "strategy",
            "value": scenario.names[0],
            "values": list(scenario.names),
        },
        "bank_tier": {
            "type": "Select",
            "label": "focal bank's tier",
            "value": AS_STRATEGY,
            "values": [AS_STRATEGY, *(f"{tier:.1f}" for tier in TIERS)],
        },
        "operator_model": {
            "type": "Select",
            "label": "operator model",
            "value": AS_STRATEGY,
            "values": [AS_STRATEGY, *get_args(AssetModel)],
        },
    }
    for name, label, most, step in POLICY_LEVERS:
        params[name] = {
            "type": "SliderFloat",
            "label": label,
            "value": start[name],
            "min": 0.0,
            "max": max(most, start[name]),
            "step": step,
            "unit": POLICY_UNITS[name],
        }
    params["seed"] = {"type": "InputInt", "label": "seed", "value": 1, "min": 0}
    for control in ranged_controls(config):
        params[control.keyword] = {
            "type": "SliderInt" if control.integer else "SliderFloat",
            "label": control_label(control),
            "value": int(control.value) if control.integer else control.value,
            "min": control.low,
            "max": control.high,
            "step": control.step,
            "unit": control.unit,
            "group": control.group,
        }
    return params


def initial_values(params: dict[str, Any]) -> dict[str, Any]:
    """The model's arguments before any control is touched."""
    return {
        name: value["value"] if isinstance(value, dict) else value for name, value in params.items()
    }


def draw_panel(model: ParkModel, panel: Panel) -> Figure:
    """One panel's chart of the quarters run so far (a Figure, no pyplot)."""
    frame = model.timeseries()
    with mpl.rc_context({**STYLE, "font.family": fonts.families()}):
        # Fixed margins: constrained layout would make every redraw 1.6x slower.
        fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI)
        legend = len(panel.lines) > 1
        fig.subplots_adjust(left=0.14, right=0.76 if legend else 0.97, bottom=0.17, top=0.89)
        ax = fig.subplots()
        for column, label, colour in panel.lines:
            # A dot on the latest quarter: quarter 0 alone is a point, not yet a line.
            ax.plot(
                frame["quarter"],
                frame[column],
                label=label,
                color=colour,
                lw=1.6,
                marker="o",
                markevery=[-1],
                ms=3.5,
            )
        ax.set_title(panel.title, loc="left")
        ax.set_xlabel("quarter")
        # The whole horizon from the start, so the run fills the chart as it goes.
        ax.set_xlim(0, max(model.config.horizon, 1))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        low = min(0.0, min(frame[column].min() for column, _, _ in panel.lines))
        high = max(frame[column].max() for column, _, _ in panel.lines)
        # From 0, so that a small NPL ratio or a dip in exposure does not look like a crisis.
        if panel.share:
            ax.set_ylim(0, max(1.0 if panel.key == "occupancy" else 0.05, high * 1.1))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            ax.set_ylim(low * 1.1, max(high * 1.1, low * 1.1 + 1.0))
            ax.yaxis.set_major_formatter(FuncFormatter(_money))
        if legend:
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False)
    return fig


def _money(value: float, _position: int | None = None) -> str:
    """Thousands grouped; small values (an idle quarter's 0-1 axis) keep a digit."""
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:.1f}"


def panel_png(model: ParkModel, panel: Panel) -> bytes:
    """One panel as PNG bytes (what the page shows)."""
    return figure_png(draw_panel(model, panel))


def headline(model: ParkModel) -> str:
    """The run in one line: what runs (the tier and operator in force first, then the
    strategy they come from, with what was set on the page), its quarter, and where the
    panels stand."""
    last, policy = model.latest, model.policy
    own = getattr(model, "own_strategy", model.strategy)
    set_here = [
        f"{what} {theirs}"
        for what, ours, theirs in (
            ("tier", model.strategy.bank_tier, own.bank_tier),
            ("operator", model.strategy.operator_model, own.operator_model),
        )
        if ours != theirs
    ]
    origin = f"strategy {model.strategy.name}" + (
        f" (its own: {', '.join(set_here)})" if set_here else ""
    )
    return (
        f"tier {last['focal_tier']:.1f} · operator {model.strategy.operator_model} · "
        f"{origin} · pool {policy.risk_pool_share:.0%} · "
        f"guarantee {policy.guarantee_share:.0%} · subsidy {policy.interest_subsidy:.2%} · "
        f"quarter {model.quarter} of {model.config.horizon} · exposure "
        f"{last['exposure']:,.0f} 万元 · NPL {last['npl_ratio']:.1%} · "
        f"occupancy {last['occupancy']:.0%}"
    )


def describe_controls(values: dict[str, Any], config: str | Path | None = None) -> str:
    """What the controls are set to, for the next Reset (with the ranged parameters
    moved from the scenario's values when `config` is given)."""
    if not values:
        return ""

    def choice(name: str) -> str:
        value = values.get(name, AS_STRATEGY)
        return "the strategy's" if value == AS_STRATEGY else str(value)

    text = (
        f"next Reset: strategy {values.get('strategy')}, tier {choice('bank_tier')}, "
        f"operator {choice('operator_model')}; pool pays "
        f"{values.get('risk_pool_share', 0):.0%} of loss from "
        f"{values.get('risk_pool_size', 0):,.0f} 万元; guarantee "
        f"{values.get('guarantee_share', 0):.0%}; interest subsidy "
        f"{values.get('interest_subsidy', 0):.2%} a year; seed {values.get('seed')}"
    )
    if config is not None:
        moved = [
            f"{control.address} {control.show(values[control.keyword])}"
            for control in ranged_controls(config)
            if control.keyword in values and values[control.keyword] != control.value
        ]
        if moved:
            text += "; parameters: " + ", ".join(moved)
    return text


# ------------------------------------------------------------------------ the firms

#: The firm table's columns: (key, title, how a cell is written). Money in 万元.
FIRM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "firm"),
    ("stage", "stage"),
    ("sector", "sector"),
    ("size", "revenue 万元/yr"),
    ("valuation", "valuation 万元"),
    ("debt", "loan 万元"),
    ("loan_status", "loan status"),
    ("loan_product", "loan product"),
    ("main_bank", "main bank"),
    ("lender", "lender"),
    ("chain", "supply chain"),
    ("pd", "PD/qtr"),
    ("entered_quarter", "entered (qtr)"),
)
NO_BANK = "—"


def firm_table(model: ParkModel) -> list[dict[str, Any]]:
    """The park's active firms, one dict a row (FIRM_COLUMNS' keys): codes as words
    (stage, sector, loan status and product, banks by name), numbers rounded for reading
    and kept as numbers so that the table sorts them as numbers."""
    frame = model.enterprises.to_frame(active_only=True)
    names = [bank.name for bank in model.banks]

    def bank(index: int) -> str:
        return names[index] if 0 <= index < len(names) else NO_BANK

    leaders = frame.index[frame["chain_leader"].to_numpy()]
    suppliers = frame["leader_id"].value_counts()
    rows = []
    for firm, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        if row.chain_leader:
            chain = f"leads {int(suppliers.get(firm, 0))}"
        elif row.leader_id >= 0:
            chain = f"supplies #{row.leader_id}" + ("" if row.leader_id in leaders else " (gone)")
        else:
            chain = ""
        rows.append(
            {
                "id": int(firm),
                "stage": str(row.stage),
                "sector": str(row.sector),
                "size": round(float(row.size), 1),
                "valuation": round(float(row.valuation), 1),
                "debt": round(float(row.debt), 1),
                "loan_status": str(row.loan_status).replace("_", "-"),
                "loan_product": "" if row.debt <= 0 else str(row.loan_product).replace("_", " "),
                "main_bank": bank(int(row.main_bank)),
                "lender": bank(int(row.lender)),
                "chain": chain,
                "pd": round(float(row.pd), 4),
                "entered_quarter": int(row.entered_quarter),
            }
        )
    return rows


def filter_firms(rows: list[dict[str, Any]], **chosen: str) -> list[dict[str, Any]]:
    """The rows whose columns have the chosen values (an empty choice keeps all)."""
    wanted = {key: value for key, value in chosen.items() if value}
    return [row for row in rows if all(row[key] == value for key, value in wanted.items())]


def search_firms(rows: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The rows in which some cell contains `text` (any case); all rows for ""."""
    wanted = text.strip().lower()
    if not wanted:
        return rows
    return [row for row in rows if any(wanted in str(cell).lower() for cell in row.values())]


def sort_firms(
    rows: list[dict[str, Any]], key: str, descending: bool = False
) -> list[dict[str, Any]]:
    """The rows sorted by column `key` (numbers as numbers, words as words), ties by id."""
    ordered = sorted(rows, key=lambda row: row["id"])
    return sorted(ordered, key=lambda row: row[key], reverse=descending)


def firm_rows_html(rows: list[dict[str, Any]]) -> str:
    """The table body of `rows`: one <tr> each, cells escaped, numbers right-aligned and
    grouped (the PD as a percent)."""
    out = []
    for row in rows:
        cells = []
        for key, _ in FIRM_COLUMNS:
            value = row[key]
            if key == "pd":
                text, number = f"{value:.2%}", True
            elif isinstance(value, float):
                text, number = f"{value:,.0f}", True
            elif isinstance(value, int) and key != "id":
                text, number = str(value), True
            else:
                text, number = str(value), key == "id"
            align = ' class="number"' if number else ""
            cells.append(f"<td{align}>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out)


def chains(model: ParkModel) -> dict[int, list[int]]:
    """Active chain leaders and the active firms that supply them: leader id → ids."""
    frame = model.enterprises.to_frame(active_only=True)
    out: dict[int, list[int]] = {int(i): [] for i in frame.index[frame["chain_leader"]]}
    for firm, leader in zip(frame.index, frame["leader_id"], strict=True):
        if leader in out:
            out[int(leader)].append(int(firm))
    return out


#: The network's size in inches and the radius of a chain's ring of suppliers.
NETWORK_SIZE_IN = (10.0, 6.0)
RING = 0.36


def draw_network(model: ParkModel) -> Figure:
    """Chain leaders (链主) on a grid, each with its suppliers on a ring around it:
    colour by stage, area by revenue, a red edge for a non-performing loan."""
    frame = model.enterprises.to_frame(active_only=True)
    found = chains(model)
    leaders = sorted(found, key=lambda leader: (-len(found[leader]), leader))
    columns = max(1, int(np.ceil(np.sqrt(len(leaders) * 1.6))))
    stage_colour = dict(zip(STAGES, STAGE_COLOURS, strict=True))
    with mpl.rc_context({**STYLE, "axes.grid": False, "font.family": fonts.families()}):
        fig = Figure(figsize=NETWORK_SIZE_IN, dpi=CHART_DPI)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.set_aspect("equal")
        n_suppliers = len({firm for ids in found.values() for firm in ids})
        ax.set_title(
            f"supply chains: {len(leaders)} chain leaders (链主), {n_suppliers} suppliers "
            f"(quarter {model.quarter}; colour: stage, area: revenue, red edge: "
            "non-performing loan)",
            loc="left",
        )
        # Leaders on the grid first: a leader may itself supply another leader, and then
        # it keeps its place and the two are joined.
        points: dict[int, tuple[float, float]] = {
            leader: (k % columns, -(k // columns)) for k, leader in enumerate(leaders)
        }
        for leader in leaders:
            centre = points[leader]
            ring = [firm for firm in found[leader] if firm not in found]
            for j, firm in enumerate(ring):
                angle = 2 * np.pi * j / len(ring)
                points[firm] = (
                    centre[0] + RING * np.cos(angle),
                    centre[1] + RING * np.sin(angle),
                )
            for firm in found[leader]:
                ax.plot(
                    [centre[0], points[firm][0]],
                    [centre[1], points[firm][1]],
                    color="0.75",
                    lw=0.6,
                    zorder=1,
                )
        if points:
            ids = list(points)
            rows = frame.loc[ids]
            xy = np.array([points[i] for i in ids])
            area = 12 + 60 * np.sqrt(rows["size"].to_numpy() / max(rows["size"].max(), 1.0))
            bad = (rows["loan_status"] == "non_performing").to_numpy()
            ax.scatter(
                xy[:, 0],
                xy[:, 1],
                s=np.where(rows["chain_leader"].to_numpy(), 2.5 * area, area),
                c=[stage_colour.get(str(stage), "0.5") for stage in rows["stage"]],
                edgecolors=np.where(bad, "#cb181d", "0.3"),
                linewidths=np.where(bad, 1.8, 0.5),
                zorder=2,
            )
            for leader in leaders:
                x, y = points[leader]
                ax.annotate(f"#{leader}", (x, y - RING - 0.12), ha="center", fontsize=7)
            ax.set_xlim(-0.6, columns - 0.4)
            ax.set_ylim(min(y for _, y in points.values()) - 0.7, 0.9)  # room for the legend
        else:
            ax.text(0.5, 0.5, "no chain leaders in the park", ha="center", transform=ax.transAxes)
        handles = [
            Line2D([], [], ls="", marker="o", color=colour, label=stage.replace("_", "-"))
            for stage, colour in stage_colour.items()
        ]
        ax.legend(handles=handles, loc="upper right", fontsize=7, frameon=False, ncol=5)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes, freed after."""
    buffer = io.BytesIO()
    with mpl.rc_context({"font.family": fonts.families()}):
        fig.savefig(buffer, format="png")
    fig.clear()  # a Figure without pyplot has no manager; this frees it now
    return buffer.getvalue()


# ---------------------------------------------------------------- the page's font

CJK_FAMILY = "parksim CJK"


def page_text(config: str | Path) -> str:
    """Every text the page may show that comes from the code or the scenario: what the
    embedded CJK font is cut down to."""
    params = model_params(config)
    scenario = load_scenario(config)
    controls = "".join(f"{c.address}{c.unit}{c.help}" for c in ranged_controls(config))
    return "".join(
        [
            repr(params),
            controls,
            scenario.park.name,
            *scenario.names,
            *(title for _, title in FIRM_COLUMNS),
            *(panel.title for panel in PANELS),
            *GROUPS.values(),
            "链主万元",
        ]
    )


def font_css(text: str) -> str:
    """CSS with the shipped CJK font's Regular and Bold faces (WOFF data URIs, cut down
    to the characters of `text`) as the page's font for Chinese; "" when `text` has no
    Chinese. One @font-face per weight: its src is one face's URI."""
    faces = cjk_font_data(text)
    if not faces:
        return ""
    rules = [
        f'@font-face {{ font-family: "{CJK_FAMILY}"; font-weight: {weight}; '
        f'unicode-range: U+2E80-FFFF; src: url("{uri}") format("woff"); }}'
        for weight, uri in sorted(faces.items())
    ]
    return "\n".join(
        [
            *rules,
            f".v-application, .v-application *:not(.mdi):not(.v-icon) {{ font-family: "
            f'"{CJK_FAMILY}", Roboto, sans-serif !important; }}',
        ]
    )


def scenario_from_environment() -> Path:
    """The scenario `parksim app` was given (PARKSIM_APP_SCENARIO)."""
    return Path(os.environ.get(SCENARIO_VARIABLE, str(DEFAULT_SCENARIO)))
