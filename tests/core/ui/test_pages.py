"""Every page and API route of the UI on a real project and record store (TestClient):
what each shows, 400 pages for bad parameters, 404s, no secret on any page."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PAGES = (
    "/assets",
    "/assets/orders",
    "/assets/revenue",
    "/graph",
    "/graph?select=%2Brevenue%2B",
    "/runs",
    "/automation",
    "/health",
)


def _message(html: str) -> str:
    found = re.search(r'id="error-message">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_secrets(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert "hunter2" not in r.text
    assert "s3cret" not in r.text
    assert '<nav class="top">' in r.text


def test_home_redirects_to_the_catalog(client: Any) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == "/assets"


def test_catalog_searches_columns_and_filters_by_group(client: Any) -> None:
    by_column = client.get("/api/assets", params={"q": "customer_email"}).json()
    assert [a["key"] for a in by_column["assets"]] == ["orders"]
    marts = client.get("/api/assets", params={"group": "marts"}).json()
    assert [a["key"] for a in marts["assets"]] == ["report", "revenue"]
    html = client.get("/assets", params={"q": "revenue per day"}).text
    assert 'href="/assets/revenue"' in html
    assert 'href="/assets/report"' not in html


def test_catalog_htmx_request_gets_only_the_rows(client: Any) -> None:
    r = client.get("/assets", params={"q": "orders"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<nav" not in r.text
    assert 'id="catalog-table"' in r.text


def test_catalog_paginates(client: Any) -> None:
    first = client.get("/api/assets", params={"per_page": 2}).json()
    second = client.get("/api/assets", params={"per_page": 2, "page": 2}).json()
    assert first["total"] == 3
    assert first["pages"] == 2
    assert len(first["assets"]) == 2
    assert len(second["assets"]) == 1


def test_asset_page_shows_state_lineage_checks_and_last_materialization(client: Any) -> None:
    data = client.get("/api/assets/revenue").json()
    assert data["state"] == "fresh"
    assert data["upstream"] == ["orders"]
    assert data["downstream"] == ["report"]
    assert data["latest"]["run_id"]
    assert data["code_version"]
    assert [c["check"] for c in data["checks"]] == ["revenue_positive"]
    assert data["checks"][0]["passed"] is True
    html = client.get("/assets/revenue").text
    assert "revenue_positive" in html
    assert "Neighbourhood graph" in html


def test_asset_metadata_secrets_are_masked(client: Any) -> None:
    meta = client.get("/api/assets/orders").json()["metadata"]
    assert meta["warehouse_password"] == "***"
    assert meta["url"] == "postgresql://bob:***@db/x"


def test_graph_page_draws_every_selected_asset_as_a_link(client: Any) -> None:
    html = client.get("/graph", params={"select": "+report"}).text
    assert html.count('class="node ') == 3
    assert 'href="/assets/orders"' in html
    assert "s-fresh" in html
    api = client.get("/api/graph", params={"select": "revenue+"}).json()
    assert {n["key"] for n in api["nodes"]} == {"revenue", "report"}
    assert api["edges"] == [["revenue", "report"]]


def test_runs_list_and_run_page(client: Any) -> None:
    runs = client.get("/api/runs").json()["runs"]
    assert len(runs) == 1
    assert runs[0]["status"] == "success"
    run_id = runs[0]["run_id"]
    assert client.get("/api/runs", params={"status": "failure"}).json()["runs"] == []
    run = client.get(f"/api/runs/{run_id}").json()
    assert {s["step"] for s in run["timeline"]} >= {"orders", "revenue"}
    types = [e["type"] for e in run["events"]]
    assert types[0] == "run_started"
    assert types[-1] == "run_finished"
    later = client.get(f"/api/runs/{run_id}", params={"after": run["last_seq"]}).json()
    assert later["events"] == []
    html = client.get(f"/runs/{run_id}").text
    assert 'id="gantt"' in html
    assert "materialization" in html
    assert "hx-trigger" not in html  # a finished run is not polled


def test_a_short_run_id_as_the_pages_show_it_opens_its_run(client: Any) -> None:
    """Pages show 12-character run ids; pasted into /runs/ it finds the run (as
    `catchment runs show` does), where it was a 404."""
    run_id = client.get("/api/runs").json()["runs"][0]["run_id"]
    r = client.get(f"/runs/{run_id[:12]}", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == f"/runs/{run_id}"
    assert client.get(f"/runs/{run_id[:12]}").status_code == 200
    assert client.get("/runs/zzzzzzzz").status_code == 404


def test_an_asset_url_with_a_trailing_slash_opens_the_asset(client: Any) -> None:
    """``/assets/orders/`` (as browsers and people add it) is that asset, not a 400 about an
    empty key segment; an empty key stays a clear error."""
    key = client.get("/api/assets").json()["assets"][0]["key"]
    r = client.get(f"/assets/{key}/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, f"/assets/{key}")
    assert client.get(f"/assets/{key}/").status_code == 200
    assert client.get("/assets//").status_code in (400, 404)


def test_automation_page_shows_schedule_ticks_with_reasons_and_daemon(client: Any) -> None:
    data = client.get("/api/automation").json()
    assert data["schedules"][0]["name"] == "nightly_orders"
    assert data["schedules"][0]["last"]["status"] == "skipped"
    assert data["ticks"][0]["reason"].startswith("cron 0 3")
    assert data["daemon"]["holder"] == "host:1234"
    html = client.get("/automation", params={"kind": "schedule"}).text
    assert "has not ticked since the last run" in html


def test_filtered_empty_lists_say_the_filter_matched_nothing(client: Any) -> None:
    """A filter matching nothing is not an empty store: the runs list names the tag (there is
    a run, just none tagged so) and the ticks table does not tell a running daemon to start."""
    runs = client.get("/runs", params={"tag": "team=nobody"}).text
    assert "No run recorded tagged team=nobody." in runs
    ticks = client.get("/automation", params={"kind": "schedule", "name": "nope"}).text
    assert "No tick matches this filter." in ticks
    assert "start `catchment daemon`" not in ticks


def test_health_lists_adapters_and_no_problem(client: Any) -> None:
    data = client.get("/api/health").json()
    assert data["status"] == "ready"
    assert data["assets"] == 3
    assert any(a["name"] == "builtin" for a in data["adapters"])
    assert data["problems"] == []


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/assets?page=x", "page='x' is not a whole number"),
        ("/assets?per_page=100000", "per_page=100000 is out of range"),
        ("/assets?group=nope", "unknown group 'nope'"),
        ("/assets?page=9", "past the last page"),
        ("/runs?status=bogus", "unknown run status 'bogus'"),
        ("/graph?select=group%3A", "selection"),
        ("/automation?kind=nope", "unknown tick kind"),
        ("/runs/not%20an%20id", "is not a run id"),
    ],
)
def test_bad_parameters_get_a_400_page_with_a_message(client: Any, path: str, needle: str) -> None:
    r = client.get(path)
    assert r.status_code == 400
    assert needle.replace("'", "&#39;") in _message(r.text) or needle in _message(r.text)
    assert "Traceback" not in r.text
    api = client.get("/api" + path)
    assert api.status_code == 400
    assert needle in api.json()["error"]


def test_unknown_things_are_404(client: Any) -> None:
    assert client.get("/assets/nope").status_code == 404
    assert client.get("/runs/abc123").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/assets/nope").json()["status"] == 404


def test_static_files_are_served_from_the_package(client: Any) -> None:
    r = client.get("/static/htmx.min.js")
    assert r.status_code == 200
    assert "htmx" in r.text[:200]
    assert client.get("/static/ui.css").status_code == 200


def test_a_cut_event_message_ends_in_an_ellipsis() -> None:
    """A materialization whose metadata is longer than the log shows says it was cut (a dbt
    model's compiled path used to end mid-word, looking whole)."""
    from catchment.events import Event, EventType
    from catchment.ui.views import MAX_MESSAGE, event_row

    path = "/work/platform/dbt/target/compiled/platform/models/staging/" + "x" * 400 + ".sql"
    e = Event(
        run_id="r",
        type=EventType.MATERIALIZATION,
        asset_key="stg_orders",
        data={"metadata": {"rows": 5, "compiled_code_path": path}},
    )
    message = event_row(e)["message"]
    assert len(message) == MAX_MESSAGE
    assert message.startswith("rows=5, compiled_code_path=/work/platform/dbt/")
    assert message.endswith("…")
    short = Event(run_id="r", type=EventType.MATERIALIZATION, data={"metadata": {"rows": 5}})
    assert event_row(short)["message"] == "rows=5"


def test_pages_name_an_inline_icon_so_browsers_ask_for_no_favicon(client: Any) -> None:
    """Without a declared icon every browser requests /favicon.ico, a 404 in the console."""
    for path in ("/assets", "/runs/nope"):
        assert '<link rel="icon" href="data:,">' in client.get(path).text


@pytest.mark.parametrize(
    ("select", "focus"),
    [
        ("+revenue+", "revenue"),
        ("2+l10/asset_5000+2", "l10/asset_5000"),
        ("revenue", "revenue"),
        ("group:marts", None),
        ("a or b", None),
        ("", None),
    ],
)
def test_the_graph_focus_is_the_centre_of_a_neighbourhood(select: str, focus: str | None) -> None:
    from catchment.ui.app import _focus

    assert _focus(select) == focus


def test_neighbourhood_page_marks_its_centre(client: Any) -> None:
    html = client.get("/graph", params={"select": "1+revenue+1"}).text
    assert html.count('class="node ') == 3
    assert re.search(r'class="node s-fresh t\d+ focus" data-key="revenue"', html)
