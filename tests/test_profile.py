"""Team profiles (callscan.profile): loading, validation, cues, ASR vocabulary, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from callscan import config
from callscan.analysis import profile_cues, stages
from callscan.analysis.playbook import NO_MATCH, PROFILE_MACROS, load_playbook
from callscan.asr.options import TranscribeOptions
from callscan.cli.app import app
from callscan.conversation import load as load_conversation
from callscan.errors import ConfigError
from callscan.pipeline import AnalyzeOptions, transcribe_options
from callscan.profile import MAX_TERM_WORDS, TeamProfile, load_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "models" / "profile_example.yaml"
SAMPLE_PROFILES = [ROOT / "samples" / "profile_id.yaml", ROOT / "samples" / "profile_en.yaml"]
runner = CliRunner()

TEAM = {
    "team": "Nusantara Telekom care",
    "companies": [{"name": "Nusantara Telekom", "variants": ["NusaTel"]}],
    "agents": ["Surya", "Dewi Lestari"],
    "products": ["paket internet keluarga"],
    "competitors": ["Sinar Seluler"],
    "greeting": "Selamat pagi, {company}, dengan {agent}, ada yang bisa saya bantu?",
}


def write(tmp_path: Path, data, name: str = "team.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def error(path: Path) -> str:
    with pytest.raises(ConfigError) as e:
        load_profile(path)
    message = str(e.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def call(tmp_path: Path, lines: list[str], name: str = "call.txt"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("path", [EXAMPLE, *SAMPLE_PROFILES], ids=lambda p: p.name)
def test_bundled_profiles_are_recognised_and_validate(path):
    assert config.detect_kind(path) == "profile"
    profile = config.validate_file(path)
    assert isinstance(profile, TeamProfile)
    assert profile.companies and profile.agents and profile.summary()
    assert config.validate_file(path) is profile  # cached per file version


def test_loader_reads_names_and_variants(tmp_path):
    p = load_profile(write(tmp_path, TEAM))
    assert p.team == "Nusantara Telekom care"
    assert p.companies[0].forms == ("Nusantara Telekom", "NusaTel")
    assert [a.name for a in p.agents] == ["Surya", "Dewi Lestari"]
    assert p.greeting == (TEAM["greeting"],)


def test_unknown_key_is_one_line_naming_the_valid_keys(tmp_path):
    data = {**TEAM, "product": ["x"]}
    assert error(write(tmp_path, data)) == (
        "'FILE': product: unknown key (valid: team, companies, departments, products, agents, "
        "competitors, terms, greeting, redact, asr_vocabulary)"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"agents": "Surya"}, "'FILE': agents: must be a list, not str"),
        ({"agents": [3]}, "'FILE': agents[0]: must be non-empty text"),
        (
            {"companies": [{"nama": "X"}]},
            "'FILE': companies[0].nama: unknown key (valid: name, variants)",
        ),
        ({"companies": [{"variants": ["X"]}]}, "'FILE': companies[0].name: missing"),
        (
            {"greeting": "Halo {caller}"},
            "'FILE': greeting[0]: unknown placeholder {caller} (valid: agent, company)",
        ),
    ],
)
def test_validation_errors(tmp_path, change, expected):
    assert error(write(tmp_path, {**TEAM, **change})).startswith(expected)


def test_a_sentence_is_refused_as_a_name(tmp_path):
    sentence = "Selamat pagi, dengan Surya, ada yang bisa saya bantu?"
    message = error(write(tmp_path, {**TEAM, "products": [sentence]}))
    assert message.startswith("'FILE': products[0]: ") and "looks like a sentence" in message
    long_name = " ".join(["kata"] * (MAX_TERM_WORDS + 1))
    assert "looks like a sentence" in error(write(tmp_path, {**TEAM, "terms": [long_name]}))


def test_config_validate_cli_recognises_a_profile(tmp_path):
    result = runner.invoke(app, ["config", "validate", str(write(tmp_path, TEAM))])
    assert result.exit_code == 0, result.output
    assert "profile" in result.output


# ----------------------------------------------------------------------------- vocabulary


@pytest.mark.parametrize("path", [EXAMPLE, *SAMPLE_PROFILES], ids=lambda p: p.name)
def test_vocabulary_is_names_and_terms_never_sentences(path):
    profile = load_profile(path)
    vocabulary = profile.vocabulary()
    assert vocabulary and len(", ".join(vocabulary)) <= 240
    for term in vocabulary:
        assert len(term.split()) <= MAX_TERM_WORDS
        assert not any(c in term for c in ",;:?!")
    # the greeting script is never part of it
    for line in profile.greeting:
        assert line not in profile.vocabulary_text()
        assert "{" not in profile.vocabulary_text()
    assert vocabulary[0] == profile.companies[0].name  # most useful first


def test_vocabulary_reaches_both_engines_options_only_when_asked(tmp_path):
    # off by default: the names are cues, not a prompt (measured in samples/README.md)
    assert transcribe_options(AnalyzeOptions(profile=str(write(tmp_path, TEAM)))).vocabulary == ()
    path = write(tmp_path, {**TEAM, "asr_vocabulary": True}, "vocab.yaml")
    options = transcribe_options(AnalyzeOptions(profile=str(path)))
    assert options.vocabulary[:2] == ("Nusantara Telekom", "Surya")
    text = options.vocabulary_text()
    assert text.startswith("Nusantara Telekom, Surya, Dewi Lestari, paket internet keluarga")
    assert options.prompt() == text  # openai-whisper's prompt (faster-whisper: hotwords)
    assert TranscribeOptions().prompt() is None
    both = TranscribeOptions(vocabulary=("A B",), initial_prompt="Halo.")
    assert both.prompt() == "A B Halo."


def test_openai_whisper_packed_windows_get_the_prompt():
    from callscan.asr.batched import decode_options

    opts = decode_options("id", TranscribeOptions(vocabulary=("Nusantara Telekom",)), 0.0)
    assert opts.prompt == "Nusantara Telekom"
    assert decode_options("id", TranscribeOptions(), 0.0).prompt is None


@pytest.mark.slow
def test_faster_whisper_gets_hotwords():
    from faster_whisper.tokenizer import Tokenizer

    from callscan import asr
    from callscan.asr.faster_engine import transcription_options

    fw = asr.load_model("base", engine="faster-whisper", threads=1).model  # the real model
    tokenizer = Tokenizer(fw.hf_tokenizer, True, task="transcribe", language="id")
    options = TranscribeOptions(vocabulary=("Nusantara Telekom", "Surya"))
    assert transcription_options(tokenizer, options).hotwords == "Nusantara Telekom, Surya"
    assert transcription_options(tokenizer, TranscribeOptions()).hotwords is None


# ----------------------------------------------------------------------------- cues


def test_without_a_profile_the_macros_match_nothing():
    assert PROFILE_MACROS == ("COMPANY", "AGENT_NAME", "PRODUCT", "COMPETITOR", "GREETING")
    pb = load_playbook(language="id")
    assert profile_cues.apply(pb, None) is pb
    empty = TeamProfile(path="none.yaml")
    assert profile_cues.profile_macros(empty) == {}
    assert profile_cues.apply(pb, empty) is pb
    assert NO_MATCH == r"(?!)"


def test_profile_macros_are_escaped_names(tmp_path):
    macros = profile_cues.profile_macros(load_profile(write(tmp_path, TEAM)))
    assert macros["COMPANY"] == r"(?:nusantara\s*telekom|nusatel)"
    assert macros["AGENT_NAME"] == r"(?:dewi\s*lestari|surya|dewi)"
    assert macros["GREETING"] == r"(?:selamat\s*pagi)"


def test_playbook_with_a_profile_is_compiled_once(tmp_path):
    profile = load_profile(write(tmp_path, TEAM))
    pb = load_playbook(language="id")
    a, b = profile_cues.apply(pb, profile), profile_cues.apply(pb, profile)
    assert a is b and a is not pb
    assert load_playbook(language="id") is pb  # the plain playbook is untouched


@pytest.mark.parametrize(
    ("lang", "opening", "profile"),
    [
        ("id", "agent: Selamat pagi, NusaTel, ada yang bisa dibantu?", TEAM),
        (
            "en",
            "agent: Good morning, Northwind Mobile, how can I help you?",
            {"companies": ["Northwind Mobile"], "agents": ["Daniel"]},
        ),
    ],
)
def test_contact_is_found_with_the_profiles_company(tmp_path, lang, opening, profile):
    rest = {
        "id": ["caller: Saya mau tanya tagihan.", "agent: Baik, terima kasih, selamat siang."],
        "en": ["caller: I have a question about my bill.", "agent: Sure, thank you, goodbye."],
    }[lang]
    conv = load_conversation(str(call(tmp_path, [opening, *rest])), language=lang)
    without = stages.check(conv, options=stages.StageOptions())
    with_profile = stages.check(
        conv, options=stages.StageOptions(profile=load_profile(write(tmp_path, profile)))
    )
    assert without.stage("contact").status == stages.ABSENT
    contact = with_profile.stage("contact")
    assert contact.status == stages.PRESENT
    assert "introduce_company" in contact.elements


def test_agent_name_counts_as_introducing_self(tmp_path):
    conv = load_conversation(
        str(call(tmp_path, ["agent: Good morning, Daniel speaking.", "caller: Hi."])),
        language="en",
    )
    profile = load_profile(write(tmp_path, {"agents": ["Daniel"]}))
    result = stages.check(conv, options=stages.StageOptions(profile=profile))
    assert "introduce_self" in result.stage("contact").elements


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("id", "agent: Jujur saja, Sinar Seluler itu jelek sekali jaringannya."),
        ("en", "agent: Honestly, Sinar Seluler is a total rip-off."),
    ],
)
def test_competitor_rule_fires_on_a_profile_competitor(tmp_path, lang, line):
    conv = load_conversation(str(call(tmp_path, [line, "caller: Oh."])), language=lang)
    profile = load_profile(write(tmp_path, TEAM))
    # the rules alone need the name (the turn classifier may see the contempt without it)
    without = stages.check(conv, options=stages.StageOptions(classifier=False))
    assert without.rule("trash_competitor").status == stages.PASS
    result = stages.check(conv, options=stages.StageOptions(profile=profile, classifier=False))
    rule = result.rule("trash_competitor")
    assert rule.status == stages.FAIL
    assert "sinar seluler" in rule.hits[0].text.lower()


def test_a_neutral_mention_of_a_competitor_is_not_bashing(tmp_path):
    conv = load_conversation(
        str(
            call(tmp_path, ["agent: Paket Sinar Seluler juga ada yang mirip, Pak.", "caller: Oh."])
        ),
        language="id",
    )
    profile = load_profile(write(tmp_path, TEAM))
    result = stages.check(conv, options=stages.StageOptions(profile=profile))
    assert result.rule("trash_competitor").status == stages.PASS


# ----------------------------------------------------------------------------- CLI, report


def test_analyze_with_profile_on_a_transcript(tmp_path):
    transcript = call(
        tmp_path,
        [
            "agent: Selamat pagi, NusaTel, ada yang bisa dibantu?",
            "caller: Saya mau tanya paket internet.",
            "agent: Terima kasih, selamat siang.",
        ],
    )
    profile = write(tmp_path, TEAM)
    result = runner.invoke(
        app, ["analyze", str(transcript), "--profile", str(profile), "--json", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["profile"]["path"] == profile.name  # relative to the call (issue 16)
    assert report["profile"]["vocabulary"] == "" and report["profile"]["asr_vocabulary"] is False
    contact = next(s for s in report["stages"]["stages"] if s["id"] == "contact")
    assert contact["status"] == "present"
    plain = runner.invoke(app, ["analyze", str(transcript), "--json", "-o", str(tmp_path)])
    assert json.loads(plain.stdout)["profile"] is None


def test_analyze_names_the_flag_of_a_bad_profile(tmp_path):
    transcript = call(tmp_path, ["agent: Halo.", "caller: Halo."])
    result = runner.invoke(
        app, ["analyze", str(transcript), "--profile", str(tmp_path / "none.yaml"), "--json"]
    )
    assert result.exit_code == 1
    assert "--profile: " in result.output and "no such file" in result.output


# ----------------------------------------------------------------------------- from audio


@pytest.mark.slow
def test_profile_does_not_make_a_greeting_appear_on_the_no_greeting_sample():
    from callscan.pipeline import analyze

    wav = ROOT / "samples" / "extra" / "id_no_greeting_stereo.wav"
    profile = str(ROOT / "samples" / "profile_id.yaml")
    for options in (AnalyzeOptions(language="id"), AnalyzeOptions(language="id", profile=profile)):
        report = analyze(wav, options)
        contact = next(s for s in report["stages"]["stages"] if s["id"] == "contact")
        assert contact["status"] != "present", (options.profile, contact)
        for element in ("greeting", "introduce_self", "introduce_company"):
            assert element not in contact["elements"], (options.profile, contact)
        agent_text = " ".join(
            t["text"].lower() for t in report["conversation"]["turns"] if t["role"] == "agent"
        )
        assert "nusantara" not in agent_text and "surya" not in agent_text


@pytest.mark.slow
def test_an_unrelated_profile_loses_no_words_on_a_real_call(base_model):
    """Real HarperValleyBank agent side (8 kHz) with the English sample profile (another
    company): the prompt made Whisper skip a sentence of the opening window; the vocabulary's
    decode is now kept only when it keeps the plain decode's words."""
    import callscan
    from callscan.audio import vad
    from callscan.profile import load_profile

    root = Path(__file__).resolve().parent.parent
    clip = (
        root.parent / "shared/data/audio-real/harper-valley-bank/audio/agent/0091a706bc604188.wav"
    )
    audio = callscan.load_audio(clip)
    spans = [[(r.start_s, r.end_s) for r in ch] for ch in vad.speech_regions(audio)]
    vocabulary = load_profile(root / "samples" / "profile_en.yaml").vocabulary()
    plain = callscan.transcribe(base_model, audio, TranscribeOptions(language="en"), regions=spans)
    primed = callscan.transcribe(
        base_model, audio, TranscribeOptions(language="en", vocabulary=vocabulary), regions=spans
    )
    assert "anything else" in primed.text
    assert len(primed.text.split()) >= 0.95 * len(plain.text.split())
    assert not any(name in primed.text for name in ("Northwind", "Southgate", "Daniel", "Sarah"))


def test_rescore_with_profile_uses_its_names(tmp_path):
    transcript = call(
        tmp_path,
        [
            "agent: Selamat pagi, NusaTel, ada yang bisa dibantu?",
            "caller: Saya mau tanya paket internet.",
            "agent: Terima kasih, selamat siang.",
        ],
    )
    profile = write(tmp_path, TEAM)

    def contact(args):
        result = runner.invoke(app, ["rescore", str(transcript), "--json", *args])
        assert result.exit_code == 0, result.output
        stages = json.loads(result.stdout)["stages"]["stages"]
        return next(s for s in stages if s["id"] == "contact")["status"]

    assert contact(["--profile", str(profile)]) == "present"
    assert contact([]) != "present"
