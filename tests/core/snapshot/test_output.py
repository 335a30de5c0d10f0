"""The output cache of `catchment assets list --json`: served (importing no graph code) while
the definitions snapshot's key matches, and never stale: editing any project file, a same-size
edit within the timestamp granularity, or another environment makes it a miss; a corrupt entry
is ignored and rewritten; listings with problems or a selection are not cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from catchment.snapshot.output import output_path

ASSETS = """
from catchment import asset

@asset(group="sales")
def orders():
    return [1]

@asset
def revenue(orders):
    return 1
"""

COMMAND = ("assets", "list", "--json")
# Reports on stderr, at exit, whether the graph module was imported: a cache hit needs none.
PROBE = (
    "import atexit, sys; sys.argv[0] = 'catchment'; "
    "atexit.register(lambda: sys.stderr.write("
    "'\\nPROBE:' + ('loaded' if 'catchment.graph' in sys.modules else 'cached')));"
    "from catchment.cli.fast import main; main()"
)


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "io_managers: {default: {type: memory}}\n"
        "components: [{type: python, name: core, attributes: {module: out_assets.py}}]\n"
    )
    (root / "out_assets.py").write_text(ASSETS)
    _age(root)
    return root


def _age(root: Path) -> None:
    """Make every file older than the racy window, so the key is by stat alone."""
    for p in root.rglob("*"):
        if p.is_file() and ".catchment" not in p.parts:
            os.utime(p, (p.stat().st_atime - 60, p.stat().st_mtime - 60))


def _list(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """(asset keys printed, 'cached' or 'loaded'); stderr's other lines must be empty."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *COMMAND, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    rest, _, how = out.stderr.rpartition("PROBE:")
    assert rest.strip() == "" or "warning" in rest, rest
    return [row["key"] for row in json.loads(out.stdout)], how


def test_a_listing_is_served_from_the_cache_until_a_project_file_changes(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    first = _list(root)
    assert first == (["orders", "revenue"], "loaded")
    assert output_path(root / "catchment.yaml", COMMAND).is_file()
    assert _list(root) == (["orders", "revenue"], "cached")
    module = root / "out_assets.py"
    module.write_text(ASSETS + "\n@asset\ndef extra():\n    return 2\n")
    assert _list(root) == (["extra", "orders", "revenue"], "loaded")
    assert _list(root) == (["extra", "orders", "revenue"], "cached")


def test_a_same_size_edit_within_the_timestamp_granularity_is_a_miss(tmp_path: Path) -> None:
    root = _project(tmp_path)
    module = root / "out_assets.py"
    # modified "just now" however slowly the command below starts: a minute ahead stays
    # within the racy window (a timestamp from the present would leave it on a loaded machine)
    ahead = time.time_ns() + 60 * 10**9
    os.utime(module, ns=(ahead, ahead))
    assert _list(root)[0] == ["orders", "revenue"]
    stat = module.stat()
    module.write_text(ASSETS.replace("def revenue", "def revenux"))
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert _list(root) == (["orders", "revenux"], "loaded")


def test_another_environment_is_a_miss(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _list(root)
    assert _list(root)[1] == "cached"
    assert _list(root, env={"CATCHMENT_SOMETHING": "1"})[1] == "loaded"
    assert _list(root, env={"CATCHMENT_SOMETHING": "1"})[1] == "cached"
    assert _list(root)[1] == "loaded"


def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _list(root)
    path = output_path(root / "catchment.yaml", COMMAND)
    path.write_bytes(path.read_bytes()[:50])
    assert _list(root) == (["orders", "revenue"], "loaded")
    assert _list(root) == (["orders", "revenue"], "cached")


def test_selections_no_cache_and_listings_with_problems_are_not_served_from_it(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    _list(root)
    assert _list(root, "-s", "group:sales") == (["orders"], "loaded")
    assert _list(root, "--no-cache")[1] == "loaded"
    assert _list(root)[1] == "cached"
    yaml = root / "catchment.yaml"
    yaml.write_text(yaml.read_text() + "sensors_typo: 1\n")
    _age(root)
    assert _list(root) == (["orders", "revenue"], "loaded")
    assert _list(root)[1] == "loaded"  # a listing with a warning is never cached
