"""The QA dashboard (``DIR/index.html``) in a real browser: Debian's headless chromium.

A batch folder is made from transcripts, with hostile metadata: a manifest gives one call the
agent id ``<script>alert(1)</script>`` and a formula for a team, and one call's file name is
itself markup. The page must render with no console message (no CSP violation, no error),
run only its own script, show the hostile text as text, link every call to its report file
on disk, and filter and sort from the address (``#agent=...``). With 250 calls the table
pages (100 calls a page) after its filters and sort, also from the address (``#page=2``).
"""

from __future__ import annotations

import csv
import html
import re
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from callscan.pipeline import AnalyzeOptions
from callscan.qa import dashboard, store
from callscan.qa.runner import run_batch
from callscan.speakers.assign import SpeakersOptions

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
]  # fmt: skip
PATTERN = r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)_(?P<date>\d{4}-\d\d-\d\d)"
HOSTILE_AGENT = "<script>alert(1)</script>"
HOSTILE_TEAM = '=HYPERLINK("http://evil.example","x")'
HOSTILE_NAME = "<img src=x onerror=alert(2)>"
SERVICE = (
    "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya paket data saya.\n"
    "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
)
COMPLAINT = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I'm calling about my bill, you charged me twice, it is too high.\n"
    "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
)
RUDE = (
    "agent: Yeah?\n"
    "caller: I'm calling about my bill, it is too high.\n"
    "agent: You should have read the terms, that is your own fault.\n"
)
CALLS = {
    "A17_0001_2024-11-04.txt": (SERVICE, "north"),
    "A17_0002_2024-11-05.txt": (COMPLAINT, "north"),
    "A17 #9 100%_0009_2024-11-06.txt": (SERVICE, "north"),  # a name that needs %-encoding
    "B02_0003_2024-11-12.txt": (RUDE, "south"),
    f"{HOSTILE_NAME}.txt": (COMPLAINT, HOSTILE_TEAM),
}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dash")
    src = root / "calls"
    src.mkdir()
    for name, (text, _) in CALLS.items():
        (src / name).write_text(text, encoding="utf-8")
    out = root / "out"
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=PATTERN))
    result = run_batch(sorted(src.iterdir()), out, options, formats=("json", "html"))
    assert result.done == len(CALLS)
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "agent_id", "team"])
        for name, (_, team) in CALLS.items():
            w.writerow([f"calls/{name}", HOSTILE_AGENT if name.startswith("<") else "", team])
    store.sync(out, manifest=manifest)
    return dashboard.write(out)


