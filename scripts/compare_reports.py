"""Compare two folders of callscan JSON reports, ignoring timings and the version.

Used to show that a refactor changes no finding: analyse the bundled samples before and
after (`callscan analyze samples/X.wav -o DIR`), then
`.venv/bin/python scripts/compare_reports.py BEFORE_DIR AFTER_DIR`.
Exit status 1 when any report differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

IGN = {"callscan_version", "cpu_s", "elapsed_s", "seconds", "processing_s", "wall_s"}


def walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGN:
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k in b else 'before'}")
                continue
            walk(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: len {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            walk(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {str(a)[:90]!r} -> {str(b)[:90]!r}")


before, after = Path(sys.argv[1]), Path(sys.argv[2])
differ = False
for f in sorted(before.glob("*.json")):
    g = after / f.name
    if not g.exists():
        print(f.name, "MISSING after")
        continue
    out = []
    walk(json.loads(f.read_text()), json.loads(g.read_text()), "", out)
    differ = differ or bool(out)
    print(f.name, "identical" if not out else f"{len(out)} differences")
    for o in out[:15]:
        print("   ", o)
sys.exit(1 if differ else 0)
