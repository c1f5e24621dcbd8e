#!/usr/bin/env bash
# Fresh machine -> callscan installed in its own venv, offline Whisper weights, and the main
# job run on a bundled sample call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${CALLSCAN_VENV:-.venv}
SAMPLE=${1:-samples/id_sales_stereo.wav}
OUT=${CALLSCAN_QUICKSTART_OUT:-reports}
echo "[quickstart] callscan analyze $SAMPLE -o $OUT" >&2
"$VENV/bin/callscan" analyze "$SAMPLE" -o "$OUT"