def browse(page: Path, tmp_path: Path, fragment: str = "", *extra: str) -> tuple[str, str]:
    """Open ``page`` (with ``#fragment``) in headless chromium: (DOM, console lines)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return out.stdout, "\n".join(console)


def call_rows(dom: str) -> list[tuple[str, bool]]:
    """(agent, shown) of each row of the calls table, in page order."""
    body = dom.split('id="calls-table"')[1].split("</table>")[0]
    out = []
    for tag in re.findall(r"<tr [^>]*data-agent=[^>]*>", body):
        agent = re.search(r'data-agent="([^"]*)"', tag)
        assert agent is not None
        out.append((html.unescape(agent.group(1)), 'class="hidden"' not in tag))
    return out


def test_dashboard_renders_and_escapes_hostile_metadata(page, tmp_path):
    assert Path(CHROMIUM).is_file(), "apt-get install chromium (scripts/test.sh does)"
    dom, console = browse(page, tmp_path)
    assert console == ""  # no CSP violation, no script error
    assert 'data-ready="1"' in dom and f'data-shown="{len(CALLS)}"' in dom
    assert dom.count("<script") == 1  # only the dashboard's own
    assert "<img" not in dom and "alert(2)" in dom  # the file name shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert html.escape(HOSTILE_TEAM, quote=False) in dom or HOSTILE_TEAM in dom
    assert "evil.example" not in re.findall(r'href="([^"]*)"', dom).__str__()
    for section in ("headline", "queue", "calls", "agents", "teams", "complaints"):
        assert f'id="{section}"' in dom, section
    assert dom.count("<svg") >= 3  # trend charts


def test_every_call_links_to_its_report_on_disk(page, tmp_path):
    dom, _ = browse(page, tmp_path)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', dom)]
    assert links and all(not h.startswith(("http", "/", "file:")) for h in links)
    for h in links:
        assert (page.parent / unquote(h)).is_file(), h
    reports = {p.name for p in page.parent.glob("*.callscan.html")}
    assert {unquote(h) for h in links} == reports  # every call's HTML report, nothing else
    assert quote("A17 #9 100%_0009_2024-11-06.callscan.html") in links


def test_filters_and_sort_from_the_address(page, tmp_path):
    dom, console = browse(page, tmp_path, "agent=A17")
    assert console == ""
    shown = [a for a, visible in call_rows(dom) if visible]
    assert shown == ["A17", "A17"] and 'data-shown="2"' in dom  # "A17 #9 ..." does not match
    dom, _ = browse(page, tmp_path, "agent=" + quote(HOSTILE_AGENT, safe=""))
    assert [a for a, v in call_rows(dom) if v] == [HOSTILE_AGENT]
    assert 'data-shown="1"' in dom
    dom, _ = browse(page, tmp_path, "flag=conduct&from=2024-11-10")
    assert [a for a, v in call_rows(dom) if v] == ["B02"]
    dom, _ = browse(page, tmp_path, "team=north&type=service")
    assert 'data-shown="2"' in dom  # the two Indonesian service calls
    dom, _ = browse(page, tmp_path, "sort=stages&dir=desc")
    assert 'data-sort="stages:desc"' in dom
    body = dom.split('id="calls-table"')[1].split("</table>")[0]
    stages_col = [h for h, _, _ in dashboard.COLUMNS].index("stages")
    values = []
    for row in re.findall(r"<tr[^>]*data-agent.*?</tr>", body, re.S):
        cells = re.findall(r'data-v="([^"]*)"', row)
        values.append(float(cells[stages_col]) if cells[stages_col] else float("-inf"))
    assert values == sorted(values, reverse=True) and len(values) == len(CALLS)


def test_dashboard_page_is_self_contained(page):
    text = page.read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp and "default-src 'none'" in html.unescape(csp.group(1))
    assert "script-src 'sha256-" in html.unescape(csp.group(1))
    assert not re.search(r'(src|href)="(https?:)?//', text)


# ---- paging: 250 calls, 100 a page --------------------------------------------------------


@pytest.fixture(scope="module")
def big_page(page, tmp_path_factory) -> Path:
    """A folder of 250 calls stored the way a batch stores them (store.call_row, findings_of,
    write_rows) from a real report, with two agents and varied stages percent."""
    import json

    folder = tmp_path_factory.mktemp("dash-big")
    base = json.loads((page.parent / "A17_0002_2024-11-05.callscan.json").read_text())
    calls, findings = [], []
    for i in range(250):
        report = json.loads(json.dumps(base))
        report["stages"]["scorecard"]["percent"] = float((i * 37) % 101)
        meta = {"agent_id": "A00" if i % 5 else "A01", "date": f"2024-11-{1 + i % 28:02d}"}
        calls.append(store.call_row(f"call_{i:03d}", report, meta))
        findings += store.findings_of(f"call_{i:03d}", report)
    with store.opened(folder) as con:
        store.write_rows(con, calls, findings)
    assert dashboard.PAGE_ROWS == 100
    return dashboard.write(folder, sync=False)


def page_state(dom: str) -> dict[str, str]:
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None
    return dict(re.findall(r'data-(shown|page|pages)="(\d+)"', root.group(0)))


def stages_on_page(dom: str) -> list[float]:
    body = dom.split('id="calls-table"')[1].split("</table>")[0]
    col = [h for h, _, _ in dashboard.COLUMNS].index("stages")
    return [
        float(re.findall(r'data-v="([^"]*)"', row)[col])
        for row in re.findall(r"<tr[^>]*data-agent.*?</tr>", body, re.S)
    ]


@pytest.mark.slow  # seven browser runs: about 10 s
def test_the_calls_table_pages_after_filters_and_sort(big_page, tmp_path):
    dom, console = browse(big_page, tmp_path)
    assert console == ""
    assert page_state(dom) == {"shown": "250", "page": "1", "pages": "3"}
    assert len(call_rows(dom)) == 100  # only the page's rows are in the document
    assert re.search(r'id="p-prev"[^>]*disabled', dom)
    assert not re.search(r'id="p-next"[^>]*disabled', dom)
    assert '<span id="p-page">1</span> of <span id="p-pages">3</span>' in dom

    dom, _ = browse(big_page, tmp_path, "page=3")
    assert page_state(dom)["page"] == "3" and len(call_rows(dom)) == 50
    assert re.search(r'id="p-next"[^>]*disabled', dom)
    dom, _ = browse(big_page, tmp_path, "page=99")  # past the end: the last page
    assert page_state(dom)["page"] == "3"

    # filter and sort apply to every call before paging: page 2 continues page 1
    view = "agent=A00&sort=stages&dir=desc"
    first, console = browse(big_page, tmp_path, view)
    assert console == ""
    second, _ = browse(big_page, tmp_path, view + "&page=2")
    assert page_state(first) == {"shown": "200", "page": "1", "pages": "2"}
    assert page_state(second) == {"shown": "200", "page": "2", "pages": "2"}
    assert {a for a, _ in call_rows(first) + call_rows(second)} == {"A00"}
    both = stages_on_page(first) + stages_on_page(second)
    expected = sorted((float((i * 37) % 101) for i in range(250) if i % 5), reverse=True)
    assert both == expected
    dom, _ = browse(big_page, tmp_path, "agent=A01&page=2")  # 50 calls: one page
    assert page_state(dom) == {"shown": "50", "page": "1", "pages": "1"}
