"""``callscan playbook validate`` and ``callscan rescore`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from callscan.cli import playbook as playbook_cmd
from callscan.cli import rescore as rescore_cmd

MODELS = Path(__file__).resolve().parent.parent / "models"
runner = CliRunner()

REPORT = {
    "version": 1,
    "conversation": {
        "language": "id",
        "source": "call.wav",
        "turns": [
            {"index": 0, "role": "agent", "speaker": "ch0", "start_s": 0.0, "end_s": 4.0,
             "text": "Selamat pagi, dengan Rina dari TokoKita, ada yang bisa dibantu?"},
            {"index": 1, "role": "caller", "speaker": "ch1", "start_s": 4.5, "end_s": 9.0,
             "text": "Pesanan saya belum sampai, saya kecewa."},
            {"index": 2, "role": "agent", "speaker": "ch0", "start_s": 9.5, "end_s": 14.0,
             "text": "Mohon maaf, Bu. Mohon maaf sekali atas keterlambatannya."},
            {"index": 3, "role": "caller", "speaker": "ch1", "start_s": 14.5, "end_s": 15.0,
             "text": "Terus?"},
            {"index": 4, "role": "agent", "speaker": "ch0", "start_s": 15.5, "end_s": 22.0,
             "text": "Sudah saya ajukan kirim ulang, nomor tiketnya 4471. Terima kasih atas waktunya, selamat pagi."},
        ],
    },
    "stages": {"stale": True},
    "metrics": {"talk_time_s": 20.0},
}  # fmt: skip


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    playbook_cmd.register(app)
    rescore_cmd.register(app)
    return app


@pytest.fixture()
def report(tmp_path) -> Path:
    p = tmp_path / "call.json"
    p.write_text(json.dumps(REPORT), encoding="utf-8")
    return p


def team_playbook(tmp_path, **changes) -> Path:
    data = yaml.safe_load((MODELS / "playbook_id.yaml").read_text(encoding="utf-8"))
    for rule, value in changes.items():
        data["rules"][rule]["max"] = value
    p = tmp_path / "team.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_validate_ok(app):
    r = runner.invoke(app, ["playbook", "validate", str(MODELS / "playbook_en.yaml")])
    assert r.exit_code == 0
    assert r.stdout == f"OK: {MODELS / 'playbook_en.yaml'} (10 stages, 17 conduct rules)\n"


def test_validate_error_is_one_line(app, tmp_path):
    data = yaml.safe_load((MODELS / "playbook_id.yaml").read_text(encoding="utf-8"))
    data["stages"]["closing"]["anchor"] = "middle"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    r = runner.invoke(app, ["playbook", "validate", str(bad)])
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == (
        f"Error: '{bad}': stages.closing.anchor: 'middle' is not valid (valid: first, last)\n"
    )


def test_validate_missing_file(app, tmp_path):
    r = runner.invoke(app, ["playbook", "validate", str(tmp_path / "none.yaml")])
    assert r.exit_code == 1
    assert r.stderr == f"Error: '{tmp_path / 'none.yaml'}': no such file\n"


def test_rescore_replaces_stages_and_keeps_the_rest(app, report):
    r = runner.invoke(app, ["rescore", str(report)])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["metrics"] == REPORT["metrics"] and out["conversation"] == REPORT["conversation"]
    st = out["stages"]
    assert st["call_type"] == "complaint" and st["call_type_source"] == "detected"
    statuses = {s["id"]: s["status"] for s in st["stages"]}
    assert statuses["acknowledge"] == "present" and statuses["resolve"] == "present"
    ev = next(s for s in st["stages"] if s["id"] == "resolve")["elements"]["resolution"][0]
    assert ev["start_s"] == 15.5 and ev["speaker"] == "agent"
    rules = {x["id"]: x["status"] for x in st["rules"]}
    assert rules["repeated_apology"] == "pass" and rules["silent_hold"] == "pass"


def test_rescore_with_team_playbook_and_output_file(app, report, tmp_path):
    team = team_playbook(tmp_path, repeated_apology=1)
    out = tmp_path / "out" / "rescored.json"
    r = runner.invoke(app, ["rescore", str(report), "--playbook", str(team), "-o", str(out)])
    assert r.exit_code == 0 and r.stdout == ""
    st = json.loads(out.read_text(encoding="utf-8"))["stages"]
    assert st["playbook"] == team.name  # relative to the call, not absolute (issue 16)
    assert {x["id"]: x["status"] for x in st["rules"]}["repeated_apology"] == "fail"


def test_rescore_given_call_type(app, report):
    r = runner.invoke(app, ["rescore", str(report), "--call-type", "service"])
    st = json.loads(r.stdout)["stages"]
    assert st["call_type"] == "service" and st["call_type_source"] == "given"
    r = runner.invoke(app, ["rescore", str(report), "--call-type", "billing"])
    assert r.exit_code == 2 and "'billing' is not one of" in r.stderr


def test_rescore_plain_transcript_and_errors(app, tmp_path):
    txt = tmp_path / "call.txt"
    txt.write_text("agent: Good morning, this is Sam from Acme.\ncaller: Hi.\n", encoding="utf-8")
    r = runner.invoke(app, ["rescore", str(txt)])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["stages"]["language"] == "en"
    r = runner.invoke(app, ["rescore", str(tmp_path / "missing.json")])
    assert r.exit_code == 1 and r.stderr == f"Error: '{tmp_path / 'missing.json'}': no such file\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: {language: id}\nstages: {}\nrules: {}\nextra: 1\n", encoding="utf-8")
    r = runner.invoke(app, ["rescore", str(txt), "--playbook", str(bad)])
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: '{bad}': extra: unknown key (valid: meta, settings,")


def test_playbook_validate_json_is_the_config_summary():
    import json

    from typer.testing import CliRunner

    from callscan.cli.app import app

    out = CliRunner().invoke(app, ["playbook", "validate", "models/playbook_en.yaml", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ok"] is True and data["kind"] == "playbook" and "stages" in data["summary"]
