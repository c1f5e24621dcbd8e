"""Agent / caller decisions from text cues, with confidence, reasons and overrides."""

from __future__ import annotations

import pytest

from callscan.conversation import Turn
from callscan.errors import ConfigError
from callscan.speakers.roles import RoleOptions, decide_roles, load_cues


def turns(*lines):
    """(speaker, start_s, text) -> turns."""
    return [
        Turn(i, "unknown", text, spk, None, t, t + 2.0) for i, (spk, t, text) in enumerate(lines)
    ]


ID_CALL = turns(
    (
        "S1",
        0.5,
        "Selamat pagi, terima kasih telah menghubungi Bank Sentosa, dengan Rina, ada yang bisa saya bantu?",
    ),
    ("S2", 7.0, "Pagi mbak, saya mau tanya soal tagihan kartu kredit saya."),
    ("S1", 12.0, "Baik Bapak, boleh saya tahu nomor kartunya? Mohon ditunggu, saya cek dulu."),
)
EN_CALL = turns(
    ("A", 0.3, "Hi, I'm calling about my bill, it's wrong again."),
    ("B", 4.0, "Thank you for calling Sentosa, my name is Rina. How can I help you today?"),
    ("A", 9.0, "My account shows a charge I never made."),
    ("B", 13.0, "Let me check that for you. Can I have your account number?"),
)


def test_indonesian_agent_found_with_high_confidence():
    d = decide_roles(ID_CALL, RoleOptions(language="id"))
    assert d.agent == "S1" and d.roles == {"S1": "agent", "S2": "caller"}
    assert d.confidence >= 0.9 and not d.low_confidence and d.method == "cues"
    text = " ".join(d.reasons)
    assert "offer_help" in text and "want_to_ask" in text and "thanks_for_calling" in text


def test_english_agent_found_even_when_the_caller_speaks_first():
    d = decide_roles(EN_CALL)
    assert d.agent == "B" and d.roles["A"] == "caller"
    assert d.confidence >= 0.9
    assert any("calling_about" in r for r in d.reasons)


def test_no_cues_is_flagged_as_low_confidence():
    d = decide_roles(turns(("S1", 0.0, "Halo?"), ("S2", 1.0, "Ya, halo.")))
    assert d.agent == "S1"  # the one who answered, but only just
    assert d.confidence < 0.6 and d.low_confidence
    assert d.reasons[0].startswith("low confidence")
    assert d.to_dict()["low_confidence"] is True


def test_override_and_swap():
    forced = decide_roles(
        ID_CALL, RoleOptions(agent_speaker="S2", override_reason="agent speaker set by the user: 2")
    )
    assert forced.agent == "S2" and forced.confidence == 1.0 and forced.method == "override"
    assert "agent speaker set by the user: 2" in forced.reasons[0]
    swapped = decide_roles(ID_CALL, RoleOptions(swap=True))
    assert swapped.agent == "S2" and swapped.roles == {"S1": "caller", "S2": "agent"}
    assert swapped.reasons[0] == "roles swapped by the user"


def test_language_filter_uses_only_that_languages_cues():
    en_only = decide_roles(ID_CALL, RoleOptions(language="en"))
    assert en_only.low_confidence  # no English cue in an Indonesian call


def test_no_turns():
    d = decide_roles([])
    assert d.agent is None and d.roles == {} and d.low_confidence


def test_bad_cue_file_names_file_and_key(tmp_path):
    bad = tmp_path / "roles.yaml"
    bad.write_text("cues:\n  - {id: x, role: boss, weight: 1, pattern: 'a'}\n")
    with pytest.raises(
        ConfigError, match=r"roles.yaml': cues\[0\].role: 'boss' is not one of agent, caller"
    ):
        load_cues(str(bad))
    bad.write_text("cues:\n  - {id: x, role: agent, weight: 1, pattern: '(('}\n")
    with pytest.raises(ConfigError, match=r"cues\[0\].pattern: invalid regex"):
        load_cues(str(bad))


def test_role_cue_with_nested_quantifier_is_refused_at_load(tmp_path):
    """A cue like ``(a+)+$`` would take exponential time on a long turn: the roles file gets
    the playbooks' check, one line naming the file and the key."""
    bad = tmp_path / "roles.yaml"
    bad.write_text(
        "cues:\n"
        "  - {id: ok, role: agent, weight: 1, pattern: 'bisa saya bantu'}\n"
        "  - {id: slow, role: agent, weight: 1, pattern: '(a+)+$'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_cues(str(bad))
    message = str(info.value)
    assert "\n" not in message
    assert "roles.yaml'" in message and "cues[1].pattern" in message
    assert "(a+)+" in message  # says what kind of pattern it is
    bad.write_text("cues:\n  - {id: n, role: agent, weight: 1, pattern: 12}\n")
    with pytest.raises(ConfigError, match=r"cues\[0\].pattern: must be a regular expression"):
        load_cues(str(bad))
    bad.write_text("cues:\n  - {id: b, role: agent, weight: 1, pattern: '(halo ){0,5}saya'}\n")
    assert load_cues(str(bad)).cues[0].pattern.search("halo halo saya")  # bounded: fine


def test_bundled_cues_load():
    cues = load_cues()
    assert {c.lang for c in cues.cues} == {"id", "en"} and cues.scale > 0
