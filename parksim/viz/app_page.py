"""What `solara run parksim.viz.app_page:Page` serves: the page of one park as it runs.

It reuses Mesa's SolaraViz machinery (ModelController's step / play / reset, ModelCreator's
controls, the update counter that redraws after a step) but lays the charts out with plain
solara rows and columns: SolaraViz's own layout is solara's GridDraggable, which fetches
vue-grid-layout from a CDN and so shows no charts without internet. Importing this module
reads the scenario named in PARKSIM_APP_SCENARIO; only `parksim app` should.
"""

from __future__ import annotations

import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import update_counter

from parksim.scenario.loader import load_scenario
from parksim.viz import app
from parksim.viz.report import cjk_font_data

SCENARIO = app.scenario_from_environment()
PARAMS = app.model_params(SCENARIO)
TITLE = f"parksim: {load_scenario(SCENARIO).park.name} ({SCENARIO.name})"
PLAY_INTERVAL_MS = 300
CHARTS_PER_ROW = 2
NOTE = (
    "Pool: the risk-compensation pool (风险补偿资金池); guarantee: a government guarantor "
    "(政府性融资担保); subsidy: 贴息. A lever left at its start value keeps the chosen "
    "strategy's own policy. Money in 万元, time in quarters."
)
#: The Chinese on the page (title, notes, strategy names) in the shipped CJK font, cut
#: down to those characters, as the HTML report does: the page shows it on a machine
#: without a CJK font, and loads no font from the internet.
_CJK = cjk_font_data(TITLE + NOTE + "万元" + repr(PARAMS))
CSS = (
    ""
    if _CJK is None
    else f"""
@font-face {{ font-family: "parksim CJK"; unicode-range: U+2E80-FFFF;
  src: url("{_CJK}") format("woff"); }}
.v-application, .v-application *:not(.mdi):not(.v-icon) {{
  font-family: "parksim CJK", Roboto, sans-serif !important; }}
"""
)


@solara.component
def Chart(model: app.AppModel, panel: app.Panel) -> None:
    """One panel, redrawn when the model steps or is rebuilt."""
    update_counter.get()  # subscribe: Mesa's controller bumps it after each step
    png = solara.use_memo(lambda: app.panel_png(model, panel), [model, model.quarter])
    solara.Image(png, width="100%", classes=["parksim-chart", f"parksim-chart-{panel.key}"])


@solara.component
def Headline(model: app.AppModel) -> None:
    """Where the run stands, in words (and what the test reads the quarter from)."""
    update_counter.get()
    solara.Div(children=[app.headline(model)], classes=["parksim-headline"])


@solara.component
def Page() -> None:
    """Controls on the left; on the right a headline and the charts of one park."""
    # One model per browser session (built here, not at import, so that two tabs do
    # not step the same park).
    first = solara.use_memo(lambda: app.AppModel(**app.initial_values(PARAMS)), [])
    model = solara.use_reactive(first)
    parameters = solara.use_reactive({})
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    solara.Title(TITLE)
    solara.Style(CSS)
    # Plain columns, not solara's Sidebar: with ipyvuetify 3 its drawer's width
    # ("min-content") leaves the page's left padding NaN, so the drawer covers the charts.
    with solara.Column(style={"padding": "12px"}):
        solara.Text(TITLE, style={"font-size": "1.5em", "font-weight": "500"})
        with solara.Columns([1, 3]):
            with solara.Column():
                with solara.Card("Run"):
                    ModelController(
                        model,
                        model_parameters=parameters,
                        play_interval=play_interval,
                        render_interval=render_interval,
                        use_threads=use_threads,
                    )
                    solara.SliderInt(
                        "play interval (ms)",
                        value=play_interval,
                        min=50,
                        max=2000,
                        step=50,
                    )
                with solara.Card("Model", subtitle="changes take effect at Reset"):
                    ModelCreator(model, PARAMS, model_parameters=parameters)
                    solara.Div(
                        children=[app.describe_controls(parameters.value)],
                        classes=["parksim-controls"],
                        style={"margin": "8px 0"},
                    )
                    solara.Div(children=[NOTE], style={"font-size": "0.85em", "color": "#555"})
            with solara.Column():
                Headline(model.value)
                panels = list(app.PANELS)
                for start in range(0, len(panels), CHARTS_PER_ROW):
                    with solara.Columns([1] * CHARTS_PER_ROW):
                        for panel in panels[start : start + CHARTS_PER_ROW]:
                            Chart(model.value, panel)
