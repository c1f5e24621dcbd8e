"""Data files of the analysis models (``models/`` in the repository, ``callscan.models`` installed).

Each file can be overridden by a file of the same name in the folder named by
``$CALLSCAN_MODELS_DIR``, or replaced by an explicit path where a command takes one
(``--playbook FILE``). Files are YAML (JSON is YAML too), read by :mod:`callscan.config` and
parsed once per file and modification time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from callscan.config import read_yaml
from callscan.errors import ConfigError


def data_path(name: str) -> Path | None:
    """Where ``name`` is read from: the user override if present, else the bundled file."""
    override = os.environ.get("CALLSCAN_MODELS_DIR")
    if override and (Path(override) / name).is_file():
        return Path(override) / name
    bundled = resources.files("callscan.models") / name
    return Path(str(bundled)) if bundled.is_file() else None


def load_yaml(path: str | Path) -> dict:
    """Parse a YAML data file, with a one-line :class:`ConfigError` naming the file on failure.

    Same as :func:`callscan.config.read_yaml`.
    """
    return read_yaml(path)


def load_data(name: str) -> dict:
    """Parse the data file ``name`` (override or bundled)."""
    path = data_path(name)
    if path is None:
        raise ConfigError(f"'{name}': no such data file in callscan.models")
    return read_yaml(path)


@lru_cache(maxsize=16)
def read_asset(name: str) -> str:
    """The text of a page asset shipped in ``callscan.models`` (CSS, JavaScript, a template),
    read once per process (the reports and the dashboard inline them)."""
    path = data_path(name)
    if path is None:
        raise ConfigError(f"'{name}': missing from callscan.models (broken installation)")
    return path.read_text(encoding="utf-8")
