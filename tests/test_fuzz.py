"""Property-based fuzzing of every input callscan parses (issue 16).

Any input, however malformed, must end in a result or a :class:`~callscan.errors.CallscanError`
with a one-line message, within a time bound per example (Hypothesis ``deadline``) and without
the process growing by more than :data:`MAX_GROWTH_MB`. Inputs: the transcript parser (text and
JSON), the data-file loaders (playbook, lexicon, roles, opening and team profiles, through
:func:`callscan.config.validate_file`), the audio loader (bytes written as .wav / .mp3 / .flac)
and ``rescore`` (report JSON with random parts replaced).

Bounded for CI: :data:`EXAMPLES` examples per test (about half a minute in all); set
``CALLSCAN_FUZZ_EXAMPLES`` for a longer run. Nothing is stored between runs (``database=None``).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import resource
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callscan.config import KINDS, clear_cache, validate_file
from callscan.errors import CallscanError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("CALLSCAN_FUZZ_EXAMPLES", "150"))
MAX_GROWTH_MB = 800  # resident memory a whole fuzz test may add
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=10_000,  # ms per example: generous on a shared CI machine, far below a hang
    database=None,
    derandomize="CALLSCAN_FUZZ_EXAMPLES" not in os.environ,  # CI: the same examples each run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
COUNTS: dict[str, int] = {}


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(autouse=True)
def bounded_memory():
    before = max_rss_mb()
    yield
    assert max_rss_mb() - before < MAX_GROWTH_MB


def ends_well(name: str, func, *args, **kwargs):
    """Run ``func``: a result or a one-line CallscanError; anything else fails the test."""
    COUNTS[name] = COUNTS.get(name, 0) + 1
    try:
        return func(*args, **kwargs)
    except CallscanError as e:
        message = str(e)
        assert message and "\n" not in message, repr(message)
        assert "Traceback" not in message
        return None


# ---- strategies ----------------------------------------------------------------------------

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 1e12, 1e308, 86400, 86400.5, 0.5]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
roles = st.sampled_from(["agent", "caller", "unknown", "boss", "", 3])
turn = st.fixed_dictionaries(
    {"text": st.one_of(st.text(max_size=60), scalars)},
    optional={
        "role": roles,
        "speaker": scalars,
        "channel": st.one_of(st.none(), st.integers(-2, 10), scalars),
        "start_s": numbers,
        "end_s": numbers,
        "words": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"text": scalars, "start_s": numbers, "end_s": numbers},
                    optional={"probability": numbers},
                ),
                max_size=3,
            ),
            scalars,
        ),
        "extra": scalars,
    },
)
segment = st.fixed_dictionaries(
    {"start_s": numbers, "end_s": numbers, "text": st.one_of(st.text(max_size=40), scalars)},
    optional={"channel": st.integers(-1, 9), "id": numbers, "avg_logprob": numbers},
)
transcript_json = st.one_of(
    st.builds(
        lambda ts, lang: {"language": lang, "turns": ts}, st.lists(turn, max_size=8), scalars
    ),
    st.builds(
        lambda ss: {"language": "id", "segments": ss, "duration_s": 10.0},
        st.lists(segment, max_size=6),
    ),
    st.builds(lambda c: {"conversation": c}, json_values),
    json_values,
)
labels = st.sampled_from(["agent:", "caller:", "A:", "C:", "pelanggan:", "#", "", "\ufeff"])
transcript_text = st.one_of(
    st.lists(st.tuples(labels, st.text(max_size=40)), max_size=12).map(
        lambda lines: "\n".join(f"{a} {b}" for a, b in lines)
    ),
    st.text(max_size=300),
)


def _mutate(data, path_choices, value):
    """``data`` with the node at one path (chosen by index) replaced by ``value``."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in list(node.items())[:40]:
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node[:10]):
                walk(v, (*path, i))

    walk(data, ())
    path = paths[path_choices % len(paths)]
    if not path:
        return value
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


# ---- transcripts ---------------------------------------------------------------------------


@FUZZ
@given(text=transcript_text)
def test_fuzz_text_transcripts(tmp_path_factory, text):
    from callscan.conversation import load
    from callscan.pipeline import analyze_conversation

    path = tmp_path_factory.mktemp("t") / "call.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    conv = ends_well("text transcript", load, path)
    if conv is not None:
        ends_well("text transcript", analyze_conversation, conv)


