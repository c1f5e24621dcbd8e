"""Per-call reports: validate the JSON against its schema, render HTML or Markdown, write files.

A report is the dictionary :func:`callscan.pipeline.analyze` returns. Its JSON is versioned
(``schema_version``; the JSON Schema is ``models/report.schema.json``) and keeps the whole
conversation, so :func:`render` can redraw any page from a stored report without the audio::

    from callscan import report
    data = report.load_report("call.callscan.json")
    html = report.render(data, "html", report.ReportOptions(audience="agent"))

Renderers (a registry, like the transcript writers): ``json``, ``html``
(:mod:`callscan.report.html`), ``md`` (:mod:`callscan.report.md`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from callscan.errors import CallscanError
from callscan.report.data import clock, duration_s, overall, roles
from callscan.util import atomic_write

SCHEMA_FILE = "report.schema.json"  # in callscan.models
FORMATS = ("json", "html", "md")  # what render() and write_reports() produce
AUDIENCES = ("supervisor", "agent")
SUFFIX = ".callscan"  # NAME.callscan.json, NAME.callscan.html, NAME.callscan.md
EMBED_SR = 16000  # Hz, embedded audio is re-encoded to this rate, mono
EMBED_FORMAT = "FLAC"  # lossless and about half the size of 16-bit WAV; all browsers play it


class ReportError(CallscanError):
    """A report does not match its schema, or cannot be read or written."""


@dataclass(frozen=True)
class ReportOptions:
    """How a report is rendered."""

    audience: str = (
        "supervisor"  # "supervisor" (every finding) or "agent" (self-review, tips first)
    )
    audio_uri: str | None = (
        None  # data: URI of the call's audio for the HTML player (audio_data_uri)
    )


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The report's JSON Schema (draft 2020-12), from ``models/report.schema.json``."""
    from callscan.resources import data_path

    path = data_path(SCHEMA_FILE)
    if path is None:
        raise ReportError(f"'{SCHEMA_FILE}': missing from callscan.models (broken installation)")
    return json.loads(path.read_text(encoding="utf-8"))


def validation_errors(report: dict) -> list[str]:
    """Every place where ``report`` breaks the schema, as ``$.json.path: message`` lines."""
    try:
        import jsonschema
    except ImportError:  # a test/extra dependency: a report can be rendered without it
        raise ReportError("validating a report needs jsonschema: pip install jsonschema") from None
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{e.json_path}: {e.message[:200]}" for e in errors]


def validate(report: dict) -> None:
    """Raise :class:`ReportError` naming the first mismatch when ``report`` breaks the schema."""
    if not isinstance(report, dict):
        raise ReportError("a report must be a JSON object")
    errors = validation_errors(report)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReportError(f"report does not match {SCHEMA_FILE}: {errors[0]}{more}")


