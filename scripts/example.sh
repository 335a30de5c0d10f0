#!/usr/bin/env bash
# The README's main job: set up the environment and run the example platform end to end on
# the embedded defaults (DuckDB warehouse, SQLite run records).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
cd examples/platform
catchment check
catchment assets list
catchment materialize
catchment plan
