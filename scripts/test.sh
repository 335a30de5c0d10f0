#!/usr/bin/env bash
# The README's test command: set up the environment, then lint, type-check, build the docs
# strictly and run every test. Extra arguments go to pytest, e.g. the fast set alone:
#   bash scripts/test.sh -m "not slow"
# Tests run on 2 pytest-xdist workers (independent tests, per-test temp dirs and databases);
# PYTEST_WORKERS=0 runs them in this one process, e.g. to debug.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
# Tools we run must never call home (see docs/environment-notes.md).
export DO_NOT_TRACK=1 RUNTIME__DLTHUB_TELEMETRY=false SLING_DISABLE_TELEMETRY=true \
       SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true

echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy (core and adapters, strict)"
mypy
if [ -f mkdocs.yml ]; then
  echo "== docs (mkdocs --strict)"
  bash scripts/docs.sh
fi
echo "== pytest"
python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