def load_report(path: str | Path) -> dict:
    """Read and validate a stored report JSON (``NAME.callscan.json``)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ReportError(f"'{p}': cannot read ({e.strerror})") from e
    except ValueError as e:
        raise ReportError(f"'{p}': invalid JSON ({e})") from e
    try:
        validate(data)
    except ReportError as e:
        raise ReportError(f"'{p}': {e}") from None
    return data


def render_json(report: dict, options: ReportOptions | None = None) -> str:
    """The report as indented UTF-8 JSON (strict: NaN and Infinity are never written).

    Raises
    ------
    ReportError
        A number in the report is NaN or infinite (one line).
    """
    try:
        return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    except ValueError as e:
        raise ReportError(f"the report holds a number JSON cannot carry ({e})") from e


def _render_html(report: dict, options: ReportOptions | None = None) -> str:
    from callscan.report.html import render_html

    options = options or ReportOptions()
    return render_html(report, audience=options.audience, audio_uri=options.audio_uri)


def _render_md(report: dict, options: ReportOptions | None = None) -> str:
    from callscan.report.md import render_md

    return render_md(report, audience=(options or ReportOptions()).audience)


RENDERERS: dict[str, Callable[[dict, ReportOptions | None], str]] = {
    "json": render_json,
    "html": _render_html,
    "md": _render_md,
}


def get_renderer(fmt: str) -> Callable[[dict, ReportOptions | None], str]:
    """The renderer for ``fmt``; raises :class:`ReportError` naming the valid choices."""
    try:
        return RENDERERS[fmt]
    except KeyError:
        raise ReportError(
            f"unknown report format '{fmt}' (choose from: {', '.join(RENDERERS)})"
        ) from None


def render(report: dict, fmt: str = "html", options: ReportOptions | None = None) -> str:
    """Render ``report`` as ``fmt`` ("json", "html" or "md")."""
    options = options or ReportOptions()
    if options.audience not in AUDIENCES:
        raise ReportError(
            f"unknown audience '{options.audience}' (choose from: {', '.join(AUDIENCES)})"
        )
    return get_renderer(fmt)(report, options)


def report_stem(call: str | Path) -> str:
    """The name a call's reports start with: its file name without the file-type suffix.

    Only a last suffix that names a file type (it starts with a letter: ``.wav``, ``.txt``,
    ``.json``) is removed, then ``.callscan`` for a stored report, so no part of a name is lost:
    ``call.2024.01.30.wav`` gives ``call.2024.01.30`` and ``x.callscan.json`` gives ``x``.

    Examples
    --------
    >>> report_stem("2024.11/A01_x.wav"), report_stem("call.2024.01.30"), report_stem("r.callscan.json")
    ('A01_x', 'call.2024.01.30', 'r')
    """
    name = Path(call).name
    for suffix in (Path(name).suffix, SUFFIX):
        if len(suffix) > 1 and suffix[1].isalpha() and name.endswith(suffix) and name != suffix:
            name = name[: -len(suffix)]
    return name


def report_paths(
    call: str | Path, formats, output_dir: str | Path | None = None, *, name: str | None = None
) -> dict:
    """Where each format of a call's report goes: ``{fmt: DIR/NAME.callscan.fmt}``.

    ``DIR`` is ``output_dir`` or the call's own folder; ``NAME`` is ``name`` when given (a batch
    gives each call a unique one), else :func:`report_stem` of the call's file name.
    """
    p = Path(call)
    stem = report_stem(p) if name is None else name
    folder = Path(output_dir) if output_dir is not None else p.parent
    return {fmt: folder / f"{stem}{SUFFIX}.{fmt}" for fmt in formats}


def write_reports(report: dict, paths: dict, options: ReportOptions | None = None) -> list[Path]:
    """Render and write each ``{fmt: path}`` (atomically: a ``.part`` file, then renamed)."""
    written = []
    for fmt, path in paths.items():
        text = render(report, fmt, options)
        path = Path(path)
        try:
            atomic_write(path, text)
        except OSError as e:
            raise ReportError(f"'{path}': cannot write ({e.strerror})") from e
        written.append(path)
    return written


def audio_data_uri(
    path: str | Path, *, sr: int = EMBED_SR, max_duration_s: float = 4 * 3600.0
) -> str:
    """The call's audio as a ``data:audio/flac;base64,...`` URI for the HTML player.

    Decoded with :func:`callscan.audio.decode.load`, mixed to mono, resampled to ``sr`` and encoded as
    16-bit FLAC (about 1 MB per minute at 16 kHz; base64 adds a third).
    """
    import base64
    import io

    import numpy as np
    import soundfile as sf

    from callscan.audio.decode import load

    recording = load(str(path), max_duration_s=max_duration_s)
    y = recording.mono()
    if recording.sr != sr:
        import soxr

        y = soxr.resample(y, recording.sr, sr)
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1.0, 1.0), sr, format=EMBED_FORMAT, subtype="PCM_16")
    return "data:audio/flac;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def summary(report: dict) -> list[tuple[str, str]]:
    """A few ``(label, value)`` lines for a terminal: duration, roles and the headline scores."""
    ov = overall(report)
    r = roles(report)
    dur = duration_s(report)

    def num(x, suffix=""):
        return "-" if x is None else f"{x:.0f}{suffix}"

    conf = "" if r["confidence"] is None else f" (role confidence {100 * r['confidence']:.0f}%)"
    lines = [
        ("call", f"{Path(str(report.get('source', ''))).name}, {clock(dur) or '-'}, "
                 f"{report.get('language')}, {ov['call_type']}"),
        ("roles", f"agent {r['agent'] or '-'}, caller {r['caller'] or '-'}{conf}"),
        ("opening", f"tone {num(ov['tone'])}, clarity {num(ov['clarity'])}"),
        ("stages", f"{num(ov['stages_percent'], '%')} of the scorecard"),
        ("conduct", f"{ov['conduct_failed']} of {ov['conduct_checked']} rules failed"),
        ("caller modality", f"{ov['caller_modality'] or '-'}"),
    ]  # fmt: skip
    from callscan.report.tips import top_tips

    for i, tip in enumerate(top_tips(report), 1):
        lines.append((f"tip {i}", tip.text))
    return lines
