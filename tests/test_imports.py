"""The library stays light and never pulls in the command-line stack."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import callscan, callscan.asr, callscan.asr.writers, callscan.transcript, callscan.resources
import callscan.audio.decode, callscan.asr.wer, callscan.conversation, callscan.pipeline
import callscan.analysis.modality, callscan.analysis.stages, callscan.analysis.playbook
bad = sorted(m for m in ("typer", "rich", "click", "torch", "whisper") if m in sys.modules)
print(",".join(bad))
"""


def test_library_imports_no_cli_and_no_torch():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_library_never_prints(capsys, data_dir):
    from callscan.audio.decode import load

    load(str(data_dir / "fw_jfk.flac"))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_import_engine_brings_in_each_engine_and_nothing_else():
    """What the pipeline imports on a thread while the audio decodes (``asr.import_engine``):
    torch only for the default engine, CTranslate2 alone for faster-whisper, nothing for an
    unknown name (the load reports it)."""
    code = (
        "import sys\n"
        "from callscan import asr\n"
        "def have(*names): return [m for m in names if m in sys.modules]\n"
        "asr.import_engine('no-such-engine')\n"
        "print(have('torch', 'whisper', 'ctranslate2', 'faster_whisper'))\n"
        "asr.import_engine('faster-whisper')\n"
        "print(have('torch', 'whisper', 'ctranslate2', 'faster_whisper'))\n"
        "asr.import_engine('openai-whisper')\n"
        "print(have('torch', 'whisper'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "[]",
        "['ctranslate2', 'faster_whisper']",
        "['torch', 'whisper']",
    ]
