"""Keeping Python's cyclic garbage collector off the heap that a loaded model leaves.

Importing torch and openai-whisper and loading a model leave about 200,000 objects that the
collector tracks and that live as long as the process. Each full collection walks every one of
them. Analysing a 5-minute call triggers several full collections after the model is loaded
(compiling the playbook's patterns, matching, building the report). Measured on the default
engine's whole process: 9 full collections took 0.64 s of a 7.5 s run; with the heap settled
after the model's load, 8 took 0.10 s (faster-whisper: 0.15 -> 0.04 s).

:func:`settle` moves everything alive at that moment into the collector's permanent
generation (:func:`gc.freeze`), so later collections walk only what the call itself makes.
Frozen objects are still freed by reference counting when nothing refers to them: a model
loaded and dropped is freed as before (tested). Only cyclic garbage present at that moment
stays, once per process.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled = False


def settle() -> bool:
    """Freeze every object alive now out of the cyclic collector's sight (:func:`gc.freeze`).

    Once per process, and only where nothing is frozen yet: a host application that freezes
    its own heap keeps that decision. The pipeline calls it after it loads a model, the batch
    worker and ``callscan serve`` after theirs. Returns whether it froze anything.
    """
    global _settled
    with _lock:
        if _settled or gc.get_freeze_count():
            return False
        gc.freeze()
        _settled = True
        return True
