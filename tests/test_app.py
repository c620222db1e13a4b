"""`parksim app` in a real browser: Debian's headless Chromium, driven by Playwright.

The test starts `parksim app` on 127.0.0.1 on a free port, waits until it answers, loads
the page, changes a control (the focal bank's tier, 1.0 to 2.0), resets and steps the
model three quarters, and checks that the headline's quarter moved and every chart's
image changed. The page must work offline: a request to any host but the app's is
refused and fails the test, as do console errors and failed requests. A screenshot is
kept in results/test-artifacts/app.png (git-ignored; in CI under .ci-clone/). The
server is stopped in the fixture's teardown. Without solara, playwright or chromium the
test is skipped, except in CI (CI=true), where .ci/run installs them all.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_watch import watch

from parksim.analysis.sensitivity.assumptions import load_assumptions
from parksim.scenario.loader import load_scenario
from parksim.viz import app

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "zgc_no1.toml"
ARTIFACT = ROOT / "results" / "test-artifacts" / "app.png"
FIRMS_SHOT = ROOT / "results" / "test-artifacts" / "app-firms.png"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
START_TIMEOUT_S = 60
#: A Reset builds a model and a step redraws six charts: seconds on a busy 2-core machine.
ACTION_TIMEOUT_MS = 30_000
STEPS = 3
#: SHA-256 of each chart's image as the browser holds it, by chart class, in page order.
CHART_HASHES = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('img.parksim-chart')) {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    const hex = [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0'));
    const key = [...img.classList].find(c => c.startsWith('parksim-chart-'));
    out.push([key, hex.join(''), img.naturalWidth]);
  }
  return out;
}"""


def _missing() -> str | None:
    for module in ("solara", "playwright"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (apt-get install -y chromium)"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI") == "true":
    pytest.fail(f"CI must run the browser test: {MISSING}", pytrace=False)


def test_the_controls_build_the_model_they_show() -> None:
    """Without a browser: the page's controls, their defaults and what Reset builds."""
    params = app.model_params(SCENARIO)
    start = app.AppModel(**app.initial_values(params))
    assert start.strategy == load_scenario(SCENARIO).strategies[0]  # untouched: as is
    assert start.app_overrides == {}
    changed = app.initial_values(params) | {
        "strategy": "tier2_light",
        "bank_tier": "3.0",
        "guarantee_share": 0.4,
    }
    model = app.AppModel(**changed)
    assert (model.strategy.name, model.strategy.bank_tier) == ("tier2_light", 3.0)
    assert model.strategy.operator_model == "light"  # the strategy's own
    assert model.policy.guarantee_share == 0.4
    # Untouched levers keep the chosen strategy's policy (here the scenario's subsidy).
    assert (
        model.policy.interest_subsidy
        == load_scenario(SCENARIO).strategy("tier2_light").policy.interest_subsidy
    )
    assert "tier 3.0" in app.describe_controls(changed)
    short = app.AppModel(**app.initial_values(params), horizon=2)  # any override passes
    short.step()
    assert short.running
    short.step()
    assert not short.running  # Step and Play go grey at the horizon


def test_the_seed_is_any_non_negative_integer() -> None:
    params = app.model_params(SCENARIO)
    assert params["seed"]["type"] == "InputInt" and params["seed"]["min"] == 0
    values = app.initial_values(params)
    big = app.AppModel(**values | {"seed": 2**40}).run(2)
    zero = app.AppModel(**values | {"seed": 0}).run(2)
    assert not big.timeseries().equals(zero.timeseries())
    with pytest.raises(ValueError, match="seed: expected a non-negative integer, got -1"):
        app.AppModel(**values | {"seed": -1})


def test_the_headline_names_the_tier_in_force_first() -> None:
    values = app.initial_values(app.model_params(SCENARIO))
    own = app.headline(app.AppModel(**values))
    assert own.startswith("tier 1.0 · operator heavy · strategy tier1_heavy ·")
    moved = app.headline(app.AppModel(**values | {"bank_tier": "2.0", "operator_model": "light"}))
    assert moved.startswith("tier 2.0 · operator light · strategy tier1_heavy ")
    assert "(its own: tier 1.0, operator heavy)" in moved


