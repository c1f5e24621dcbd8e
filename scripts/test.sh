#!/usr/bin/env bash
# The whole test suite on a fresh machine: own venv, offline weights, lint, types, tests.
# The quick loop while developing: .venv/bin/python -m pytest -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
# pyworld (the tone tests' formant-preserving pitch shift) has no wheel: it builds from source.
if ! command -v cc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing a C compiler for pyworld's build" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq build-essential python3-dev >/dev/null
  else
    echo "[test] the tone tests need a C compiler to build pyworld: apt-get install build-essential" >&2
  fi
fi
bash scripts/setup.sh --test
# The HTML report is tested in a real headless browser: Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing Debian's chromium for the report tests" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
  else
    echo "[test] the report tests need chromium: apt-get install chromium (as root)" >&2
  fi
fi
VENV=${CALLSCAN_VENV:-.venv}
"$VENV/bin/ruff" check callscan cli models tests bench scripts
"$VENV/bin/ruff" format --check callscan cli models tests bench scripts
"$VENV/bin/mypy"  # the library (callscan/), settings in pyproject.toml
exec "$VENV/bin/python" -m pytest "$@"
