"""Data files of the analysis models (``models/`` in the repository, ``callscan.models`` installed).

Each file can be overridden by a file of the same name in the folder named by
``$CALLSCAN_MODELS_DIR``, or replaced by an explicit path where a command takes one
(``--playbook FILE``). Files are YAML (JSON is YAML too) and parsed once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from callscan.errors import ConfigError


def data_path(name: str) -> Path | None:
    """Where ``name`` is read from: the user override if present, else the bundled file."""
    override = os.environ.get("CALLSCAN_MODELS_DIR")
    if override and (Path(override) / name).is_file():
        return Path(override) / name
    bundled = resources.files("callscan.models") / name
    return Path(str(bundled)) if bundled.is_file() else None


@lru_cache(maxsize=64)
def _parse(path: str, mtime_ns: int) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"'{path}':{where}: invalid YAML ({getattr(e, 'problem', e)})") from e
    except OSError as e:
        raise ConfigError(f"'{path}': cannot read ({e.strerror})") from e
    if not isinstance(data, dict):
        raise ConfigError(f"'{path}': the top level must be a mapping of keys")
    return data


def load_yaml(path: str | Path) -> dict:
    """Parse a YAML data file, with a one-line :class:`ConfigError` naming the file on failure."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"'{path}': no such file")
    return _parse(str(p), p.stat().st_mtime_ns)


def load_data(name: str) -> dict:
    """Parse the data file ``name`` (override or bundled)."""
    path = data_path(name)
    if path is None:
        raise ConfigError(f"'{name}': no such data file in callscan.models")
    return load_yaml(path)