def test_every_ranged_parameter_is_a_control_with_its_unit_and_range() -> None:
    params = app.model_params(SCENARIO)
    controls = app.ranged_controls(SCENARIO)
    ranged = load_assumptions().ranged()
    assert [c.address for c in controls] == [p.key for p in ranged]
    grouped = app.grouped_controls(SCENARIO)
    assert sum(map(len, grouped.values())) == len(controls) and set(grouped) <= set(app.GROUPS)
    for control, parameter in zip(controls, ranged, strict=True):
        spec = params[control.keyword]
        assert spec["min"] <= spec["value"] <= spec["max"], control.address
        assert (spec["min"], spec["max"]) == (parameter.low, parameter.high), control.address
        assert spec["type"] == ("SliderInt" if parameter.integer else "SliderFloat")
    by_address = {c.address: c for c in controls}
    # Units come from the schema's field metadata: a share, 万元, a multiplier for scale.
    assert by_address["operator.max_leverage"].unit == "share"
    assert by_address["tiers.2.0.upgrade_investment"].unit == "万元"
    assert by_address["lifecycle.graduation"].unit == app.SCALE_UNIT
    assert by_address["credit.workout_quarters"].unit == "quarters"
    assert by_address["operator.max_leverage"].show(0.7) == "70%"
    assert by_address["tiers.2.0.upgrade_investment"].show(2000.0) == "2,000 万元"


def test_a_ranged_parameter_set_on_the_page_reaches_the_model() -> None:
    values = app.initial_values(app.model_params(SCENARIO))
    scenario = load_scenario(SCENARIO)
    model = app.AppModel(
        **values
        | {
            "operator__initial_occupancy": 0.85,
            "lifecycle__graduation": 1.25,  # scale = true: a multiplier
            "tiers__2_0__fixed_cost": 700.0,
            "credit__workout_quarters": 6,
        }
    )
    assert model.config.operator.initial_occupancy == 0.85
    assert model.config.lifecycle.graduation == pytest.approx(
        tuple(1.25 * g for g in scenario.lifecycle.graduation)
    )
    assert model.config.credit.workout_quarters == 6
    assert model.app_overrides["tiers.2.0.fixed_cost"] == 700.0
    assert model.latest["occupancy"] == pytest.approx(0.85)
    # A control left at the scenario's value overrides nothing.
    assert app.AppModel(**values | {"lifecycle__graduation": 1.0}).app_overrides == {}
    text = app.describe_controls(values | {"operator__initial_occupancy": 0.85}, SCENARIO)
    assert text.endswith("parameters: operator.initial_occupancy 0.85")


@pytest.fixture(scope="module")
def stepped() -> app.AppModel:
    """The page's first model, as a session opens it, four quarters on."""
    return app.AppModel(**app.initial_values(app.model_params(SCENARIO))).run(4)


def test_the_firm_table_is_the_active_firms_in_words(stepped: app.AppModel) -> None:
    rows = app.firm_table(stepped)
    frame = stepped.enterprises.to_frame(active_only=True)
    assert [row["id"] for row in rows] == list(frame.index)
    assert [key for key, _ in app.FIRM_COLUMNS] == list(rows[0])
    names = {bank.name for bank in stepped.banks} | {app.NO_BANK}
    assert {row["main_bank"] for row in rows} <= names and {row["lender"] for row in rows} <= names
    assert {row["loan_status"] for row in rows} <= {"none", "performing", "non-performing"}
    assert all((row["lender"] == app.NO_BANK) == (row["debt"] == 0) for row in rows)
    leaders = app.chains(stepped)
    for row in rows:
        if row["id"] in leaders:
            assert row["chain"] == f"leads {len(leaders[row['id']])}"
    for leader, suppliers in leaders.items():
        assert all(frame.loc[s, "leader_id"] == leader for s in suppliers)


def test_the_firm_table_sorts_as_numbers_filters_and_searches(stepped: app.AppModel) -> None:
    rows = app.firm_table(stepped)
    by_size = app.sort_firms(rows, "size", descending=True)
    assert by_size[0]["size"] == max(row["size"] for row in rows)
    assert [row["size"] for row in by_size] == sorted((row["size"] for row in rows), reverse=True)
    by_id = [row["id"] for row in app.sort_firms(rows[::-1], "id")]
    assert by_id == sorted(by_id) and max(by_id) >= 10  # 10 after 9, not after 1
    growth = app.filter_firms(rows, stage="growth", lender="")
    assert growth and all(row["stage"] == "growth" for row in growth)
    assert len(growth) == sum(row["stage"] == "growth" for row in rows)
    found = app.search_firms(rows, "SUPPLIES #")
    assert found and all(row["chain"].startswith("supplies #") for row in found)
    html = app.firm_rows_html(rows[:2])
    assert html.count("<tr>") == 2 and html.count("<td") == 2 * len(app.FIRM_COLUMNS)


