"""The Starlette application of ``catchment ui``: HTML pages and the JSON API over the same
views (``catchment.ui.views``), the loading page while the project loads, 400 pages for bad
parameters, the run's live event log (server-sent events), and the actions (materialize,
apply, cancel, retry), CSRF-protected and queued through the record store like the daemon's
runs, so they go on if the browser closes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from catchment.ui import actions, charts, views
from catchment.ui.params import BadRequest, int_param, text_param
from catchment.ui.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    TokenMiddleware,
    form_fields,
    new_csrf_token,
    same,
)
from catchment.ui.state import UiState
from catchment.ui.svg import render, tool_colour

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey

STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request], Any]


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("catchment.ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = lambda s: quote(str(s), safe="/")
    env.filters["colour"] = tool_colour
    env.filters["gantt"] = charts.gantt
    env.filters["history_chart"] = charts.history
    return env


class UiApp:
    """The pages and API of one ``catchment ui`` process."""

    def __init__(self, state: UiState, *, read_only: bool = False):
        self.state = state
        self.read_only = read_only
        self.env = _env()

    # -- rendering ----------------------------------------------------------------------------
    def page(
        self, request: Request, template: str, http_status: int = 200, **context: Any
    ) -> Response:
        """Render ``template`` with the navigation's context and a CSRF cookie."""
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        html = self.env.get_template(template).render(
            request_path=request.url.path,
            csrf=token,
            read_only=self.read_only,
            project=self.state.loaded.project.name if self.state.loaded else "",
            **context,
        )
        response = HTMLResponse(html, status_code=http_status)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    def error(self, request: Request, status: int, message: str) -> Response:
        """A 4xx/5xx as JSON for the API, as a page otherwise."""
        if request.url.path.startswith("/api/"):
            return Response(
                _json({"error": message, "status": status}), status, media_type="application/json"
            )
        return self.page(
            request, "error.html", http_status=status, status_code=status, message=message
        )

    def guarded(self, handler: Handler, *, needs_project: bool = True) -> Handler:
        """``handler`` with bad parameters as 400, unknown things as 404, and a loading page
        (503 for the API) until the project is loaded."""

        def endpoint(request: Request) -> Response:
            if needs_project and self.state.status != "ready":
                if request.url.path.startswith("/api/"):
                    return self.error(request, 503, f"the project is {self.state.status}")
                return self.page(
                    request,
                    "loading.html",
                    http_status=503,
                    state=self.state.status,
                    error=views.safe(self.state.error or ""),
                    seconds=round(time.time() - self.state.started_at, 1),
                )
            try:
                result: Response = handler(request)
                return result
            except BadRequest as exc:
                return self.error(request, 400, str(exc))
            except LookupError as exc:
                return self.error(request, 404, str(exc.args[0] if exc.args else exc))
            except Exception as exc:
                from catchment.errors import CatchmentError

                if isinstance(exc, CatchmentError):
                    return self.error(request, 400, views.safe(str(exc)))
                raise

        return endpoint

    # -- pages --------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        return RedirectResponse("/assets", status_code=302)

    def catalog(self, request: Request) -> Response:
        data = views.catalog(self.state, request.query_params)
        template = "catalog_rows.html" if request.headers.get("hx-request") else "catalog.html"
        return self.page(request, template, **data)

    def asset(self, request: Request) -> Response:
        key = request.path_params["key"]
        if key.endswith("/") and key.strip("/"):  # /assets/orders/ as pasted: that asset
            return RedirectResponse(f"/assets/{key.strip('/')}", status_code=302)
        data = views.asset(self.state, key)
        return self.page(request, "asset.html", a=data)

    def graph(self, request: Request) -> Response:
        select = text_param(request.query_params, "select") or None
        loaded = self.state.require()
        keys = _selected(loaded.graph, select)
        layout = loaded.layout(select or "*", keys)
        states = self.state.asset_states().states
        tools = {e.name: e.tool for e in loaded.catalog.entries}
        svg = render(
            layout,
            tools,
            {k.to_string(): v for k, v in states.items()},
            focus=_focus(select),
        )
        used = sorted({tools[k] for k in layout.keys})
        return self.page(
            request, "graph.html", select=select or "", svg=svg, count=len(layout.keys), tools=used
        )

    def runs(self, request: Request) -> Response:
        data = views.runs(self.state, request.query_params)
        template = "runs_rows.html" if request.headers.get("hx-request") else "runs.html"
        return self.page(request, template, **data)

    def run(self, request: Request) -> Response:
        after = int_param(request.query_params, "after", 0, 0, 10**15)
        run_id = request.path_params["run_id"]
        full = views.full_run_id(self.state, run_id) if views.RUN_ID.fullmatch(run_id) else None
        if full is not None and full != run_id:  # a short id, as the pages show: its run
            return RedirectResponse(f"/runs/{full}", status_code=302)
        data = views.run(self.state, run_id, after)
        template = "run_live.html" if request.headers.get("hx-request") else "run.html"
        return self.page(request, template, r=data)

    def run_events(self, request: Request) -> Response:
        """The run's new events as server-sent events (``catchment.ui.live``), from the
        ``Last-Event-ID`` the browser resends on reconnect, else from ``?after=SEQ``."""
        from starlette.responses import StreamingResponse

        from catchment.ui.live import run_events

        run_id = request.path_params["run_id"]
        views.run_record(self.state, run_id)
        resumed = {"after": request.headers.get("last-event-id", "")}
        after = int_param(
            resumed if resumed["after"] else request.query_params, "after", 0, 0, 10**15
        )
        stream = run_events(self.state.storage, run_id, after, request.is_disconnected)
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def automation(self, request: Request) -> Response:
        return self.page(
            request, "automation.html", **views.automation(self.state, request.query_params)
        )

    def health(self, request: Request) -> Response:
        return self.page(request, "health.html", h=views.health(self.state))

    # -- API ----------------------------------------------------------------------------------
    def api(self, view: Callable[[Request], Any]) -> Handler:
        def handler(request: Request) -> Response:
            return Response(_json(view(request)), media_type="application/json")

        return handler

    def api_graph(self, request: Request) -> dict[str, Any]:
        select = text_param(request.query_params, "select") or None
        loaded = self.state.require()
        keys = _selected(loaded.graph, select)
        layout = loaded.layout(select or "*", keys)
        limit = int_param(request.query_params, "limit", 1000, 1, 20_000)
        from catchment.storage.base import stored_key

        states = self.state.asset_states().states
        names = layout.keys[:limit]
        return {
            "select": select or "",
            "total": len(layout.keys),
            "nodes": [
                {
                    "key": k,
                    "x": layout.xs[i],
                    "y": layout.ys[i],
                    "state": states.get(stored_key(k), "missing"),
                }
                for i, k in enumerate(names)
            ],
            "edges": [
                [layout.keys[a], layout.keys[b]] for a, b in layout.edges if a < limit and b < limit
            ],
        }

    # -- actions ------------------------------------------------------------------------------
    async def action_fields(self, request: Request) -> dict[str, str] | Response:
        """The form of an action, or the refusal: read-only, another origin, a missing or
        wrong CSRF token, a project not loaded yet."""
        if self.read_only:
            return self.error(request, 403, "this catchment ui is read-only (--read-only)")
        fields = form_fields(await request.body())
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            return self.error(request, 403, f"cross-origin request from {origin} refused")
        if not same(fields.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE)):
            return self.error(
                request, 403, "missing or wrong CSRF token: reload the page and try again"
            )
        if self.state.status != "ready":
            return self.error(request, 503, "the project is not loaded yet")
        return fields

    async def materialize(self, request: Request) -> Response:
        fields = await self.action_fields(request)
        if isinstance(fields, Response):
            return fields
        from starlette.concurrency import run_in_threadpool

        try:
            run_id = await run_in_threadpool(self._submit, fields)
        except BadRequest as exc:
            return self.error(request, 400, str(exc))
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def apply(self, request: Request) -> Response:
        """Queue the missing and stale assets of the posted selection (all when empty)."""
        fields = await self.action_fields(request)
        if isinstance(fields, Response):
            return fields
        from starlette.concurrency import run_in_threadpool

        from catchment.errors import CatchmentError

        select = text_param(fields, "select") or None
        loaded = self.state.require()
        try:
            run_id = await run_in_threadpool(
                actions.apply_selection,
                self.state.storage,
                loaded.graph,
                self.state.launcher(),
                select,
            )
        except BadRequest as exc:
            return self.error(request, 409, str(exc))
        except CatchmentError as exc:
            return self.error(request, 400, f"select={select!r}: {views.safe(str(exc))}")
        if run_id is None:
            return self.page(
                request,
                "notice.html",
                title="Nothing to apply",
                message=f"every asset of {select or 'the project'} is fresh: nothing to do",
            )
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def cancel(self, request: Request) -> Response:
        fields = await self.action_fields(request)
        if isinstance(fields, Response):
            return fields
        from starlette.concurrency import run_in_threadpool

        run_id = request.path_params["run_id"]
        try:
            await run_in_threadpool(self.state.cancel_run, run_id)
        except BadRequest as exc:
            return self.error(request, 409, str(exc))
        except LookupError as exc:
            return self.error(request, 404, str(exc.args[0]))
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    def _submit(self, fields: dict[str, str]) -> str:
        """Queue a run of the selection in the record store and launch its process."""
        from catchment.errors import CatchmentError
        from catchment.runs.request import RunRequest

        select = text_param(fields, "select")
        if not select:
            raise BadRequest("select is empty: give a selection such as +orders or group:marts")
        loaded = self.state.require()
        try:
            keys = loaded.graph.select(select)
        except CatchmentError as exc:
            raise BadRequest(f"select={select!r}: {exc}") from None
        keys = frozenset(k for k in keys if not loaded.graph.is_external(k))
        if not keys:
            raise BadRequest(f"select={select!r} matches no asset that can be materialized")
        partitions = tuple(
            p.strip() for p in text_param(fields, "partitions").split(",") if p.strip()
        )
        request = RunRequest.for_assets(
            keys,
            partition_keys=partitions,
            selection=select,
            origin="ui",
            reason="materialize from the UI",
        )
        return actions.queue_and_launch(self.state.storage, self.state.launcher(), request)

    async def retry(self, request: Request) -> Response:
        fields = await self.action_fields(request)
        if isinstance(fields, Response):
            return fields
        from starlette.concurrency import run_in_threadpool

        run_id = request.path_params["run_id"]
        try:
            new_id = await run_in_threadpool(self.state.retry_run, run_id)
        except BadRequest as exc:
            return self.error(request, 409, str(exc))
        except LookupError as exc:
            return self.error(request, 404, str(exc.args[0]))
        return RedirectResponse(f"/runs/{new_id}", status_code=303)


