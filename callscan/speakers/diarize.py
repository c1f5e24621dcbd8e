"""Who spoke when on a mono call: speaker embeddings of short windows, spectral clustering.

1. Speech regions come from :func:`callscan.audio.vad.speech_regions` (silero-vad).
2. Each region is cut into windows of ``window_s`` (hop ``step_s``); each window gets a
   256-d speaker embedding from Resemblyzer's GE2E voice encoder (a 3-layer LSTM on 40 mel
   bands). The weights (``pretrained.pt``, 17 MB, Apache-2.0) ship inside the ``resemblyzer``
   wheel; callscan reads them from there without importing that package (which would import
   ``webrtcvad``), so nothing is downloaded and only torch and librosa are needed.
3. Windows are clustered into ``n_speakers`` groups by spectral clustering on their cosine
   affinity (each row pruned to its nearest neighbours, then symmetrised). On the real
   two-speaker telephone clip ``tests/data/sample.wav`` average-linkage agglomerative
   clustering merged everyone into one speaker; spectral clustering separates them.
4. Every 10 ms frame of speech takes the label of the windows that cover it (majority of
   their votes).
5. A recording with one voice only (a voicemail, one party recorded) is not split: when
   the two clusters are alike (their centroids' cosine at least ``one_voice_min_cos``) and
   the affinity graph has no clear cut (the second-smallest eigenvalue of its normalised
   Laplacian at least ``one_voice_min_gap``; two speakers give a value near 0), every
   window is speaker ``S1`` (:func:`one_voice`).
6. Short regions (one-word replies) whose pitch clearly belongs to another speaker go to
   that speaker (:func:`relabel_short_by_pitch`); runs of one label become
   :class:`SpeakerRegion` s.

:func:`der` scores a hypothesis against a reference (RTTM) with the standard diarization
error rate.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from callscan.errors import CallscanError, ModelError

__all__ = [
    "DerResult",
    "DiarizeOptions",
    "SpeakerRegion",
    "der",
    "diarize",
    "load_encoder",
    "one_voice",
    "read_rttm",
]

logger = logging.getLogger("callscan")

SAMPLE_RATE = 16000  # Hz
MEL_WINDOW_S = 0.025  # s, the encoder's mel frame (hparams.mel_window_length)
MEL_HOP_S = 0.010  # s, the encoder's mel hop (hparams.mel_window_step)
N_MELS = 40  # mel bands the encoder was trained on
NORM_DBFS = -30.0  # dBFS, the encoder's training loudness (quieter audio is raised to it)
FRAME_S = 0.01  # s, time step of label voting and of DER scoring (and of the F0 track)
MIN_PITCH_FRAMES = 100  # voiced frames (1 s) needed to know a speaker's median pitch
MIN_REGION_PITCH_FRAMES = 10  # voiced frames (0.1 s) needed to place a short region


@dataclass(frozen=True)
class DiarizeOptions:
    """How a mono call is split into speakers."""

    n_speakers: int = 2  # speakers to find (a call: agent and caller)
    window_s: float = 1.5  # s, audio per embedding
    step_s: float = 0.75  # s, hop between windows
    min_window_s: float = 0.5  # s, a region shorter than this is labelled by its neighbours
    pitch_check: bool = True  # short regions go to the speaker whose pitch they have
    relabel_min_s: float = 0.3  # s, shortest region the pitch check looks at
    pitch_min_gap_st: float = 3.0  # semitones between speakers' median F0 for the check to act
    pitch_margin_st: float = 2.0  # semitones by which the other speaker must be nearer
    pitch_max_st: float = 4.0  # semitones from the speaker's median a short region may lie
    # a short region whose own embedding window is this much nearer (cosine) its cluster's
    # centroid than the other's is left where the embeddings put it: on the real bank calls
    # mixed to mono the pitch check moved such regions (margins 0.22-0.24) and was wrong each
    # time, where the right moves had no window of their own or a margin of 0.04
    pitch_max_margin: float = 0.1
    neighbours: int = 0  # affinity rows keep this many nearest windows; 0 = about 30% of them
    seed: int = 0  # k-means seed, so a call always gets the same labels
    # one voice only (two speakers asked): both tests must hold; measured on real speech,
    # two-voice calls reach at most 0.196 (gap) and 0.900 (cos), see tests/test_diarize.py
    one_voice_min_gap: float = 0.25  # Laplacian's 2nd eigenvalue at least this: no clear cut
    one_voice_min_cos: float = 0.85  # the two clusters' centroids at least this alike


@dataclass(frozen=True)
class SpeakerRegion:
    """A stretch of one speaker's speech."""

    start_s: float  # start time in the file
    end_s: float  # end time in the file
    speaker: str  # "S1", "S2", ... numbered by first appearance

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "speaker": self.speaker,
        }


