"""The HTML report in a real browser: Debian's headless chromium (scripts/test.sh installs it).

Chromium logs every console message (errors, CSP violations, uncaught exceptions) to stderr as
``INFO:CONSOLE``; a clean page logs none. The page's own script marks ``<html data-ready=N>``
when it has run, so the dumped DOM shows that callscan's script ran and that nothing from the
transcript did.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from callscan import report as reports
from callscan.conversation import parse_text
from callscan.pipeline import AnalyzeOptions, analyze_conversation

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
]  # fmt: skip
SECTIONS = ("summary", "opening", "timeline", "stages", "modality", "conduct", "metrics", "tips",
            "transcript")  # fmt: skip
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>document.title='pwned'</script>",
]
CALL = f"""agent: Good morning, Northwind Mobile, this is Daniel. How can I help you today?
caller: Hi, my bill looks wrong. {HOSTILE[0]}
agent: I am sorry to hear that. Could you tell me your account number?
caller: {HOSTILE[1]} it is 5521.
agent: Thank you. {HOSTILE[2]} You should have read the terms, that is your own fault.
caller: That sounds good, thanks.
agent: Is there anything else I can help you with? Thank you for calling, goodbye.
"""


def browse(page: Path, tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Open ``page`` in headless chromium; return (stdout, console lines of stderr)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return out.stdout, "\n".join(console)


def hostile_page(tmp_path: Path, audience: str = "supervisor") -> Path:
    conv = parse_text(CALL, source="<img src=x onerror=alert(2)>.txt")
    report = analyze_conversation(conv, AnalyzeOptions())
    reports.validate(report)
    page = tmp_path / f"hostile.{audience}.html"
    page.write_text(reports.render(report, "html", reports.ReportOptions(audience=audience)))
    return page


def test_chromium_is_installed():
    assert Path(CHROMIUM).is_file(), "apt-get install chromium (scripts/test.sh does)"


def test_hostile_transcript_renders_as_text_with_no_console_errors(tmp_path):
    page = hostile_page(tmp_path)
    dom, console = browse(page, tmp_path, "--dump-dom")
    assert console == ""
    turns = CALL.count("\n")
    assert f'data-ready="{turns}"' in dom  # callscan's script ran to the end
    assert "<img" not in dom and "pwned" not in dom.split("<title>")[1].split("</title>")[0]
    assert dom.count("<script") == 2  # no script element came from the transcript
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert '"&gt;&lt;img src=x onerror=alert(1)&gt;' in dom
    for section in SECTIONS:
        assert re.search(rf'<(section|header) id="{section}"', dom), section
    assert dom.count('class="turn ') == turns


def test_agent_page_in_browser(tmp_path):
    page = hostile_page(tmp_path, "agent")
    dom, console = browse(page, tmp_path, "--dump-dom")
    assert console == ""
    assert 'data-audience="agent"' in dom and 'data-ready="7"' in dom
    assert dom.index('id="tips"') < dom.index('id="transcript"')
    assert '<li class="tip conduct"><a class="ev when"' in dom and "your own fault" in dom


@pytest.mark.slow
def test_recording_page_with_embedded_audio(data_dir, tmp_path):
    from callscan.analysis.opening.plot import opening_plot
    from callscan.analysis.opening.score import score_opening
    from callscan.audio.decode import load
    from callscan.conversation import Turn

    wav = data_dir / "fw_stereo_diarization.wav"
    recording = load(str(wav))
    turns = [Turn(0, "agent", "He began a confused complaint.", "ch0", 0, 0.288, 4.48),
             Turn(1, "caller", "It seems so.", "ch1", 1, 0.32, 2.592)]  # fmt: skip
    conv = parse_text("agent: x\ncaller: y\n", language="en")
    conv.turns, conv.source = turns, str(wav)
    opening = score_opening(recording, conv, agent_channel=0)
    report = analyze_conversation(conv, AnalyzeOptions(language="en"), opening=opening)
    report["opening"]["plot"] = opening_plot(
        recording, report["opening"], report["conversation"]["turns"]
    )
    reports.validate(report)
    uri = reports.audio_data_uri(wav)
    page = tmp_path / "stereo.html"
    page.write_text(reports.render(report, "html", reports.ReportOptions(audio_uri=uri)))
    dom, console = browse(page, tmp_path, "--dump-dom")
    assert console == ""
    assert '<audio id="call-audio"' in dom and 'data-ready="2"' in dom
    assert '<svg class="oplot"' in dom and '<path class="pitch" d="M' in dom
    assert '<svg class="timeline"' in dom and 'class="seg agent"' in dom
    shot = tmp_path / "shot.png"
    browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.stat().st_size > 10_000
