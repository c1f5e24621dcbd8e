#!/usr/bin/env bash
# Fresh machine -> callscan installed in its own venv, offline Whisper weights, and the main
# job run on a bundled sample call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${CALLSCAN_VENV:-.venv}
SAMPLE=${1:-samples/id_sales_stereo.wav}
echo "[quickstart] callscan transcribe $SAMPLE --format txt" >&2
"$VENV/bin/callscan" transcribe "$SAMPLE" --format txt
