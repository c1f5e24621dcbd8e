"""callscan.heap: the loaded heap frozen out of the cyclic collector once per process, and
nothing kept alive by it. Each case runs in a fresh interpreter (freezing is per process)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def run(code: str) -> list[str]:
    """``code`` in a fresh interpreter; its printed lines."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_settle_freezes_once_per_process():
    lines = run(
        """
        import gc
        from callscan import heap
        print(gc.get_freeze_count() == 0, heap.settle(), gc.get_freeze_count() > 1000)
        print(heap.settle())
        """
    )
    assert lines == ["True", "True", "True", "False"]


def test_settle_leaves_a_host_that_froze_its_heap_alone():
    lines = run(
        """
        import gc
        gc.freeze()
        frozen = gc.get_freeze_count()
        from callscan import heap, pipeline  # thousands of new objects, none of them frozen
        print(heap.settle(), gc.get_freeze_count() <= frozen)
        """
    )
    assert lines == ["False", "True"]


@pytest.mark.parametrize("engine", ["openai-whisper", "faster-whisper"])
def test_pipeline_settles_and_its_model_is_still_freed(engine):
    """A real 20 s call excerpt transcribed by the pipeline, which loads the model itself: the
    heap is frozen after the load, and the model is freed once the call is done (frozen
    objects are still reference counted)."""
    clip = DATA / "hvb_agent_0091_20s.flac"
    lines = run(
        f"""
        import gc, weakref
        from callscan import asr, pipeline
        loaded = []
        load = asr.load_model

        def recording_load(*args, **kwargs):
            model = load(*args, **kwargs)
            loaded.append(weakref.ref(model))
            return model

        asr.load_model = recording_load
        options = pipeline.AnalyzeOptions(engine={engine!r}, language="en", threads=2)
        result = pipeline.transcribe_recording({str(clip)!r}, options)
        print(len(result.transcript.words()) > 10, gc.get_freeze_count() > 20000)
        print(len(loaded), loaded[0]() is None)
        """
    )
    assert lines == ["True", "True", "1", "True"]