def test_the_network_draws_every_chain(stepped: app.AppModel) -> None:
    found = app.chains(stepped)
    assert found and any(found.values())
    firms = set(found) | {firm for ids in found.values() for firm in ids}
    fig = app.draw_network(stepped)
    offsets = fig.axes[0].collections[0].get_offsets()
    assert len(offsets) == len(firms)  # each firm once, a leader that supplies too
    assert len({tuple(xy) for xy in offsets}) == len(firms)  # in a place of its own
    edges = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 2]
    assert len(edges) == sum(map(len, found.values()))
    assert app.figure_png(app.draw_network(stepped)).startswith(b"\x89PNG")


def test_the_font_css_serves_each_face_as_a_woff_file() -> None:
    """What Chromium refused ("OTS parsing error: invalid sfntVersion"): the url() of a
    @font-face must hold one face's bytes, and those must be a WOFF file."""
    css = app.font_css("万元 链主")
    faces = re.findall(r"font-weight: (\d+);[^}]*url\(\"data:font/woff;base64,([^\"]+)\"\)", css)
    assert [weight for weight, _ in faces] == ["400", "700"]
    for _, data in faces:
        assert base64.b64decode(data)[:4] == b"wOFF"
    assert css.count("@font-face") == 2
    assert app.font_css("no Chinese here") == ""
    text = app.page_text(SCENARIO)
    assert "万元" in text and "链主" in text


