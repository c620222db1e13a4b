"""What `solara run parksim.viz.app_page:Page` serves: the page of one park as it runs.

It works as Mesa's SolaraViz does (a reactive model, rebuilt from the controls at Reset;
Step, Play and Reset; Mesa's update counter redraws after a step) with its own controls
and layout, because Mesa's fall short here: its Play button is named "▶" (a screen reader
says nothing useful), its sliders show no value, it has no number input (the seed is any
non-negative integer) and no table of agents; and SolaraViz's layout is solara's
GridDraggable, which fetches vue-grid-layout from a CDN and so shows no charts offline.
Importing this module reads the scenario named in PARKSIM_APP_SCENARIO; only `parksim
app` should.
"""

from __future__ import annotations

import time
from typing import Any

import ipyvue
import solara
from mesa.visualization.utils import force_update, update_counter

from parksim.scenario.loader import load_scenario
from parksim.viz import app

SCENARIO = app.scenario_from_environment()
PARAMS = app.model_params(SCENARIO)
GROUPED = app.grouped_controls(SCENARIO)
TITLE = f"parksim: {load_scenario(SCENARIO).park.name} ({SCENARIO.name})"
PLAY_INTERVAL_MS = 300
CHARTS_PER_ROW = 2
FIRMS_PER_PAGE = 15
VIEWS = ("charts", "firms", "supply chains")
#: The firm table's filters: column key → label.
FILTERS = {
    "stage": "stage",
    "sector": "sector",
    "loan_status": "loan status",
    "main_bank": "main bank",
    "lender": "lender",
}
ALL = ""
TABLE_STYLE = "border-collapse: collapse; font-size: 0.85em; width: 100%;"
CELL_CSS = """
.parksim-firms td { padding: 2px 6px; white-space: nowrap; border-bottom: 1px solid #e4e4e4; }
.parksim-firms td.number { text-align: right; font-variant-numeric: tabular-nums; }
.parksim-firms th { text-align: left; border-bottom: 1px solid #999; }
"""
NOTE = (
    "Pool: the risk-compensation pool (风险补偿资金池); guarantee: a government guarantor "
    "(政府性融资担保); subsidy: 贴息. A lever left at its start value keeps the chosen "
    "strategy's own policy. Money in 万元, time in quarters."
)
#: The Chinese on the page in the shipped CJK font, cut down to those characters, as the
#: HTML report does: the page shows it on a machine without a CJK font, and loads no
#: font from the internet.
CSS = app.font_css(TITLE + NOTE + app.page_text(SCENARIO)) + CELL_CSS


@solara.component
def Chart(model: app.AppModel, panel: app.Panel) -> None:
    """One panel, redrawn when the model steps or is rebuilt."""
    update_counter.get()  # subscribe: force_update bumps it after each step
    png = solara.use_memo(lambda: app.panel_png(model, panel), [model, model.quarter])
    solara.Image(png, width="100%", classes=["parksim-chart", f"parksim-chart-{panel.key}"])


@solara.component
def Headline(model: app.AppModel) -> None:
    """Where the run stands, in words (and what the test reads the quarter from)."""
    update_counter.get()
    solara.Div(children=[app.headline(model)], classes=["parksim-headline"])


@solara.component
def Problem(text: str) -> None:
    """A control that Reset cannot use, in words (solara.Error fails on ipyvuetify 3)."""
    solara.Div(
        children=[text],
        classes=["parksim-error"],
        attributes={"role": "alert"},
        style={"color": "#b00020", "font-size": "0.9em", "margin": "6px 0"},
    )


@solara.component
def Controller(
    model: solara.Reactive[app.AppModel],
    values: solara.Reactive[dict[str, Any]],
    play_interval: solara.Reactive[int],
) -> None:
    """Reset, Play / Pause and Step, each with an accessible name."""
    update_counter.get()  # redrawn after a step: Step and Play go grey at the horizon
    playing = solara.use_reactive(False)
    error = solara.use_reactive("")
    running = model.value.running

    def play() -> None:
        while playing.value and model.value.running:
            time.sleep(play_interval.value / 1000)
            model.value.step()
            force_update()
        playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def step() -> None:
        model.value.step()
        force_update()

    def reset() -> None:
        playing.value = False
        try:
            model.value = app.AppModel(**values.value)
        except (ValueError, TypeError) as problem:
            error.value = str(problem)
            return
        error.value = ""
        force_update()

    label = "Pause" if playing.value else "Play"
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset, attributes={"aria-label": "Reset"})
        solara.Button(
            "❚❚" if playing.value else "▶",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=not running,
            attributes={"aria-label": label, "title": label},
        )
        solara.Button(
            "Step",
            color="primary",
            on_click=step,
            disabled=playing.value or not running,
            attributes={"aria-label": "Step"},
        )
    if error.value:
        Problem(error.value)


