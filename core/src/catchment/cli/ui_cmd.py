"""`catchment ui`: serve the web UI (graph, catalog, runs, automation) for one project."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import typer

from catchment.cli.common import PROJECT_OPTION_HELP

HELP = """Serve the web UI: the asset graph, the catalog, runs and automation of the project.

Binds 127.0.0.1 by default. On any other address it refuses to start unless the environment
variable CATCHMENT_UI_TOKEN holds a token, which every request must then carry (open the
printed link once: it sets a cookie). Needs the ui extra: pip install 'catchment[ui]'.

Examples:

  catchment ui

  catchment ui --project examples/platform --port 3001 --read-only
"""


def ui(
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(3000, "--port", help="Port to listen on (0: any free port)."),
    read_only: bool = typer.Option(False, "--read-only", help="Show everything, allow no action."),
) -> None:
    """Serve the web UI."""
    from catchment.errors import CatchmentError

    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise CatchmentError(
            "the web UI needs starlette and uvicorn",
            hint="pip install 'catchment[ui]'",
        ) from None
    from catchment.ui.app import create_app
    from catchment.ui.security import TOKEN_ENV, is_loopback
    from catchment.ui.state import UiState

    token = os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise CatchmentError(
            f"refusing to serve the UI on {host} without a token",
            where="--host",
            hint=f"set {TOKEN_ENV} to a long random value, or keep the default 127.0.0.1",
        )
    if not 0 <= port <= 65535:
        raise CatchmentError(f"port {port} is out of range", where="--port", hint="use 0..65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        sock.close()
        raise CatchmentError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            where="--port",
            hint="pick another port (--port 0 picks a free one)",
        ) from None
    bound = sock.getsockname()[1]
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.ui import WorkspaceUiState

        state: UiState = WorkspaceUiState(workspace)
    else:
        state = UiState(project_path.resolve() if project_path else None)
    app = create_app(state, read_only=read_only, token=token)
    shown = f"[{host}]" if ":" in host else host
    link = f"http://{shown}:{bound}/" + ("?token=<CATCHMENT_UI_TOKEN>" if token else "")
    typer.echo(f"catchment ui: serving {link} (Ctrl-C to stop)", err=False)
    # open live-log streams (server-sent events) would hold up Ctrl-C: cut them after 2 s
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


def register(app: typer.Typer) -> None:
    """Add `catchment ui`."""
    app.command("ui", help=HELP)(ui)
