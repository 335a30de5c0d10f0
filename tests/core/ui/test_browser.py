"""The UI in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no
browser download) against a real `catchment ui` process serving a copy of
examples/platform: every page renders, a catalog search finds a dbt model by a column name,
an asset's neighbourhood graph opens, a materialization launched from the UI shows its events
live and ends green, and the server survives kill -9 and a restart.

Screenshots of each page go to $CATCHMENT_UI_SCREENSHOTS (docs/img/ui to refresh the docs'),
else to the test's temp folder.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .server import CHROMIUM, UiServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[3]
LEFTOVERS = shutil.ignore_patterns(
    "warehouse.duckdb*", ".catchment", "target", "logs", "features", ".fakesnow", "__pycache__"
)
PAGES = {
    "graph": "/graph",
    "catalog": "/assets",
    "asset": "/assets/stg_orders",
    "runs": "/runs",
    "automation": "/automation",
    "health": "/health",
}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = os.environ.get("CATCHMENT_UI_SCREENSHOTS")
    path = Path(out) if out else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ui-browser") / "platform"
    shutil.copytree(REPO / "examples" / "platform", root, ignore=LEFTOVERS)
    return root


@pytest.fixture(scope="module")
def server(platform: Path) -> Iterator[UiServer]:
    srv = UiServer(platform)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], errors


def test_catalog_search_finds_a_dbt_model_by_a_column_name(server: UiServer, page: Any) -> None:
    page.goto(server.url + "/assets")
    everything = page.locator("#catalog-count").inner_text()
    page.fill("#q", "order_id")
    page.wait_for_function(
        f"document.querySelector('#catalog-count').textContent.trim() !== {everything.strip()!r}"
    )
    keys = page.locator("#catalog-table tbody td:first-child a").all_inner_texts()
    assert "stg_orders" in keys
    assert "raw/events" not in keys
    expected = [a["key"] for a in server.get("/api/assets?q=order_id")["assets"]]
    assert keys == expected
    assert "order_id" in page.url  # the search is in the address, so it can be shared


def test_neighbourhood_graph_opens_from_an_asset(server: UiServer, page: Any, shots: Path) -> None:
    page.goto(server.url + "/assets/stg_orders")
    page.click("#neighbourhood")
    page.wait_for_selector("#graph-svg")
    keys = page.locator("#graph-svg a.node").evaluate_all("ns => ns.map(n => n.dataset.key)")
    assert "stg_orders" in keys
    assert "raw/orders" in keys
    assert "customer_orders" in keys
    assert page.locator("#graph-svg a.focus").get_attribute("data-key") == "stg_orders"
    page.screenshot(path=str(shots / "ui-neighbourhood.png"))
    box = page.locator("#graph-svg").get_attribute("viewBox")
    page.mouse.move(700, 500)
    page.mouse.wheel(0, -400)  # zoom in
    assert page.locator("#graph-svg").get_attribute("viewBox") != box
    page.click("#fit")
    page.locator("#graph-svg a.focus rect").click()
    page.wait_for_url("**/assets/stg_orders")


def test_materialize_from_the_ui_shows_events_live_and_ends_green(
    server: UiServer, page: Any, shots: Path
) -> None:
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/events?after=" in r.url else None)
    page.goto(server.url + "/assets/raw/orders")
    page.click("#materialize")
    page.wait_for_url("**/runs/*")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    page.wait_for_function(
        "document.querySelector('#run-status').textContent.trim() === 'success' || "
        "document.querySelector('#run-status').textContent.trim() === 'failure'",
        timeout=240_000,
    )
    assert page.locator("#run-status").inner_text().strip() == "success"
    assert page.evaluate("window.__sameDocument") is True
    events = page.locator("#events tbody tr").all_inner_texts()
    assert any("materialization" in e and "raw/orders" in e for e in events)
    assert page.locator("#gantt g.step").count() >= 1
    # the log was live over server-sent events (the htmx polling stood down)
    assert page.evaluate("window.catchmentLive") is True
    assert len(streams) == 1, streams
    page.screenshot(path=str(shots / "ui-run.png"), full_page=True)
    page.goto(server.url + "/assets/raw/orders")
    assert page.locator("h1 .state").inner_text() == "fresh"


def test_bad_parameters_show_a_400_page(server: UiServer, page: Any) -> None:
    response = page.goto(server.url + "/assets?page=zero")
    assert response.status == 400
    assert "not a whole number" in page.locator("#error-message").inner_text()


def test_run_event_log_fits_the_window(server: UiServer, page: Any) -> None:
    """A long unbroken event message (a dbt materialization's paths) wraps inside the
    window instead of widening the page, and each event's time stays on one line."""
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(server.url + "/health")
    long = "table=duckdb:///" + "very/long/path/" * 20 + "warehouse.duckdb"
    page.evaluate(
        """long => { document.querySelector("main").innerHTML =
        '<table class="list events" id="events"><tbody><tr><td>1</td>' +
        '<td>2026-12-04 11:10:49</td><td>materialization</td>' +
        '<td class="mono">customer_orders:revenue_not_negative</td>' +
        '<td><a href="#">customer_orders</a></td><td>' + long + '</td></tr>' +
        '<tr><td>2</td><td>2026-12-04 11:10:50</td><td>log</td>' +
        '<td class="mono">ingest_files</td><td></td><td>' + long + '</td></tr>' +
        '</tbody></table>'; }""",
        long,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000
    lines = page.evaluate(  # the line boxes of each cell's text, row by row
        """() => [...document.querySelectorAll("#events tr")].map(tr =>
        [...tr.cells].map(td => { const r = document.createRange(); r.selectNodeContents(td);
        return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }))"""
    )
    for _seq, at, _kind, step, _asset, message in lines:
        assert (at, step) == (1, 1), lines  # the time and the step name on one line
        assert message > 1, lines  # only the message wraps


def test_server_survives_kill_9_and_restart(platform: Path, server: UiServer) -> None:
    before = server.get("/api/runs")["runs"]
    other = UiServer(platform)
    os.kill(other.proc.pid, signal.SIGKILL)
    other.proc.wait(10)
    again = UiServer(platform)
    try:
        again.wait_ready()
        assert again.get("/api/runs")["runs"] == before
    finally:
        again.stop()


def test_every_page_renders_in_chromium_after_the_run(
    server: UiServer, page: Any, shots: Path
) -> None:
    for name, path in PAGES.items():
        response = page.goto(server.url + path)
        assert response.status == 200, (path, response.status)
        page.wait_for_load_state("networkidle")
        assert page.locator("nav.top").is_visible()
        page.screenshot(path=str(shots / f"ui-{name}.png"))
    page.goto(server.url + "/graph")
    assert page.locator("#graph-svg a.node").count() == server.get("/api/graph")["total"]
