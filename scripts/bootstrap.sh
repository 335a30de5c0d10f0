#!/usr/bin/env bash
# Create or update catchment's development environment in <repo>/.venv.
#
#   scripts/bootstrap.sh            # install what is missing; quick no-op when up to date
#   scripts/bootstrap.sh --force    # reinstall even if the stamp matches
#
# Installs uv into the venv, then every third-party tool from requirements-dev.txt at the
# versions in constraints.txt, plus core/ and each adapters/*/ that has a pyproject.toml
# (editable), and compiles the installed packages to bytecode. The run is skipped when the
# stamp in .venv matches a hash of constraints.txt, requirements-dev.txt, every
# pyproject.toml in the repo, this script and the Python version.
# Works with CI=true and no stdin. Writes nothing outside the repo except uv's cache
# (UV_CACHE_DIR, default ~/.cache/uv). Environment: PYTHON (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.catchment-bootstrap.sha256"
PYTHON="${PYTHON:-python3}"
FORCE=0

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

START=$SECONDS
log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

cd "$ROOT"
[[ -f constraints.txt ]] || die "constraints.txt not found in $ROOT"
[[ -f requirements-dev.txt ]] || die "requirements-dev.txt not found in $ROOT"

# One bootstrap at a time per work tree (lock on this script, so nothing new is written).
if command -v flock >/dev/null 2>&1; then
  exec 9<"${BASH_SOURCE[0]}"
  flock -w 900 9 || die "another bootstrap is still running"
fi

# Every pyproject.toml in the repo, skipping hidden folders (.venv, .git, caches) and node_modules.
pyprojects() {
  find . \( -name '.?*' -o -name node_modules \) -prune -o -type f -name pyproject.toml -print \
    | LC_ALL=C sort
}

inputs_hash() {
  local files f
  mapfile -t files < <(pyprojects)
  {
    "$PYTHON" -c 'import sys; print(sys.version)'
    for f in constraints.txt requirements-dev.txt scripts/bootstrap.sh "${files[@]}"; do
      printf '\n== %s\n' "$f"
      cat "$f"
    done
  } | sha256sum | cut -d' ' -f1
}

# Headless Chromium for the UI's browser tests: Debian's package (Playwright drives it; no
# browser download). Installed when missing and we are root; otherwise those tests skip.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's chromium (browser tests of the UI)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
      </dev/null >/dev/null 2>&1 || log "could not install chromium; the UI's browser tests will skip"
  else
    log "no /usr/bin/chromium (not root): the UI's browser tests will skip (apt-get install chromium)"
  fi
fi

HASH="$(inputs_hash)"
if [[ $FORCE == 0 && -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]] && "$VPY" -c '' 2>/dev/null; then
  log "up to date ($VENV)"
  exit 0
fi

# 1. The venv (recreated when missing or broken, e.g. its Python was removed).
if ! "$VPY" -c '' 2>/dev/null; then
  log "creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv --clear "$VENV"
fi
rm -f "$STAMP"

# 2. uv, from PyPI into the venv (version pinned in constraints.txt).
if ! "$VENV/bin/uv" --version >/dev/null 2>&1; then
  log "installing uv"
  if ! out="$("$VPY" -m pip install -q --no-cache-dir --disable-pip-version-check -c constraints.txt uv </dev/null 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "pip could not install uv"
  fi
fi
UV="$VENV/bin/uv"

# 3. Tools and local distributions in one resolution.
args=(-c constraints.txt -r requirements-dev.txt)
locals=()
for d in core adapters/*; do
  if [[ -f "$d/pyproject.toml" ]]; then
    args+=(-e "./$d")
    locals+=("$d")
  fi
done
if ((${#locals[@]})); then
  log "installing tools + editable: ${locals[*]}"
else
  log "installing tools (no local distributions yet)"
fi
t0=$SECONDS
"$UV" pip install -q --python "$VPY" "${args[@]}" </dev/null
"$UV" pip check -q --python "$VPY" </dev/null || die "installed packages are inconsistent (uv pip check)"
# uv installs without bytecode, and PYTHONDONTWRITEBYTECODE=1 (set on some machines) keeps
# Python from caching what it compiles: every process would compile its imports from source
# again (`import snowflake.connector` 2.4 s CPU instead of 0.9 s). Compile the installed
# packages once (~30 s CPU for a new venv; files already compiled are skipped). Some packages
# ship files that do not compile (templates, Python 2 tests): they are ignored.
t1=$SECONDS
"$VPY" -m compileall -q -j 2 "$("$VPY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
  </dev/null >/dev/null 2>&1 || true
log "compiled installed packages to bytecode in $((SECONDS - t1)) s"
log "installed $("$UV" pip freeze --python "$VPY" | wc -l) packages in $((SECONDS - t0)) s"
# pyspark ships only an sdist and the registry sends no cache headers, so uv re-downloads and
# rebuilds it for every new venv, leaving ~2 GB of stale revisions in its cache each time.
# Drop unreferenced cache entries (quick when there are none; never fails the bootstrap).
"$UV" cache prune -q </dev/null >/dev/null 2>&1 || true

printf '%s\n' "$HASH" >"$STAMP.tmp" && mv "$STAMP.tmp" "$STAMP"
log "done in $((SECONDS - START)) s; activate with: source .venv/bin/activate"
