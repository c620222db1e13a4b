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

from parksim.scenario.loader import load_scenario
from parksim.viz import app

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "zgc_no1.toml"
ARTIFACT = ROOT / "results" / "test-artifacts" / "app.png"
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
    assert not short.running  # Mesa greys out Step and Play at the horizon


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


@pytest.fixture
def app_url(tmp_path: Path):
    if MISSING:
        pytest.skip(MISSING)
    port = _free_port()
    log_path = tmp_path / "server.log"
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


def test_the_app_steps_a_park_and_redraws_its_charts_offline(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    here = urlparse(app_url).netloc
    problems: list[str] = []

    def offline(route) -> None:  # the page must need nothing from the internet
        if urlparse(route.request.url).netloc in (here, ""):
            route.continue_()
        else:
            problems.append(f"external request: {route.request.url[:100]}")
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            page.route("**/*", offline)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url[:100]}"))
            page.on(
                "response",
                lambda r: (
                    problems.append(f"HTTP {r.status}: {r.url[:100]}") if r.status >= 400 else None
                ),
            )
            page.goto(app_url, timeout=START_TIMEOUT_S * 1000)
            headline = page.locator(".parksim-headline")
            expect(headline).to_contain_text("quarter 0 of", timeout=START_TIMEOUT_S * 1000)
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
            expect(page.locator(".parksim-controls")).to_contain_text(
                "tier 2.0", timeout=ACTION_TIMEOUT_MS
            )
            page.get_by_role("button", name="Reset").click()
            expect(headline).to_contain_text("tier 2.0", timeout=ACTION_TIMEOUT_MS)
            # Still quarter 0, but a tier-2.0 bank opens with another book.
            assert not _unchanged_after_redraw(page, before, ["exposure"])
            step = page.get_by_role("button", name="Step")
            for quarter in range(1, STEPS + 1):
                step.click()
                expect(headline).to_contain_text(f"quarter {quarter} of", timeout=ACTION_TIMEOUT_MS)
            unchanged = _unchanged_after_redraw(page, before, [p.key for p in app.PANELS])
            assert not unchanged, f"charts not redrawn after {STEPS} steps: {unchanged}"
            assert re.search(rf"quarter {STEPS} of \d+", headline.inner_text())
            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACT), full_page=True)
        finally:
            browser.close()
    assert not problems, problems
