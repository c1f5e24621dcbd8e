"""callscan.asr.lazy_numba: openai-whisper imported without numba (0.14 s of CPU on the model's
thread), numba imported at the first call of one of whisper's numba functions, with the same
result; a real transcription in a fresh process never imports it; numba imported before
whisper is left alone. Each case runs in a fresh interpreter (the imports are per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def fresh(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return done.stdout.split()


def test_whisper_imported_without_numba_and_its_dtw_compiled_on_first_call():
    out = fresh(
        "import sys, numpy as np\n"
        "from callscan import asr\n"
        "asr.import_engine()\n"
        "print('numba' in sys.modules, 'llvmlite' in sys.modules)\n"
        "import whisper.timing as wt\n"
        "from callscan.asr.dtw import dtw_numpy\n"
        "x = np.random.default_rng(0).random((30, 200)).astype(np.float32)\n"
        "print(bool(np.array_equal(wt.dtw_cpu(x), dtw_numpy(x))))\n"
        "import numba\n"
        "print(type(numba).__name__, type(wt.backtrace).__name__, hasattr(numba, 'njit'))\n"
    )
    assert out == ["False", "False", "True", "module", "CPUDispatcher", "True"]


def test_a_transcription_in_a_fresh_process_never_imports_numba():
    out = fresh(
        "import sys\n"
        "from callscan.pipeline import AnalyzeOptions, transcribe_recording\n"
        f"r = transcribe_recording({str(DATA / 'hvb_agent_0091_20s.flac')!r}, AnalyzeOptions())\n"
        "print(len(r.transcript.words()) > 20, 'numba' in sys.modules, 'llvmlite' in sys.modules)\n"
    )
    assert out == ["True", "False", "False"]


def test_numba_imported_first_is_whispers_own():
    out = fresh(
        "import numba\n"
        "from callscan.asr.lazy_numba import import_whisper\n"
        "import_whisper()\n"
        "import whisper.timing as wt\n"
        "print(wt.numba is numba, type(wt.dtw_cpu).__name__)\n"
    )
    assert out == ["True", "CPUDispatcher"]


def test_the_stand_in_defers_bare_and_called_decorators_and_passes_the_rest():
    out = fresh(
        "import sys\n"
        "from callscan.asr.lazy_numba import deferred_numba\n"
        "with deferred_numba():\n"
        "    import numba\n"
        "    @numba.njit\n"
        "    def double(x):\n"
        "        return 2 * x\n"
        "    @numba.jit(nopython=True)\n"
        "    def plus(x):\n"
        "        return double(x) + 1\n"
        "print('llvmlite' in sys.modules, 'numba' in sys.modules)\n"
        "print(plus(20), double(4), type(numba).__name__, numba.__version__ > '0')\n"
        "import numba as real\n"
        "print(real is not numba, type(real).__name__)\n"
    )
    assert out == ["False", "False", "41", "8", "_StandIn", "True", "True", "module"]