def test_a_port_in_use_is_one_line_and_exit_2(capsys) -> None:
    if MISSING:
        pytest.skip(MISSING)
    from parksim.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", str(SCENARIO), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"parksim app: cannot serve on 127.0.0.1:{port}")
    assert "--port" in err and len(err.splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"parksim app exited with status {server.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"parksim app did not answer at {url} in {START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    """One server for the module's browser tests; each test opens its own session (its
    own model)."""
    if MISSING:
        pytest.skip(MISSING)
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "parksim.cli", "app", str(SCENARIO), "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: all it starts stops with it
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_served(url, server, log_path)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def browser(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, app_url: str):
    """A new session of the page, loaded; the test fails on any problem `watch` sees."""
    from playwright.sync_api import expect

    tab = browser.new_page(viewport={"width": 1500, "height": 1100})
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    problems = watch(tab, urlparse(app_url).netloc)
    try:
        tab.goto(app_url, timeout=START_TIMEOUT_S * 1000)
        expect(tab.locator(".parksim-headline")).to_contain_text(
            "quarter 0 of", timeout=START_TIMEOUT_S * 1000
        )
        yield tab
        tab.wait_for_timeout(500)  # late console messages
    finally:
        tab.close()
    assert not problems, problems


#: The page's CJK font: each face's status once asked to load, and how wide Chinese is in
#: it and in a font that does not exist (the browser's fallback).
FONT_STATE = """async () => {
  await document.fonts.ready;
  const faces = [];
  for (const face of document.fonts) {
    if (face.family.replace(/"/g, '') !== 'parksim CJK') continue;
    try { await face.load(); } catch (error) { }
    faces.push([face.weight, face.status]);
  }
  const context = document.createElement('canvas').getContext('2d');
  context.font = '40px "parksim CJK"';
  const cjk = context.measureText('万元链主').width;
  context.font = '40px "no such font"';
  const fallback = context.measureText('万元链主').width;
  const headline = getComputedStyle(document.querySelector('.parksim-headline')).fontFamily;
  const check = document.fonts.check('40px "parksim CJK"', '万元');
  return {faces, cjk, fallback, headline, check};
}"""


def test_the_chinese_font_loads_and_draws_chinese(page) -> None:
    # The page's style arrives with its widgets, just after the headline.
    page.wait_for_function(
        "() => [...document.fonts].some(f => f.family.replace(/\"/g, '') === 'parksim CJK')"
    )
    state = page.evaluate(FONT_STATE)
    assert sorted(state["faces"]) == [["400", "loaded"], ["700", "loaded"]], state
    assert state["check"], state
    # Noto Sans SC draws a Chinese character one em wide: four are 160 px at 40 px.
    assert state["cjk"] == pytest.approx(160, abs=1), state
    assert state["cjk"] != pytest.approx(state["fallback"], abs=0.5), state
    assert state["headline"].startswith('"parksim CJK"'), state


def _slider(page, name: str):
    return page.locator(f".parksim-slider-{name} [role=slider]")


def test_sliders_show_their_values_and_the_seed_is_a_number(page) -> None:
    from playwright.sync_api import expect

    value = page.locator(".parksim-value-risk_pool_share")
    expect(value).to_have_text("pool: loss share: 0%")
    _slider(page, "risk_pool_share").press("ArrowRight")
    expect(value).to_have_text("pool: loss share: 5%")
    expect(page.locator(".parksim-value-risk_pool_size")).to_have_text("pool: capital: 0 万元")
    expect(page.locator(".parksim-value-play_interval")).to_have_text("play interval: 300 ms")
    seed = page.locator(".parksim-seed input")
    expect(seed).to_have_attribute("type", re.compile("text|number"))
    seed.fill("123456789")
    seed.press("Enter")
    controls = page.locator(".parksim-controls")
    expect(controls).to_contain_text("seed 123456789")
    expect(controls).to_contain_text("pool pays 5% of loss from 0 万元")
    reset = page.get_by_role("button", name="Reset", exact=True)
    reset.click()  # a pool without capital: the scenario's rule, in words
    expect(page.locator(".parksim-error")).to_contain_text("needs risk_pool_size > 0")
    _slider(page, "risk_pool_size").press("ArrowRight")
    expect(page.locator(".parksim-value-risk_pool_size")).to_have_text("pool: capital: 5,000 万元")
    reset.click()
    expect(page.locator(".parksim-error")).to_have_count(0)
    expect(page.locator(".parksim-headline")).to_contain_text("pool 5%")


def test_play_has_an_accessible_name_and_plays(page) -> None:
    from playwright.sync_api import expect

    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_enabled()
    play.click()
    expect(page.locator(".parksim-headline")).to_contain_text(
        re.compile(r"quarter [1-9]\d* of"), timeout=ACTION_TIMEOUT_MS
    )
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()


def _cells(page, column: int, until=lambda cells: True) -> list[str]:
    """The texts of a column of the table's page, once `until` holds for them or after
    10 s (the table's body reaches the browser just after its header and count)."""
    deadline = time.monotonic() + 10
    while True:
        cells = page.locator(
            f".parksim-firms tbody tr td:nth-child({column + 1})"
        ).all_inner_texts()
        if until(cells) or time.monotonic() > deadline:
            return cells
        time.sleep(0.2)


def test_the_firm_table_sorts_and_filters(page) -> None:
    from playwright.sync_api import expect

    model = app.AppModel(**app.initial_values(app.model_params(SCENARIO))).run(STEPS)
    rows = app.firm_table(model)  # the page's model: the same seed, as many steps
    step = page.get_by_role("button", name="Step", exact=True)
    for quarter in range(1, STEPS + 1):
        step.click()
        expect(page.locator(".parksim-headline")).to_contain_text(f"quarter {quarter} of")
    page.get_by_role("button", name="firms", exact=True).click()
    count = page.locator(".parksim-firm-count")
    expect(count).to_contain_text(f"{len(rows)} of {len(rows)} firms in the park (quarter {STEPS})")
    expect(page.locator(".parksim-firms tbody tr")).to_have_count(15)
    size = [key for key, _ in app.FIRM_COLUMNS].index("size")
    header = page.locator(".parksim-sort-size")
    header.click()  # ascending
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("revenue")
    header.click()  # descending
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("revenue")
    biggest = app.sort_firms(rows, "size", descending=True)[0]
    assert _cells(page, 0, lambda ids: ids[:1] == [str(biggest["id"])])[0] == str(biggest["id"])
    shown = [float(text.replace(",", "")) for text in _cells(page, size)]
    assert shown == sorted(shown, reverse=True)
    FIRMS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(FIRMS_SHOT), full_page=True)
    # Filter: the growth-stage firms only.
    page.locator(".parksim-filter-stage").click()
    page.get_by_role("listbox").get_by_text("growth", exact=True).click()
    growth = sum(row["stage"] == "growth" for row in rows)
    expect(count).to_contain_text(f"{growth} of {len(rows)} firms")
    assert set(_cells(page, 1, lambda stages: set(stages) == {"growth"})) == {"growth"}


def test_the_chain_network_renders(page) -> None:
    from playwright.sync_api import expect

    model = app.AppModel(**app.initial_values(app.model_params(SCENARIO)))
    found = app.chains(model)
    page.get_by_role("button", name="supply chains", exact=True).click()
    expect(page.locator(".parksim-network-caption")).to_have_text(
        f"{len(found)} chain leaders and {sum(map(len, found.values()))} suppliers in quarter 0"
    )
    image = page.locator("img.parksim-network")
    expect(image).to_be_visible()
    assert page.evaluate("i => i.naturalWidth", image.element_handle()) >= 900


def test_a_ranged_parameter_changes_the_model(page) -> None:
    from playwright.sync_api import expect

    headline = page.locator(".parksim-headline")
    expect(headline).to_contain_text("occupancy 70%")
    page.locator(".parksim-group").click()
    page.get_by_role("listbox").get_by_text(app.GROUPS["operator"], exact=True).click()
    value = page.locator(".parksim-value-operator__initial_occupancy")
    expect(value).to_have_text("initial_occupancy: 0.7")
    _slider(page, "operator__initial_occupancy").press("End")  # the range's high end
    high = app.model_params(SCENARIO)["operator__initial_occupancy"]["max"]
    expect(value).to_have_text(f"initial_occupancy: {high:.3g}")
    expect(page.locator(".parksim-controls")).to_contain_text(
        f"parameters: operator.initial_occupancy {high:.3g}"
    )
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(headline).to_contain_text(f"occupancy {high:.0%}")


def _unchanged_after_redraw(page, before: list, keys: list[str]) -> list[str]:
    """The charts among `keys` whose image is still the one in `before`, once they all
    changed or after 20 s (images reach the browser just after the headline)."""
    deadline = time.monotonic() + 20
    while True:
        now = {key: digest for key, digest, _ in page.evaluate(CHART_HASHES)}
        unchanged = [
            key
            for key, digest, _ in before
            if key.removeprefix("parksim-chart-") in keys and now.get(key) == digest
        ]
        if not unchanged or time.monotonic() > deadline:
            return unchanged
        time.sleep(0.5)


def test_the_app_steps_a_park_and_redraws_its_charts_offline(page) -> None:
    from playwright.sync_api import expect

    headline = page.locator(".parksim-headline")
    expect(headline).to_contain_text("tier 1.0", timeout=ACTION_TIMEOUT_MS)
    expect(page.locator("img.parksim-chart")).to_have_count(
        len(app.PANELS), timeout=ACTION_TIMEOUT_MS
    )
    before = page.evaluate(CHART_HASHES)
    assert [key for key, _, _ in before] == [f"parksim-chart-{p.key}" for p in app.PANELS]
    assert all(width >= 400 for _, _, width in before)  # decoded, not broken images

    # A control: the focal bank's tier; Reset builds a new model from it.
    page.locator(".v-select", has_text="focal bank's tier").click()
    page.get_by_role("listbox").get_by_text("2.0", exact=True).click()
    expect(page.locator(".parksim-controls")).to_contain_text("tier 2.0", timeout=ACTION_TIMEOUT_MS)
    page.get_by_role("button", name="Reset", exact=True).click()
    # The tier in force comes first; the strategy's own is named after it.
    expect(headline).to_contain_text(re.compile(r"^tier 2\.0 · "), timeout=ACTION_TIMEOUT_MS)
    expect(headline).to_contain_text("(its own: tier 1.0)")
    # Still quarter 0, but a tier-2.0 bank opens with another book.
    assert not _unchanged_after_redraw(page, before, ["exposure"])
    step = page.get_by_role("button", name="Step", exact=True)
    for quarter in range(1, STEPS + 1):
        step.click()
        expect(headline).to_contain_text(f"quarter {quarter} of", timeout=ACTION_TIMEOUT_MS)
    unchanged = _unchanged_after_redraw(page, before, [p.key for p in app.PANELS])
    assert not unchanged, f"charts not redrawn after {STEPS} steps: {unchanged}"
    assert re.search(rf"quarter {STEPS} of \d+", headline.inner_text())
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACT), full_page=True)