@solara.component
def Valued(label: str, shown: str, key: str) -> None:
    """A control's label with its value in words (a slider alone shows no number)."""
    solara.Div(
        children=[f"{label}: {shown}"],
        classes=["parksim-value", f"parksim-value-{key}"],
        style={"font-size": "0.9em", "margin-top": "6px"},
    )


@solara.component
def Slider(name: str, values: solara.Reactive[dict[str, Any]]) -> None:
    """One slider of PARAMS, with its value and unit written above it."""
    spec = PARAMS[name]
    integer = spec["type"] == "SliderInt"
    current = values.value.get(name, spec["value"])
    Valued(spec["label"], app.show_value(current, spec.get("unit", ""), integer), name)

    def change(value: float) -> None:
        values.value = {**values.value, name: int(value) if integer else float(value)}

    widget = solara.SliderInt if integer else solara.SliderFloat
    with solara.Div(classes=[f"parksim-slider-{name}"]):
        widget(
            "",
            value=current,
            min=spec["min"],
            max=spec["max"],
            step=spec["step"],
            on_value=change,
            thumb_label=False,
        )


@solara.component
def Controls(values: solara.Reactive[dict[str, Any]]) -> None:
    """The model's controls: strategy, tier, operator, levers, seed, ranged parameters."""
    group = solara.use_reactive(next(iter(GROUPED)))

    def setter(name: str):
        return lambda value: values.set({**values.value, name: value})

    for name in ("strategy", "bank_tier", "operator_model"):
        spec = PARAMS[name]
        solara.Select(
            spec["label"],
            values=spec["values"],
            value=values.value.get(name, spec["value"]),
            on_value=setter(name),
        )
    for name, *_ in app.POLICY_LEVERS:
        Slider(name, values)

    seed = values.value.get("seed", PARAMS["seed"]["value"])
    solara.InputInt(
        "seed (any non-negative integer)",
        value=seed,
        on_value=setter("seed"),
        classes=["parksim-seed"],
    )
    if seed < 0:
        Problem(f"seed: expected a non-negative integer, got {seed}")
    solara.Div(
        children=["Assumed parameters (ranges of assumptions.toml)"],
        style={"margin-top": "14px", "font-weight": "500"},
    )
    titles = {app.GROUPS.get(key, key): key for key in GROUPED}
    solara.Select(
        "parameter group",
        values=list(titles),
        value=app.GROUPS.get(group.value, group.value),
        on_value=lambda title: group.set(titles[title]),
        classes=["parksim-group"],
    )
    for control in GROUPED[group.value]:
        Slider(control.keyword, values)
        solara.Div(children=[control.help], style={"font-size": "0.75em", "color": "#666"})


