"""`parksim app [SCENARIO]`: one park as it runs, in the browser (Mesa + Solara).

The page (parksim.viz.app_page) shows the park's enterprises by stage, the focal bank's
exposure, NPL ratio, net profit and credit loss, and the operator's occupancy, quarter
by quarter, with Mesa's step / play / reset controls and the model's own: strategy, the
focal bank's tier, the operator's model and the main policy levers. A change of control
takes effect at Reset (Mesa builds a new model from the controls). Needs the `app`
extra: `pip install "parksim[app]"`.

This module holds what needs no solara (the model the controls build, the controls, the
charts), so that `parksim app --help` and the tests work without the extra. The charts
are matplotlib images drawn on the server: the page loads no JavaScript from the
internet (Mesa's own SolaraViz lays out with a grid that fetches vue-grid-layout from a
CDN, so it stays blank offline).

`parksim app` runs `solara run parksim.viz.app_page:Page`; the scenario comes in the
environment variable PARKSIM_APP_SCENARIO (default scenarios/baseline.toml).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from parksim.banks.tiers import TIERS
from parksim.core.codes import STAGES
from parksim.model import ParkModel
from parksim.operators.operator import AssetModel
from parksim.scenario.loader import load_scenario
from parksim.viz import fonts

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
    """The park model with the page's controls as its arguments, so that Mesa can build
    a new one from them at Reset.

    A policy lever overrides the strategy's policy only when it differs from the value
    it started at (the first strategy's), so that choosing another strategy and leaving
    the levers alone runs that strategy's own policy.
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
        **policy: float,
    ) -> None:
        start = _policy_start(config)
        overrides: dict[str, Any] = {
            name: value for name, value in policy.items() if value != start.get(name)
        }
        if bank_tier != AS_STRATEGY:
            overrides["bank_tier"] = float(bank_tier)
        if operator_model != AS_STRATEGY:
            overrides["operator_model"] = operator_model
        self.app_overrides = overrides
        super().__init__(config, strategy, rng=seed if rng is None else rng, **overrides)

    def step(self) -> None:
        """One quarter; at the scenario's horizon Mesa's Step and Play buttons go grey."""
        super().step()
        self.running = self.quarter < self.config.horizon


def _policy_start(config: str | Path) -> dict[str, float]:
    """The levers' start values: the first strategy's policy."""
    policy = load_scenario(config).strategies[0].policy
    return {name: float(getattr(policy, name)) for name, *_ in POLICY_LEVERS}


def model_params(config: str | Path) -> dict[str, Any]:
    """Mesa's model_params for a scenario file: strategy, tier, operator model, policy
    levers and seed as controls; the file itself fixed."""
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
        }
    params["seed"] = {"type": "SliderInt", "label": "seed", "value": 1, "min": 1, "max": 100}
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
    fig = draw_panel(model, panel)
    buffer = io.BytesIO()
    with mpl.rc_context({"font.family": fonts.families()}):
        fig.savefig(buffer, format="png")
    fig.clear()  # a Figure without pyplot has no manager; this frees it now
    return buffer.getvalue()


def headline(model: ParkModel) -> str:
    """The run in one line: what it runs, its quarter, and where the panels stand."""
    last, policy = model.latest, model.policy
    return (
        f"strategy {model.strategy.name} · tier {last['focal_tier']:.1f} · "
        f"operator {model.strategy.operator_model} · pool {policy.risk_pool_share:.0%} · "
        f"guarantee {policy.guarantee_share:.0%} · subsidy {policy.interest_subsidy:.2%} · "
        f"quarter {model.quarter} of {model.config.horizon} · exposure "
        f"{last['exposure']:,.0f} 万元 · NPL {last['npl_ratio']:.1%} · "
        f"occupancy {last['occupancy']:.0%}"
    )


def describe_controls(values: dict[str, Any]) -> str:
    """What the controls are set to (the sliders show no number), for the next Reset."""
    if not values:
        return ""

    def choice(name: str) -> str:
        value = values.get(name, AS_STRATEGY)
        return "the strategy's" if value == AS_STRATEGY else str(value)

    return (
        f"next Reset: strategy {values.get('strategy')}, tier {choice('bank_tier')}, "
        f"operator {choice('operator_model')}; pool pays "
        f"{values.get('risk_pool_share', 0):.0%} of loss from "
        f"{values.get('risk_pool_size', 0):,.0f} 万元; guarantee "
        f"{values.get('guarantee_share', 0):.0%}; interest subsidy "
        f"{values.get('interest_subsidy', 0):.2%} a year; seed {values.get('seed')}"
    )


def scenario_from_environment() -> Path:
    """The scenario `parksim app` was given (PARKSIM_APP_SCENARIO)."""
    return Path(os.environ.get(SCENARIO_VARIABLE, str(DEFAULT_SCENARIO)))
