"""The wheel installs `cli/` as `callscan.cli` and `models/` as data inside callscan."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_under_the_callscan_namespace(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("callscan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "callscan/cli/app.py" in names
    assert "callscan/models/weights.yaml" in names
    assert "callscan/models/report_assets/report.js" in names
    assert "callscan/models/report.schema.json" in names
    assert not any(n.startswith(("cli/", "models/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    assert (site / "callscan" / "cli" / "app.py").is_file()
    assert not (site / "cli").exists(), "a top-level `cli` package landed in site-packages"
    assert not (site / "models").exists(), "a top-level `models` package landed in site-packages"

    # Run the installed console script; its third-party needs (typer, ...) come from this venv.
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"}
    help_out = subprocess.run(
        [env_dir / "bin" / "callscan", "--help"], capture_output=True, text=True, env=env
    )
    assert help_out.returncode == 0, help_out.stderr
    assert "transcribe" in help_out.stdout and "models" in help_out.stdout
    where = subprocess.run(
        [py, "-c", "import callscan.resources as r; print(r.data_path('weights.yaml'))"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the repository root, where ./callscan would shadow the install
    )
    assert where.stdout.strip() == str(site / "callscan" / "models" / "weights.yaml")
    module = subprocess.run(
        [py, "-m", "callscan", "--version"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert module.stdout.strip() == "callscan 0.1.0"