@solara.component
def FirmTable(model: app.AppModel) -> None:
    """The park's firms: filter by stage, sector, loan status and bank; search any text;
    click a column's title to sort by it (again to reverse); a page at a time.

    A plain HTML table: the Vuetify data table of this solara / ipyvuetify 3 is not
    registered in the browser (solara's own DataFrame shows nothing either). Sorting and
    filtering run on the server, on at most a few thousand rows."""
    update_counter.get()
    rows = solara.use_memo(lambda: app.firm_table(model), [model, model.quarter])
    chosen = {key: solara.use_reactive(ALL) for key in FILTERS}
    search = solara.use_reactive("")
    order = solara.use_reactive(("id", False))
    page = solara.use_reactive(0)
    with solara.Row(style={"flex-wrap": "wrap"}):
        for key, label in FILTERS.items():
            options = sorted({row[key] for row in rows})
            solara.Select(
                label,
                values=[ALL, *options],
                value=chosen[key],
                on_value=lambda _: page.set(0),
                classes=[f"parksim-filter-{key}"],
                style={"min-width": "150px"},
            )
        solara.InputText(
            "search", value=search, continuous_update=True, on_value=lambda _: page.set(0)
        )
    shown = app.filter_firms(rows, **{key: r.value for key, r in chosen.items()})
    shown = app.search_firms(shown, search.value)
    shown = app.sort_firms(shown, *order.value)
    pages = max(1, -(-len(shown) // FIRMS_PER_PAGE))
    at = min(page.value, pages - 1)
    with solara.Row(style={"align-items": "center"}):
        solara.Div(
            children=[
                f"{len(shown)} of {len(rows)} firms in the park (quarter {model.quarter}); "
                f"page {at + 1} of {pages}"
            ],
            classes=["parksim-firm-count"],
        )
        solara.Button(
            "‹",
            text=True,
            disabled=at == 0,
            on_click=lambda: page.set(at - 1),
            attributes={"aria-label": "previous page"},
        )
        solara.Button(
            "›",
            text=True,
            disabled=at >= pages - 1,
            on_click=lambda: page.set(at + 1),
            attributes={"aria-label": "next page"},
        )

    def sorter(key: str):
        def sort() -> None:
            column, descending = order.value
            order.set((key, not descending if column == key else False))
            page.set(0)

        return sort

    column, descending = order.value
    heads = []
    for key, title in app.FIRM_COLUMNS:
        mark = (" ▼" if descending else " ▲") if key == column else ""
        sort = ("descending" if descending else "ascending") if key == column else "none"
        button = solara.Button(
            title + mark,
            text=True,
            on_click=sorter(key),
            classes=["parksim-sort", f"parksim-sort-{key}"],
            style={"text-transform": "none", "padding": "0 4px", "min-width": "0"},
        )
        heads.append(
            ipyvue.Html.element(tag="th", attributes={"aria-sort": sort}, children=[button])
        )
    body = app.firm_rows_html(shown[at * FIRMS_PER_PAGE : (at + 1) * FIRMS_PER_PAGE])
    with solara.Div(style={"overflow-x": "auto"}):
        ipyvue.Html.element(
            tag="table",
            class_="parksim-firms",
            style_=TABLE_STYLE,
            children=[
                ipyvue.Html.element(
                    tag="thead", children=[ipyvue.Html.element(tag="tr", children=heads)]
                ),
                solara.HTML(tag="tbody", unsafe_innerHTML=body),
            ],
        )


@solara.component
def Network(model: app.AppModel) -> None:
    """Chain leaders and their suppliers, redrawn when the model steps."""
    update_counter.get()
    png = solara.use_memo(lambda: app.figure_png(app.draw_network(model)), [model, model.quarter])
    found = solara.use_memo(lambda: app.chains(model), [model, model.quarter])
    solara.Div(
        children=[
            f"{len(found)} chain leaders and {sum(map(len, found.values()))} suppliers "
            f"in quarter {model.quarter}"
        ],
        classes=["parksim-network-caption"],
    )
    solara.Image(png, width="100%", classes=["parksim-network"])


@solara.component
def Page() -> None:
    """Controls on the left; on the right a headline and the charts, firms or chains."""
    # One model per browser session (built here, not at import, so that two tabs do
    # not step the same park).
    first = solara.use_memo(lambda: app.AppModel(**app.initial_values(PARAMS)), [])
    model = solara.use_reactive(first)
    values = solara.use_reactive(app.initial_values(PARAMS))
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    view = solara.use_reactive(VIEWS[0])

    solara.Title(TITLE)
    solara.Style(CSS)
    # Plain columns, not solara's Sidebar: with ipyvuetify 3 its drawer's width
    # ("min-content") leaves the page's left padding NaN, so the drawer covers the charts.
    with solara.Column(style={"padding": "12px"}):
        solara.Text(TITLE, style={"font-size": "1.5em", "font-weight": "500"})
        with solara.Columns([1, 3]):
            with solara.Column():
                with solara.Card("Run"):
                    Controller(model, values, play_interval)
                    Valued("play interval", f"{play_interval.value} ms", "play_interval")
                    solara.SliderInt(
                        "",
                        value=play_interval,
                        min=50,
                        max=2000,
                        step=50,
                        thumb_label=False,
                    )
                with solara.Card("Model", subtitle="changes take effect at Reset"):
                    Controls(values)
                    solara.Div(
                        children=[app.describe_controls(values.value, SCENARIO)],
                        classes=["parksim-controls"],
                        style={"margin": "8px 0"},
                    )
                    solara.Div(children=[NOTE], style={"font-size": "0.85em", "color": "#555"})
            with solara.Column():
                Headline(model.value)
                solara.ToggleButtonsSingle(value=view, values=list(VIEWS))
                if view.value == "charts":
                    panels = list(app.PANELS)
                    for start in range(0, len(panels), CHARTS_PER_ROW):
                        with solara.Columns([1] * CHARTS_PER_ROW):
                            for panel in panels[start : start + CHARTS_PER_ROW]:
                                Chart(model.value, panel)
                elif view.value == "firms":
                    FirmTable(model.value)
                else:
                    Network(model.value)
