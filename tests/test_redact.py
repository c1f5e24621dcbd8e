"""``--redact``: personal data masked in every file a call's analysis writes (callscan.redact)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan.cli.app import app
from callscan.conversation import Turn
from callscan.pipeline import AnalyzeOptions, analyze
from callscan.redact import find, luhn, nik_shaped, redact_text, redact_turns, redact_words
from callscan.transcript import Word

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_redact", ROOT / "bench" / "bench_redact.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the labelled set ---------------------------------------------------------------------------


def test_labelled_set_is_large_enough_and_well_formed():
    cases = _bench().load_cases()
    pii = [p for c in cases for p in c["pii"]]
    keep = [v for c in cases for v in c["keep"]]
    assert len(pii) >= 60 and len(keep) >= 60
    assert {p["kind"] for p in pii} == {"card", "nik", "phone", "account", "email"}
    held = [c for c in cases if c["part"] == "heldout"]
    assert len(held) >= len(cases) // 4  # a held-out part
    for case in cases:
        for value in [p["value"] for p in case["pii"]] + case["keep"]:
            assert value in case["text"], value
    for p in pii:
        digits = "".join(ch for ch in p["value"] if ch.isdigit())
        if p["kind"] == "card" and len(digits) == len(p["value"].replace(" ", "").replace("-", "")):
            assert luhn(digits), p  # written card numbers of the set are valid ones


@pytest.mark.parametrize("part", ["dev", "heldout"])
def test_labelled_set_recall_and_ordinary_numbers(part):
    bench = _bench()
    result = bench.score([c for c in bench.load_cases() if c["part"] == part])
    assert result["recall"] >= 0.95
    assert result["destroyed_rate"] <= 0.05


# ---- patterns -----------------------------------------------------------------------------------

CARD = "4577 4637 0643 3047"  # Luhn-valid
NIK = "3304235205850133"  # Central Java, born 12-05-1985 (a woman: day + 40)


def test_checks():
    assert luhn(CARD.replace(" ", "")) and not luhn("4577463706433048")
    assert nik_shaped(NIK) and not nik_shaped("9904235205850133")  # no province 99


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"kartu saya {CARD} ya", "kartu saya [CARD] ya"),
        (f"NIK saya {NIK}", "NIK saya [NIK]"),
        ("wa saya 0812-3456-7890 ya", "wa saya [PHONE] ya"),
        ("call +44 20 7946 0958 please", "call [PHONE] please"),
        ("kosong delapan satu tiga, dua dua empat empat, lima lima enam", "[PHONE]"),
        ("it's oh eight one two double four triple seven one two three", "it's [PHONE]"),
        ("rekening BCA 5271093845 atas nama Budi", "rekening BCA [ACCOUNT] atas nama Budi"),
        ("kirim ke budi.s88@gmail.com ya", "kirim ke [EMAIL] ya"),
        ("emailnya dewi at gmail dot com", "emailnya [EMAIL]"),
    ],
)
def test_masks_keep_the_kind(text, masked):
    assert redact_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "harganya dua ratus ribu rupiah, atau Rp 150.000 per bulan",
        "tiket 48213 tanggal 31/01/2024 jam 10.30, 3 hari kerja",
        "tahun 2019 sampai 2024, order 120934, 2 paket 50 GB",
        "4577463706433048",  # 16 digits failing Luhn, no card word, no NIK shape
    ],
)
def test_ordinary_numbers_are_kept(text):
    assert redact_text(text) == text


def test_an_account_answer_uses_the_question_before_it():
    answer = "tujuh delapan sembilan nol satu dua tiga empat lima"
    assert redact_text(answer) == answer  # nine digits alone: an ordinary number
    assert redact_text(answer, before="boleh sebutkan nomor rekeningnya?") == "[ACCOUNT]"


def test_work_is_bounded_on_long_inputs():
    for text in ("1 " * 100_000, "satu " * 50_000, "a@" * 50_000, "+" * 50_000):
        start = time.perf_counter()
        find(text)
        assert time.perf_counter() - start < 10


# ---- words, transcripts, conversations ----------------------------------------------------------


def _words(text: str, start: float = 1.0) -> list[Word]:
    return [
        Word(w, round(start + 0.4 * i, 3), round(start + 0.4 * i + 0.3, 3), 0.9)
        for i, w in enumerate(text.split())
    ]


def test_digits_spoken_over_several_words_are_masked_word_by_word():
    words = _words(
        "nomor saya nol delapan satu dua, tiga empat lima enam, tujuh delapan sembilan ya"
    )
    times = [(w.start_s, w.end_s) for w in words]
    assert redact_words(words) == 1
    texts = [w.text for w in words]
    assert texts[:2] == ["nomor", "saya"] and texts[-1] == "ya"
    assert texts[2:-1] == ["[PHONE]"] * 11  # each word of the span, commas inside it too
    assert [(w.start_s, w.end_s) for w in words] == times  # timings kept


def test_turn_text_collapses_a_row_of_masks():
    turn = Turn(
        0, "caller", "nomor saya 0812 3456 7890 ya", words=_words("nomor saya 0812 3456 7890 ya")
    )
    redact_turns([turn])
    assert turn.text == "nomor saya [PHONE] ya"
    assert [w.text for w in turn.words] == ["nomor", "saya", "[PHONE]", "[PHONE]", "[PHONE]", "ya"]


SPOKEN = "nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol"


def _timed_transcript(path: Path) -> Path:
    agent = "Selamat pagi, dengan Rina, ada yang bisa dibantu? Boleh nomor hp Bapak?"
    caller = f"Nomor saya {SPOKEN}, kartu saya {CARD}."
    segments = []
    for i, (channel, text, start) in enumerate([(0, agent, 0.5), (1, caller, 6.0)]):
        words = _words(text, start)
        segments.append(
            {
                "id": i,
                "channel": channel,
                "start_s": words[0].start_s,
                "end_s": words[-1].end_s,
                "text": text,
                "words": [w.to_dict() for w in words],
            }
        )
    data = {
        "segments": segments,
        "language": "id",
        "language_probability": 1.0,
        "language_probs": {},
        "model": "base",
        "engine": "openai-whisper",
        "audio": {},
        "n_channels": 2,
        "duration_s": 30.0,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_timed_json_transcript_masked_in_words_and_text(tmp_path):
    call = _timed_transcript(tmp_path / "call.json")
    report = analyze(call, AnalyzeOptions(redact=True))
    dump = json.dumps(report, ensure_ascii=False)
    for value in ("delapan sembilan", "empat lima", CARD, CARD.replace(" ", ""), "3047"):
        assert value not in dump
    turn = report["conversation"]["turns"][1]
    assert turn["text"] == "Nomor saya [PHONE], kartu saya [CARD]."
    words = turn["words"]
    masked = [w for w in words if "[PHONE]" in w["text"]]
    assert len(masked) == len(SPOKEN.split())  # every spoken digit, its timing kept
    assert [w["start_s"] for w in words] == [round(6.0 + 0.4 * i, 3) for i in range(len(words))]
    assert report["redaction"] == {
        "applied": True,
        "counts": {"card": 1, "nik": 0, "phone": 1, "account": 0, "email": 0},
        "total": 2,
    }


CALL = f"""agent: Selamat pagi, Nusantara Telekom, dengan Surya, ada yang bisa saya bantu?
caller: saya mau komplain tagihan Rp 350.000 bulan ini, biasanya 150 ribu
agent: mohon maaf bu. boleh nomor hp, NIK dan email ibu untuk verifikasi?
caller: hp saya {SPOKEN}, NIK {NIK}, email siti.aminah77@gmail.com
agent: untuk refund, nomor rekeningnya?
caller: 5271093845 BCA. kartu kredit saya {CARD} juga kena potong
agent: baik bu, tiket 48213 sudah saya buat, diproses 3 hari kerja. terima kasih
"""
VALUES = (SPOKEN, "delapan sembilan nol", NIK, "siti.aminah77", "5271093845", CARD, "0643 3047")


def test_analyze_redact_writes_no_value_in_any_file(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(call), "--redact", "-f", "all", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    files = sorted(out.iterdir())
    assert {f.suffix for f in files} == {".json", ".html", ".md"}
    for f in files:
        text = f.read_text(encoding="utf-8")
        for value in VALUES:
            assert value not in text, (f.name, value)
        if f.suffix != ".md":  # the page and the JSON hold the turns: ordinary numbers kept
            assert "48213" in text and "350.000" in text
    report = json.loads((out / "call.callscan.json").read_text(encoding="utf-8"))
    assert report["redaction"]["counts"] == {
        "card": 1,
        "nik": 1,
        "phone": 1,
        "account": 1,
        "email": 1,
    }
    # without --redact the values are there (the test would catch a no-op)
    plain = runner.invoke(app, ["analyze", str(call), "--json"])
    assert CARD in plain.stdout and json.loads(plain.stdout)["redaction"] is None


def test_rescore_redact_masks_a_stored_report(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL, encoding="utf-8")
    stored = tmp_path / "stored.json"
    stored.write_text(runner.invoke(app, ["analyze", str(call), "--json"]).stdout, encoding="utf-8")
    result = runner.invoke(app, ["rescore", str(stored), "--redact"])
    assert result.exit_code == 0, result.stderr
    for value in VALUES:
        assert value not in result.stdout
    assert json.loads(result.stdout)["redaction"]["total"] == 5


def test_team_profile_turns_redaction_on_by_default(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL, encoding="utf-8")
    profile = tmp_path / "team.yaml"
    profile.write_text("team: billing\nredact: true\n", encoding="utf-8")
    report = analyze(call, AnalyzeOptions(profile=str(profile)))
    assert report["redaction"]["total"] == 5 and report["profile"]["redact"] is True
    assert CARD not in json.dumps(report)
    off = analyze(call, AnalyzeOptions(profile=str(profile), redact=False))  # --no-redact
    assert off["redaction"] is None and CARD in json.dumps(off)
    profile.write_text("team: billing\nredact: maybe\n", encoding="utf-8")
    from callscan.errors import ConfigError
    from callscan.profile import load_profile

    with pytest.raises(ConfigError, match="redact"):
        load_profile(profile)


def test_batch_redact_writes_no_value_in_reports_summary_or_log(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(call), "-o", str(out), "-f", "all", "--redact"])
    assert result.exit_code == 0, result.stderr
    files = [f for f in out.rglob("*") if f.is_file()]
    assert {".json", ".html", ".md", ".csv", ".jsonl"} <= {f.suffix for f in files}
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        for value in VALUES:
            assert value not in text, (f.name, value)
