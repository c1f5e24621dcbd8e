"""The labelled data the checks are trained and measured on stays valid: every blind call set
and every turn-label folder passes its own validator (format, texts, agreement of the turn
labels with the call labels both ways).

The turn labels of ``tests/data/turn-labels`` point into ``../shared/data/dev-calls``, which
CI has beside the clone (the same assumption as ``bench/eval_devcalls.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
FOLDERS = sorted(p.parent.name for p in DATA.glob("*/check.py"))


def test_every_labelled_folder_is_validated_here():
    assert {"turn-labels", "turn-labels-extra", "turn-labels-blind", "blind-calls-7"} <= set(
        FOLDERS
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_labelled_folder_passes_its_validator(folder):
    done = subprocess.run(
        [sys.executable, str(DATA / folder / "check.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "OK" in done.stdout.splitlines()[-1]