@FUZZ
@given(data=transcript_json, raw=st.booleans())
def test_fuzz_json_transcripts(tmp_path_factory, data, raw):
    from callscan.conversation import load
    from callscan.pipeline import analyze

    path = tmp_path_factory.mktemp("j") / "call.json"
    text = json.dumps(data, allow_nan=True)  # NaN / Infinity tokens as a careless writer would
    if raw:  # truncated or doubled: broken JSON too
        text = text[: len(text) // 2] if len(text) > 2 else text + text
    path.write_text(text, encoding="utf-8")
    conv = ends_well("JSON transcript", load, path)
    if conv is not None:
        report = ends_well("JSON transcript", analyze, path)
        if report is not None:
            json.dumps(report, allow_nan=False)  # never NaN / Infinity in a report


# ---- data files ----------------------------------------------------------------------------

BUNDLED = {
    "playbook": "playbook_id.yaml",
    "lexicon": "vak_id.yaml",
    "roles": "roles.yaml",
    "opening_profile": "opening_profile.yaml",
    "profile": "profile_example.yaml",
}
yaml_values = st.recursive(
    st.one_of(
        scalars,
        st.sampled_from(["(a+)+$", "[", "<NOPE>", "*", ".nan", "&x", "{", "(?P<name>\\w+)"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@functools.cache
def bundled_data() -> dict:
    return {
        kind: yaml.safe_load((ROOT / "models" / name).read_text(encoding="utf-8"))
        for kind, name in BUNDLED.items()
    }


@FUZZ
@given(
    kind=st.sampled_from(sorted(BUNDLED)),
    where=st.integers(0, 10_000),
    value=yaml_values,
    raw=st.one_of(st.none(), st.text(max_size=200), st.binary(max_size=200)),
)
def test_fuzz_data_files(tmp_path_factory, kind, where, value, raw):
    assert {k.name for k in KINDS} == set(BUNDLED)
    path = tmp_path_factory.mktemp("y") / f"{kind}.yaml"
    if raw is None:  # a real file with one part replaced
        data = _mutate(bundled_data()[kind], where, value)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    elif isinstance(raw, bytes):
        path.write_bytes(raw)
    else:
        path.write_text(raw, encoding="utf-8", errors="surrogatepass")
    clear_cache()
    ends_well(f"{kind} file", validate_file, path, kind)
    ends_well(f"{kind} file", validate_file, path)  # the kind told from the keys


# ---- audio ---------------------------------------------------------------------------------


def _wav_header(n_bytes: int, fmt: int, channels: int, rate: int, bits: int) -> bytes:
    import struct

    block = max(1, channels * bits // 8)
    byte_rate = (rate * block) & 0xFFFFFFFF
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, byte_rate, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + n_bytes)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt_chunk
        + b"data"
        + struct.pack("<I", n_bytes)
    )


@FUZZ
@given(
    suffix=st.sampled_from([".wav", ".mp3", ".flac"]),
    header=st.booleans(),
    fmt=st.sampled_from([1, 3, 6, 7, 0x55, 0xFFFE, 0]),
    channels=st.integers(0, 4),
    rate=st.sampled_from([0, 1, 8000, 16000, 44100, 10**9]),
    bits=st.sampled_from([0, 8, 16, 24, 32, 64]),
    body=st.binary(max_size=4000),
)
def test_fuzz_audio_files(tmp_path_factory, suffix, header, fmt, channels, rate, bits, body):
    from callscan.audio.decode import load

    path = tmp_path_factory.mktemp("a") / f"call{suffix}"
    data = _wav_header(len(body), fmt, channels, rate, bits) + body if header else body
    path.write_bytes(data)
    audio = ends_well("audio file", load, path, max_duration_s=600.0)
    if audio is not None:
        assert audio.y.ndim == 2 and audio.y.shape[0] in (1, 2)
        assert float(abs(audio.y).max()) <= 2.5  # scaled down when far beyond full scale


# ---- rescore -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored_report(tmp_path_factory) -> dict:
    from callscan.pipeline import analyze

    call = tmp_path_factory.mktemp("r") / "call.json"
    turns = [
        {"role": "agent", "start_s": 0.0, "end_s": 3.0, "text": "Selamat pagi, dengan Rina."},
        {"role": "caller", "start_s": 3.5, "end_s": 6.0, "text": "Pesanan saya belum sampai."},
        {"role": "agent", "start_s": 6.5, "end_s": 9.0, "text": "Mohon maaf, saya cek dulu."},
    ]
    call.write_text(json.dumps({"language": "id", "turns": turns}), encoding="utf-8")
    return analyze(call)


@FUZZ
@given(where=st.integers(0, 10_000), value=json_values)
def test_fuzz_rescore(tmp_path_factory, stored_report, where, value):
    from callscan.pipeline import rescore

    path = tmp_path_factory.mktemp("s") / "call.callscan.json"
    data = _mutate(stored_report, where, value)
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
    result = ends_well("rescore", rescore, path)
    if result is not None:
        json.dumps(result, allow_nan=False)


def test_fuzz_counts_reported():
    """Every fuzz target really ran its examples (printed with ``-s``; runs after them)."""
    print("fuzz examples:", dict(sorted(COUNTS.items())))
    targets = {"text transcript", "JSON transcript", "audio file", "rescore"}
    assert targets <= set(COUNTS), COUNTS
    assert all(COUNTS[t] >= min(EXAMPLES, 50) for t in targets), COUNTS
    files = {k: n for k, n in COUNTS.items() if k.endswith(" file") and k != "audio file"}
    assert len(files) == 5 and sum(files.values()) >= min(EXAMPLES, 50), COUNTS