def _weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")  # finds the folder, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "mono diarization needs the resemblyzer voice encoder: "
            "pip install --no-deps resemblyzer==0.1.4"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(f"'{path}': resemblyzer's voice encoder weights are missing")
    return path


def load_encoder(weights_path: str | Path | None = None):
    """Load the GE2E speaker encoder (Resemblyzer's weights) as a small torch module.

    Parameters
    ----------
    weights_path : str or Path, optional
        A ``pretrained.pt`` with ``model_state``; default: the one in the installed
        ``resemblyzer`` wheel.

    Returns
    -------
    torch.nn.Module
        ``encoder(mels)`` maps (batch, frames, 40) mel power to (batch, 256) unit vectors.
    """
    import torch
    from torch import nn

    class SpeakerEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            e = torch.relu(self.linear(hidden[-1]))
            return e / torch.norm(e, dim=1, keepdim=True).clamp_min(1e-8)

    path = Path(weights_path) if weights_path else _weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    except Exception as e:  # unreadable, not a checkpoint, wrong keys
        raise ModelError(f"'{path}': not a voice encoder checkpoint ({e})") from e
    encoder = SpeakerEncoder()
    wanted = {k: v for k, v in state.items() if k.split(".")[0] in ("lstm", "linear")}
    encoder.load_state_dict(wanted)
    return encoder.eval()


