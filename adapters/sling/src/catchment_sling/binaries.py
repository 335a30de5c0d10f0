"""Finding the Sling binary and the DuckDB CLI, and placing DuckDB extensions offline.

Order for Sling: explicit ``binary`` attribute, ``$SLING_BINARY``, the ``sling-linux-amd64``
package, ``sling`` on PATH (skipping the ``sling`` Python wrapper, which downloads a binary).
Order for the DuckDB CLI: ``duckdb_binary``, ``$DUCKDB_PATH``, the ``duckdb-cli`` package,
``duckdb`` on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from catchment.errors import ConfigError

_FIX_SLING = (
    "install it with `pip install sling-linux-amd64` (Linux x86_64), set `binary:` in the "
    "component's attributes, or export SLING_BINARY=/path/to/sling"
)
_FIX_DUCKDB = (
    "install it with `pip install duckdb-cli` (plus duckdb-ext-json and duckdb-ext-httpfs to "
    "work offline), set `duckdb_binary:` in the component's attributes, or export "
    "DUCKDB_PATH=/path/to/duckdb"
)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _is_python_wrapper(path: Path) -> bool:
    """The ``sling`` console script of the Python package (it downloads a binary at start)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]


def _explicit(value: str, root: Path, field: str, what: str, fix: str) -> Path:
    p = Path(value).expanduser()
    p = p if p.is_absolute() else root / p
    if not _executable(p):
        raise ConfigError(
            f"the {what} at {p} does not exist or is not executable",
            where=field,
            hint=fix,
        )
    return p


def locate_sling(explicit: str | None = None, *, root: Path | None = None) -> Path:
    """The Sling binary to run, or a ``ConfigError`` saying how to install one."""
    root = root or Path.cwd()
    if explicit:
        return _explicit(explicit, root, "attributes.binary", "Sling binary", _FIX_SLING)
    env = os.environ.get("SLING_BINARY")
    if env:
        return _explicit(env, root, "environment variable SLING_BINARY", "Sling binary", _FIX_SLING)
    packaged = _packaged_sling()
    if packaged is not None:
        return packaged
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / "sling"
        if _executable(candidate) and not _is_python_wrapper(candidate):
            return candidate
    raise ConfigError(
        "no Sling binary found (looked at attributes.binary, SLING_BINARY, the "
        "sling-linux-amd64 package and PATH)",
        where="sling adapter",
        hint=_FIX_SLING,
    )


def _packaged_sling() -> Path | None:
    try:
        dist = metadata.distribution("sling-linux-amd64")
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name.startswith("sling-linux-") and "/bin/" in f.as_posix():
            path = Path(str(dist.locate_file(f)))
            if _executable(path):
                return path
    return None


def locate_duckdb(explicit: str | None = None, *, root: Path | None = None) -> Path:
    """The DuckDB CLI Sling's duckdb connector runs, or a ``ConfigError`` saying how to get one."""
    root = root or Path.cwd()
    if explicit:
        return _explicit(explicit, root, "attributes.duckdb_binary", "DuckDB CLI", _FIX_DUCKDB)
    env = os.environ.get("DUCKDB_PATH")
    if env:
        return _explicit(env, root, "environment variable DUCKDB_PATH", "DuckDB CLI", _FIX_DUCKDB)
    try:
        dist = metadata.distribution("duckdb-cli")
        for f in dist.files or ():
            if f.name in {"duckdb", "duckdb.exe"}:
                path = Path(str(dist.locate_file(f))).resolve()
                if _executable(path):
                    return path
    except metadata.PackageNotFoundError:
        pass
    found = shutil.which("duckdb")
    if found:
        return Path(found)
    raise ConfigError(
        "no DuckDB CLI found for Sling's duckdb connection (looked at attributes.duckdb_binary, "
        "DUCKDB_PATH, the duckdb-cli package and PATH)",
        where="sling adapter",
        hint=_FIX_DUCKDB,
    )


@cache
def duckdb_version(cli: Path) -> str:
    """``1.4.4`` for a DuckDB CLI (``DUCKDB_VERSION`` for Sling); read once per binary."""
    env = os.environ.get("DUCKDB_VERSION")
    if env:
        return env
    try:
        out = subprocess.run(
            [str(cli), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    match = re.search(r"v?(\d+\.\d+\.\d+)", out)
    if not match:
        raise ConfigError(
            f"could not read the version of the DuckDB CLI at {cli}",
            where="sling adapter",
            hint="export DUCKDB_VERSION=<x.y.z> matching the CLI",
        )
    return match.group(1)


def _extension_files(version: str) -> list[tuple[str, Path]]:
    """(``v1.4.4/linux_amd64`` folder, file) of the extensions the ``duckdb-ext-*`` packages
    install under ``duckdb_ext/extensions/`` on ``sys.path`` (a few stats, no metadata scan)."""
    out: list[tuple[str, Path]] = []
    for entry in sys.path:
        base = Path(entry or ".") / "duckdb_ext" / "extensions" / f"v{version}"
        if base.is_dir():
            for f in sorted(base.glob("*/*.duckdb_extension")):
                out.append((f"v{version}/{f.parent.name}", f))
    return out


def place_extensions(home: Path, version: str) -> list[Path]:
    """Link (or copy) the ``duckdb-ext-*`` packages' extensions for DuckDB ``version`` into
    ``home/.duckdb/extensions/``, where the CLI looks before it tries to download."""
    placed: list[Path] = []
    for folder, src in _extension_files(version):
        dest = home / ".duckdb" / "extensions" / folder / src.name
        if dest.exists() and dest.stat().st_size == src.stat().st_size:
            placed.append(dest)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
        placed.append(dest)
    return placed
