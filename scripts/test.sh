#!/usr/bin/env bash
# The whole test suite on a fresh machine: own venv, offline weights, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
VENV=${CALLSCAN_VENV:-.venv}
"$VENV/bin/ruff" check callscan cli models tests bench scripts
"$VENV/bin/ruff" format --check callscan cli models tests bench scripts
exec "$VENV/bin/python" -m pytest "$@"