def mel_spectrogram(y: np.ndarray) -> np.ndarray:
    """Mel power spectrogram as the encoder expects it: shape (frames, 40), float32.

    librosa.feature.melspectrogram's defaults (centred frames zero-padded, periodic Hann
    window, power 2, Slaney mel filters) in plain numpy: importing librosa.feature costs
    about 1.2 s per process, paid by every single-call run (tests/test_diarize.py checks the
    two agree)."""
    n_fft = int(SAMPLE_RATE * MEL_WINDOW_S)
    hop = int(SAMPLE_RATE * MEL_HOP_S)
    padded = np.pad(np.asarray(y, dtype=np.float32), n_fft // 2)
    n = 1 + max(0, padded.size - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ mel_filters(SAMPLE_RATE, n_fft, N_MELS).T).astype(np.float32)


def mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-style mel filterbank (librosa.filters.mel's defaults: 0 Hz to sr/2, Slaney mel
    scale, area-normalised), shape (n_mels, 1 + n_fft // 2)."""

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        lin = m * (200.0 / 3)
        log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log, lin)

    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    gaps = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / gaps[:-1, None]
    upper = ramps[2:] / gaps[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype(np.float32)


def _windows(regions, duration_s: float, options: DiarizeOptions) -> list[tuple[float, float]]:
    """Embedding windows (start_s, end_s) covering each speech region."""
    out = []
    for r in regions:
        length = r.end_s - r.start_s
        if length < options.min_window_s:
            continue
        if length <= options.window_s:  # a short region: one window centred on it
            mid = (r.start_s + r.end_s) / 2
            a = max(0.0, min(mid - options.window_s / 2, duration_s - options.window_s))
            out.append((a, min(duration_s, a + options.window_s)))
            continue
        n = int(np.ceil((length - options.window_s) / options.step_s)) + 1
        starts = np.linspace(r.start_s, r.end_s - options.window_s, n)
        out += [(float(a), float(a + options.window_s)) for a in starts]
    return out


def embed(y: np.ndarray, windows: list[tuple[float, float]], encoder) -> np.ndarray:
    """Speaker embeddings of windows of a 16 kHz signal: shape (n_windows, 256)."""
    import torch

    peak_rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-12)
    gain = max(1.0, 10 ** (NORM_DBFS / 20) / peak_rms)  # raise quiet calls, never lower
    mel = mel_spectrogram(np.asarray(y, dtype=np.float32) * gain)
    n = int(round(windows[0][1] - windows[0][0], 3) / MEL_HOP_S) if windows else 0
    batch = []
    for a, _ in windows:
        i = int(round(a / MEL_HOP_S))
        chunk = mel[i : i + n]
        if chunk.shape[0] < n:
            chunk = np.pad(chunk, ((0, n - chunk.shape[0]), (0, 0)))
        batch.append(chunk)
    if not batch:
        return np.zeros((0, 256), dtype=np.float32)
    with torch.no_grad():
        return encoder(torch.from_numpy(np.stack(batch))).numpy()


def _laplacian(x: np.ndarray, neighbours: int = 0) -> np.ndarray:
    """Normalised Laplacian of the pruned, symmetrised cosine affinity of ``x`` (n, d)."""
    n = x.shape[0]
    a = np.clip(x @ x.T, 0.0, 1.0)
    k = neighbours or max(2, int(round(0.3 * n)))
    keep = np.argsort(-a, axis=1)[:, : min(n, k + 1)]
    pruned = np.zeros_like(a)
    rows = np.arange(n)[:, None]
    pruned[rows, keep] = a[rows, keep]
    a = (pruned + pruned.T) / 2
    d = a.sum(axis=1)
    d_inv = 1.0 / np.sqrt(np.maximum(d, 1e-10))
    return np.asarray(np.eye(n) - d_inv[:, None] * a * d_inv[None, :])


def spectral_labels(x: np.ndarray, n_speakers: int, *, neighbours: int = 0, seed: int = 0):
    """Cluster unit-norm embeddings ``x`` (n, d) into ``n_speakers`` by spectral clustering.

    The cosine affinity keeps each row's ``neighbours`` largest values (default about 30% of
    the windows), is symmetrised, and the ``n_speakers`` smallest eigenvectors of its
    normalised Laplacian are grouped by k-means.
    """
    return _spectral(x, n_speakers, neighbours=neighbours, seed=seed)[0]


def _spectral(
    x: np.ndarray, n_speakers: int, *, neighbours: int = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`spectral_labels` and the Laplacian's eigenvalues (ascending)."""
    from scipy.cluster.vq import kmeans2

    n = x.shape[0]
    if n <= n_speakers:
        return np.arange(n), np.zeros(n)
    values, vecs = np.linalg.eigh(_laplacian(x, neighbours))
    v = vecs[:, :n_speakers]
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-10)
    best, best_inertia = np.zeros(n, dtype=np.int64), np.inf
    for s in range(10):  # k-means restarts; keep the tightest
        rng = np.random.default_rng(seed + s)
        with warnings.catch_warnings():  # an empty cluster is just a worse restart
            warnings.simplefilter("ignore")
            start = v[rng.choice(n, n_speakers, replace=False)]
            centroids, labels = kmeans2(v, start, minit="matrix")
        inertia = float(((v - centroids[labels]) ** 2).sum())
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best, values


def one_voice(
    x: np.ndarray,
    labels: np.ndarray,
    eigenvalues: np.ndarray,
    options: DiarizeOptions | None = None,
) -> tuple[bool, float, float]:
    """Whether a two-cluster split of embeddings ``x`` is one voice cut in two.

    Spectral clustering always finds two groups. On one voice the cut is weak (the
    second-smallest Laplacian eigenvalue stays well above 0) and the groups' centroids stay
    alike; two real voices give a clean cut (eigenvalue near 0) or distinct centroids.

    Returns
    -------
    (bool, float, float)
        One voice; the eigenvalue gap; the centroids' cosine.
    """
    options = options or DiarizeOptions()
    if x.shape[0] < 3 or eigenvalues.size < 2 or len(set(labels.tolist())) < 2:
        return False, 0.0, 0.0
    centroids = [x[labels == k].mean(axis=0) for k in sorted(set(labels.tolist()))[:2]]
    c0, c1 = (c / max(float(np.linalg.norm(c)), 1e-10) for c in centroids)
    cos, gap = float(c0 @ c1), float(eigenvalues[1])
    alone = gap >= options.one_voice_min_gap and cos >= options.one_voice_min_cos
    return alone, gap, cos


def _label_frames(windows, labels, regions, n_frames: int, n_speakers: int) -> np.ndarray:
    """Per 10 ms frame: the winning speaker index inside speech, -1 outside."""
    votes = np.zeros((n_speakers, n_frames), dtype=np.float32)
    for (a, b), lab in zip(windows, labels, strict=True):
        i, j = int(a / FRAME_S), int(np.ceil(b / FRAME_S))
        centre = (i + j) / 2
        span = np.arange(i, min(j, n_frames))
        votes[lab, span] += 1.0 - np.abs(span - centre) / (j - i)  # centre of a window counts most
    out = np.full(n_frames, -1, dtype=np.int64)
    for r in regions:
        i, j = int(r.start_s / FRAME_S), min(n_frames, int(np.ceil(r.end_s / FRAME_S)))
        if j <= i:
            continue
        v = votes[:, i:j]
        if v.sum() == 0:  # a region no window reached: take the nearest voted frame's label
            voted = np.flatnonzero(votes.sum(axis=0) > 0)
            if voted.size:
                k = voted[np.argmin(np.abs(voted - (i + j) // 2))]
                out[i:j] = int(np.argmax(votes[:, k]))
            continue
        out[i:j] = np.argmax(v, axis=0)
    return out


def _frames_to_regions(frame_labels: np.ndarray) -> list[SpeakerRegion]:
    regions: list[SpeakerRegion] = []
    names: dict[int, str] = {}
    start = 0
    for i in range(1, frame_labels.size + 1):
        if i == frame_labels.size or frame_labels[i] != frame_labels[start]:
            lab = int(frame_labels[start])
            if lab >= 0:
                name = names.setdefault(lab, f"S{len(names) + 1}")
                regions.append(
                    SpeakerRegion(round(start * FRAME_S, 3), round(i * FRAME_S, 3), name)
                )
            start = i
    return regions


def diarize(
    y: np.ndarray, regions, options: DiarizeOptions | None = None, *, encoder=None
) -> list[SpeakerRegion]:
    """Label the speech regions of a mono 16 kHz signal with speakers.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape (n_samples,), 16 kHz.
    regions : list of callscan.audio.vad.Region
        Its speech (from :func:`callscan.audio.vad.speech_regions`).
    options : DiarizeOptions, optional
        Speaker count and windowing.
    encoder : optional
        A model from :func:`load_encoder`; loaded here when omitted.

    Returns
    -------
    list of SpeakerRegion
        Time-ordered, not overlapping; speakers named ``S1``, ``S2``, ... by first appearance.
    """
    options = options or DiarizeOptions()
    if options.n_speakers < 1:
        raise CallscanError(f"the number of speakers must be 1 or more, got {options.n_speakers}")
    duration_s = y.size / SAMPLE_RATE
    n_frames = int(np.ceil(duration_s / FRAME_S))
    windows = _windows(regions, duration_s, options)
    if not windows:
        return []
    if options.n_speakers == 1:
        labels = np.zeros(len(windows), dtype=np.int64)
    else:
        encoder = encoder if encoder is not None else load_encoder()
        x = embed(y, windows, encoder)
        labels, values = _spectral(
            x, options.n_speakers, neighbours=options.neighbours, seed=options.seed
        )
        if options.n_speakers == 2:
            alone, gap, cos = one_voice(x, labels, values, options)
            if alone:
                logger.debug("one voice only: eigenvalue gap %.3f, centroid cosine %.3f", gap, cos)
                labels = np.zeros(len(windows), dtype=np.int64)
    frames = _label_frames(windows, labels, regions, n_frames, max(options.n_speakers, 1))
    if options.n_speakers > 1 and options.pitch_check and labels.any():
        decided = _decided_by_embedding(x, labels, windows, regions, frames, options)
        relabel_short_by_pitch(frames, y, regions, options, decided=decided)
    return _frames_to_regions(frames)


def _decided_by_embedding(x, labels, windows, regions, frames, options: DiarizeOptions):
    """The short regions (``(start_s, end_s)``) whose own embedding window is at least
    ``options.pitch_max_margin`` nearer (cosine) the centroid of the cluster they were given
    than any other centroid: the embeddings decide those, not the pitch check."""
    found = sorted(set(labels.tolist()))
    centroids = np.stack([x[labels == k].mean(axis=0) for k in found])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-10)
    mids = np.array([(a + b) / 2 for a, b in windows])
    decided: set[tuple[float, float]] = set()
    for r in regions:
        if not options.relabel_min_s <= r.end_s - r.start_s < options.window_s:
            continue
        mid = (r.start_s + r.end_s) / 2
        inside = [k for k, (a, b) in enumerate(windows) if a <= r.start_s and r.end_s <= b]
        if not inside:  # labelled by its neighbours' windows: nothing of its own to go by
            continue
        k = min(inside, key=lambda k: abs(mids[k] - mid))
        i, j = int(r.start_s / FRAME_S), int(np.ceil(r.end_s / FRAME_S))
        given = frames[i:j][frames[i:j] >= 0]
        if given.size == 0:
            continue
        own = found.index(int(np.bincount(given).argmax()))
        sims = centroids @ x[k]
        margin = float(sims[own] - np.delete(sims, own).max())
        if margin >= options.pitch_max_margin:
            decided.add((r.start_s, r.end_s))
    return decided


def relabel_short_by_pitch(
    frames: np.ndarray,
    y: np.ndarray,
    regions,
    options: DiarizeOptions,
    *,
    decided: set[tuple[float, float]] | None = None,
):
    """Give short speech regions to the speaker whose pitch they have, in place.

    A region shorter than an embedding window (a one-word reply: "Baik.", "Pak.") is
    labelled by a window centred on it, which reaches into the neighbouring speech, and the
    embedding of its own half second of audio is too weak to tell two similar voices apart
    (cosine margins of 0.01-0.03 on the Indonesian samples). Pitch is robust on half a second:
    when the speakers' median F0 (over their longer regions) lie ``pitch_min_gap_st`` or more
    apart, a short region whose median F0 is nearer another speaker's by ``pitch_margin_st``
    or more (and lies within ``pitch_max_st`` of it) goes to that speaker. Speakers of similar
    pitch are left to the embeddings, and so are the regions in ``decided`` (``(start_s,
    end_s)``: those whose own embedding is clearly one speaker's, :func:`_decided_by_embedding`).
    """
    from callscan.audio.prosody import f0_track

    spans = [(r.start_s, r.end_s) for r in regions]
    track = f0_track(y, sr=SAMPLE_RATE, speech_spans=spans, two_pass=False)
    n = min(frames.size, track.f0_hz.size)
    semitones = np.full(frames.size, np.nan)
    voiced = track.voiced[:n]
    semitones[:n][voiced] = 12.0 * np.log2(track.f0_hz[:n][voiced] / 100.0)
    short = [r for r in regions if options.relabel_min_s <= r.end_s - r.start_s < options.window_s]
    decided = decided or set()
    left = [r for r in short if (r.start_s, r.end_s) not in decided]
    in_short = np.zeros(frames.size, dtype=bool)
    for r in short:
        in_short[int(r.start_s / FRAME_S) : int(np.ceil(r.end_s / FRAME_S))] = True
    median_list: list[float] = []
    for k in range(options.n_speakers):
        own = semitones[(frames == k) & ~in_short]
        own = own[np.isfinite(own)]
        if own.size < MIN_PITCH_FRAMES:
            return  # too little voiced speech to know this speaker's pitch
        median_list.append(float(np.median(own)))
    medians = np.array(median_list)
    gaps = np.abs(medians[:, None] - medians[None, :])[np.triu_indices(len(medians), 1)]
    if gaps.min() < options.pitch_min_gap_st:
        return
    for r in left:
        i, j = int(r.start_s / FRAME_S), int(np.ceil(r.end_s / FRAME_S))
        st = semitones[i:j]
        st = st[np.isfinite(st)]
        if st.size < MIN_REGION_PITCH_FRAMES:
            continue
        distance = np.abs(medians - float(np.median(st)))
        best = int(np.argmin(distance))
        others = np.delete(distance, best)
        if distance[best] > options.pitch_max_st:
            continue  # far from every speaker: an octave error or noise, not a voice
        if others.min() - distance[best] >= options.pitch_margin_st:
            speech = frames[i:j] >= 0
            frames[i:j][speech] = best


# ----------------------------------------------------------------------------- scoring


@dataclass
class DerResult:
    """Diarization error rate and its parts, in seconds of scored reference speech."""

    der: float  # (missed + false_alarm + confusion) / total
    missed_s: float  # reference speech with fewer hypothesis speakers
    false_alarm_s: float  # hypothesis speech beyond the reference speakers
    confusion_s: float  # speech given to the wrong (mapped) speaker
    total_s: float  # scored reference speech (speaker-seconds)
    mapping: dict[str, str] = field(default_factory=dict)  # hypothesis -> reference speaker

    def to_dict(self) -> dict[str, Any]:
        return {
            "der": round(self.der, 4),
            "missed_s": round(self.missed_s, 3),
            "false_alarm_s": round(self.false_alarm_s, 3),
            "confusion_s": round(self.confusion_s, 3),
            "total_s": round(self.total_s, 3),
            "mapping": dict(self.mapping),
        }


Segments = list[tuple[float, float, str]]


def read_rttm(path: str | Path) -> Segments:
    """Speaker turns of an RTTM file as (start_s, end_s, speaker), in file order."""
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CallscanError(f"'{path}': cannot read ({e.strerror})") from e
    for n, line in enumerate(lines, 1):
        f = line.split()
        if not f or f[0] != "SPEAKER":
            continue
        try:
            start, dur = float(f[3]), float(f[4])
        except (IndexError, ValueError) as e:
            raise CallscanError(f"'{path}' line {n}: not an RTTM SPEAKER line") from e
        out.append((start, start + dur, f[7]))
    return out


def _as_segments(x) -> Segments:
    if isinstance(x, (str, Path)):
        return read_rttm(x)
    out = []
    for s in x:
        if isinstance(s, SpeakerRegion):
            out.append((s.start_s, s.end_s, s.speaker))
        else:
            out.append((float(s[0]), float(s[1]), str(s[2])))
    return out


def _activity(segments: Segments, n: int) -> tuple[list[str], np.ndarray]:
    names = sorted({s[2] for s in segments})
    act = np.zeros((len(names), n), dtype=bool)
    for a, b, name in segments:
        act[names.index(name), int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    return names, act


def der(reference, hypothesis, collar_s: float = 0.25, skip_overlap: bool = False) -> DerResult:
    """Diarization error rate of ``hypothesis`` against ``reference`` (NIST definition).

    DER = (missed + false alarm + confusion) / total reference speech, counted per speaker
    on 10 ms frames: a frame with ``r`` reference and ``h`` hypothesis speakers of which
    ``c`` match under the mapping adds ``max(0, r - h)`` missed, ``max(0, h - r)`` false
    alarm and ``min(r, h) - c`` confusion. The one-to-one speaker mapping maximises matched
    time (Hungarian algorithm). Frames within ``collar_s`` of a reference boundary are not
    scored; with ``skip_overlap``, neither are frames where the reference has 2+ speakers.

    Parameters
    ----------
    reference, hypothesis : path of an RTTM file, or list of (start_s, end_s, speaker) / SpeakerRegion
        The two diarizations.
    collar_s : float
        Forgiveness around each reference boundary, in seconds on each side.
    skip_overlap : bool
        Leave out overlapped reference speech.
    """
    from scipy.optimize import linear_sum_assignment

    ref, hyp = _as_segments(reference), _as_segments(hypothesis)
    end_s = max([b for _, b, _ in ref + hyp] + [0.0])
    n = int(np.ceil(end_s / FRAME_S)) + 1
    ref_names, r = _activity(ref, n)
    hyp_names, h = _activity(hyp, n)
    scored = np.ones(n, dtype=bool)
    c = int(round(collar_s / FRAME_S))
    for a, b, _ in ref:
        for t in (a, b):
            i = int(round(t / FRAME_S))
            scored[max(0, i - c) : i + c] = False
    if skip_overlap:
        scored &= r.sum(axis=0) <= 1
    r, h = r[:, scored], h[:, scored]
    overlap = r.astype(np.int64) @ h.T.astype(np.int64)  # (n_ref, n_hyp) frames in common
    rows, cols = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    correct = int(sum(overlap[i, j] for i, j in zip(rows, cols, strict=True)))
    n_ref, n_hyp = r.sum(axis=0), h.sum(axis=0)
    missed = float(np.maximum(0, n_ref - n_hyp).sum())
    false_alarm = float(np.maximum(0, n_hyp - n_ref).sum())
    confusion = float(np.minimum(n_ref, n_hyp).sum() - correct)
    total = float(n_ref.sum())
    mapping = {hyp_names[j]: ref_names[i] for i, j in zip(rows, cols, strict=True)}
    return DerResult(
        der=(missed + false_alarm + confusion) / total if total else 0.0,
        missed_s=missed * FRAME_S,
        false_alarm_s=false_alarm * FRAME_S,
        confusion_s=confusion * FRAME_S,
        total_s=total * FRAME_S,
        mapping=mapping,
    )
