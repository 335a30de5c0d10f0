#!/usr/bin/env bash
# Build the docs strictly: any warning (a broken link or anchor, a bad cross-reference) fails.
# Never --quiet: it hides warnings from the strict counter, and the gate could not fail.
# Usage: bash scripts/docs.sh [path/to/mkdocs.yml]   (tests/docs/test_docs_gate.py runs it)
set -euo pipefail
config="${1:-mkdocs.yml}"
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --config-file "$config" --site-dir "$site"
