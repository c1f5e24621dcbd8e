"""One loader for every data file: kinds told apart, one-line errors, cache by modification time."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from callscan import config
from callscan.analysis.modality import Lexicon
from callscan.analysis.opening.profile import OpeningProfile
from callscan.analysis.playbook import Playbook
from callscan.cli.app import app
from callscan.errors import ConfigError

MODELS = Path(__file__).resolve().parent.parent / "models"
runner = CliRunner()

BUNDLED = {
    "playbook_id.yaml": "playbook",
    "playbook_en.yaml": "playbook",
    "vak_id.yaml": "lexicon",
    "vak_en.yaml": "lexicon",
    "roles.yaml": "roles",
    "opening_profile.yaml": "opening_profile",
}


def bundled(name: str) -> dict:
    return yaml.safe_load((MODELS / name).read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, name: str = "team.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def error(path: Path, kind: str | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        config.validate_file(path, kind=kind)
    message = str(e.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


# ----------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(("name", "kind"), sorted(BUNDLED.items()))
def test_each_bundled_file_is_recognised_and_validates(name, kind):
    path = MODELS / name
    assert config.detect_kind(path) == kind
    loaded = config.validate_file(path)
    assert loaded.summary()
    expected = {"playbook": Playbook, "lexicon": Lexicon, "opening_profile": OpeningProfile}
    if kind in expected:
        assert isinstance(loaded, expected[kind])
    else:
        assert loaded.cues and loaded.scale > 0
    assert config.validate_file(path) is loaded  # compiled once, cached


def test_lexicon_validates_in_its_own_language():
    assert config.validate_file(MODELS / "vak_en.yaml").language == "en"
    assert config.validate_file(MODELS / "vak_id.yaml").language == "id"


def test_unknown_kind_is_a_clear_error(tmp_path):
    p = write(tmp_path, {"colour": "blue", "size": 3})
    assert error(p) == (
        "'FILE': cannot tell which kind of data file this is from its top-level keys "
        "(colour, size) (valid: playbook, lexicon, roles, opening_profile, profile)"
    )
    assert error(MODELS / "roles.yaml", kind="glossary") == (
        "'glossary' is not a kind of data file "
        "(valid: playbook, lexicon, roles, opening_profile, profile)"
    )


def test_missing_and_invalid_yaml(tmp_path):
    assert error(tmp_path / "none.yaml") == "'FILE': no such file"
    bad = tmp_path / "bad.yaml"
    bad.write_text("cues: [\n", encoding="utf-8")
    assert "invalid YAML" in error(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n", encoding="utf-8")
    assert error(top) == "'FILE': the top level must be a mapping of keys"


# ----------------------------------------------------------------------------- misspelled keys


def test_misspelled_key_in_roles(tmp_path):
    data = bundled("roles.yaml")
    data["scael"] = data.pop("scale")
    assert error(write(tmp_path, data, "roles.yaml")) == (
        "'FILE': scael: unknown key (valid: scale, first_speaker, opening_s, cues)"
    )
    data = bundled("roles.yaml")
    data["cues"][2]["wieght"] = data["cues"][2].pop("weight")
    assert error(write(tmp_path, data, "roles.yaml")) == (
        "'FILE': cues[2].wieght: unknown key (valid: id, role, weight, where, lang, pattern)"
    )


def test_misspelled_key_in_lexicon(tmp_path):
    data = bundled("vak_id.yaml")
    data["negation"]["windw_tokens"] = 3
    assert error(write(tmp_path, data)) == (
        "'FILE': negation.windw_tokens: unknown key (valid: words, window_tokens, factor)"
    )
    data = bundled("vak_en.yaml")
    data["meta"]["langauge"] = "en"
    assert error(write(tmp_path, data)) == (
        "'FILE': meta.langauge: unknown key "
        "(valid: language, version, name, stemmer, sources, notes)"
    )


def test_misspelled_key_in_opening_profile(tmp_path):
    data = bundled("opening_profile.yaml")
    data["settings"]["window_sec"] = 20
    assert error(write(tmp_path, data)).startswith(
        "'FILE': settings.window_sec: unknown key (valid: window_s, min_agent_speech_s,"
    )
    data = bundled("opening_profile.yaml")
    data["warmth"]["id"]["polit"] = data["warmth"]["id"].pop("polite")
    assert error(write(tmp_path, data)) == (
        "'FILE': warmth.id.polit: unknown key (valid: polite, curt)"
    )


def test_misspelled_key_in_playbook(tmp_path):
    data = bundled("playbook_id.yaml")
    data["stages"]["contact"]["elements"]["greeting"]["strenght"] = "weak"
    assert error(write(tmp_path, data)) == (
        "'FILE': stages.contact.elements.greeting.strenght: unknown key "
        "(valid: patterns, phrases, lemmas, strength, speaker, window, required, weight, unless, "
        "excused_by, excuse_void_if, echo, reply_to)"
    )


def test_bad_values_name_key_and_choices(tmp_path):
    data = bundled("roles.yaml")
    data["cues"][0]["weight"] = "three"
    assert error(write(tmp_path, data, "roles.yaml")) == (
        "'FILE': cues[0].weight: must be a number, not 'three'"
    )
    data = bundled("vak_id.yaml")
    data["modalities"]["visual"]["stems"]["lihat"] = {"w": 0.9, "bare": "no"}
    assert error(write(tmp_path, data)) == (
        "'FILE': modalities.visual.stems.lihat.bare: 'no' is not valid (valid: true, false)"
    )
    data = bundled("opening_profile.yaml")
    data["tone"]["measures"]["intonation_st"]["provisional"] = "maybe"
    assert error(write(tmp_path, data)) == (
        "'FILE': tone.measures.intonation_st.provisional: 'maybe' is not valid (valid: true, false)"
    )


# ----------------------------------------------------------------------------- cache


def test_cache_returns_the_same_object_until_the_file_changes(tmp_path):
    path = write(tmp_path, bundled("roles.yaml"), "roles.yaml")
    built = []

    def build():
        built.append(1)
        return object()

    first = config.cached("test", path, build)
    assert config.cached("test", path, build) is first and len(built) == 1
    assert config.cached("other kind", path, build) is not first  # kinds are cached apart
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    second = config.cached("test", path, build)
    assert second is not first and config.cached("test", path, build) is second


def test_loaders_see_an_edited_file(tmp_path):
    data = bundled("roles.yaml")
    path = write(tmp_path, data, "roles.yaml")
    before = config.validate_file(path)
    assert config.validate_file(path) is before
    data["scale"] = 3.0
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after = config.validate_file(path)
    assert after is not before and after.scale == 3.0 and before.scale == 2.0


def test_errors_are_not_cached(tmp_path):
    path = tmp_path / "late.yaml"
    with pytest.raises(ConfigError, match="no such file"):
        config.read_yaml(path)
    path.write_text("cues: []\n", encoding="utf-8")
    assert config.read_yaml(path) == {"cues": []}


def test_resources_delegate_to_config(tmp_path):
    from callscan import resources

    path = write(tmp_path, {"a": 1})
    assert resources.load_yaml(path) is config.read_yaml(path)
    assert resources.load_data("roles.yaml")["cues"]


# ----------------------------------------------------------------------------- command line


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_cli_config_validate_bundled(name):
    path = MODELS / name
    r = runner.invoke(app, ["config", "validate", str(path)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"OK: {path} ({BUNDLED[name]}: ") and r.output.count("\n") == 1
    r = runner.invoke(app, ["config", "validate", "--json", str(path)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["ok"] is True and data["kind"] == BUNDLED[name] and data["summary"]


def test_cli_config_validate_bad_file(tmp_path):
    data = bundled("roles.yaml")
    data["cues"][0]["rol"] = data["cues"][0].pop("role")
    bad = write(tmp_path, data, "roles.yaml")
    r = runner.invoke(app, ["config", "validate", str(bad)])
    assert r.exit_code == 1
    assert r.output == (
        f"Error: '{bad}': cues[0].rol: unknown key "
        "(valid: id, role, weight, where, lang, pattern)\n"
    )
    r = runner.invoke(app, ["config", "validate", "--json", str(bad)])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["ok"] is False and data["error"].startswith(f"'{bad}': cues[0].rol: unknown key")


def test_cli_config_validate_kind_option_and_playbook_alias(tmp_path):
    path = MODELS / "roles.yaml"
    r = runner.invoke(app, ["config", "validate", "--kind", "playbook", str(path)])
    assert r.exit_code == 1 and "unknown key" in r.output
    r = runner.invoke(app, ["playbook", "validate", str(MODELS / "playbook_id.yaml")])
    assert r.exit_code == 0
    assert r.output == f"OK: {MODELS / 'playbook_id.yaml'} (10 stages, 17 conduct rules)\n"