def _selected(graph: AssetGraph, select: str | None) -> frozenset[AssetKey]:
    """The assets of ``select``; everything, external sources included, when None."""
    return frozenset(graph.specs) if select is None else graph.select(select)


def _focus(select: str | None) -> str | None:
    """The asset a neighbourhood selection (``+key+``, ``2+key+2``) is centred on."""
    found = re.fullmatch(r"(?:\d*\+)?([^\s:+()*]+?)(?:\+\d*)?", (select or "").strip())
    return found.group(1) if found else None


def _json(data: Any) -> bytes:
    return msgspec.json.encode(data)


def create_app(
    state: UiState, *, read_only: bool = False, token: str | None = None, start: bool = True
) -> Starlette:
    """The application over ``state``; ``token``: required on every request when set;
    ``start``: begin loading the project when the server starts."""
    ui = UiApp(state, read_only=read_only)
    g = ui.guarded
    routes = [
        Route("/", g(ui.home, needs_project=False)),
        Route("/assets", g(ui.catalog)),
        Route("/assets/{key:path}", g(ui.asset)),
        Route("/graph", g(ui.graph)),
        Route("/runs", g(ui.runs)),
        Route("/runs/{run_id}", g(ui.run)),
        Route("/automation", g(ui.automation)),
        Route("/health", g(ui.health, needs_project=False)),
        Route("/actions/materialize", ui.materialize, methods=["POST"]),
        Route("/actions/apply", ui.apply, methods=["POST"]),
        Route("/actions/runs/{run_id}/cancel", ui.cancel, methods=["POST"]),
        Route("/actions/runs/{run_id}/retry", ui.retry, methods=["POST"]),
        Route("/api/assets", g(ui.api(lambda r: views.catalog(ui.state, r.query_params)))),
        Route(
            "/api/assets/{key:path}",
            g(ui.api(lambda r: views.asset(ui.state, r.path_params["key"]))),
        ),
        Route("/api/graph", g(ui.api(ui.api_graph))),
        Route("/api/runs", g(ui.api(lambda r: views.runs(ui.state, r.query_params)))),
        Route(
            "/api/runs/{run_id}",
            g(
                ui.api(
                    lambda r: views.run(
                        ui.state,
                        r.path_params["run_id"],
                        int_param(r.query_params, "after", 0, 0, 10**15),
                    )
                )
            ),
        ),
        Route("/api/runs/{run_id}/events", g(ui.run_events)),
        Route("/api/automation", g(ui.api(lambda r: views.automation(ui.state, r.query_params)))),
        Route("/api/health", g(ui.api(lambda r: views.health(ui.state)), needs_project=False)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(GZipMiddleware, minimum_size=2000)]
    if token:
        middleware.insert(0, Middleware(TokenMiddleware, token=token))

    async def not_found(request: Request, exc: Exception) -> Response:
        return ui.error(request, 404, f"no page at {request.url.path}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start:
            state.start()
        try:
            yield
        finally:
            state.stop()

    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
