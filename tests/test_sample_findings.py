"""Every bundled sample, analysed from its audio, agrees with what its script shows.

The expected findings (call type, stages, grievance and complaint steps, conduct rules, caller
modality) are in samples/expected_findings.yaml, labelled with the dev-calls rules. At least 90%
of the checks must agree, and every check that does not is listed in samples/README.md with its
cause, so a disagreement is never silent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_findings", ROOT / "samples" / "check_findings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_sample_reports_agree_with_their_scripts(sample_reports):
    checker = _checker()
    names = [n for n in checker.expected() if n != "checked_rules"]
    wrong, total = checker.compare({n: sample_reports(n) for n in names})
    agreement = (total - len(wrong)) / total
    readme = (ROOT / "samples" / "README.md").read_text(encoding="utf-8")
    unexplained = [check for check, _, _ in wrong if check not in readme]
    assert unexplained == [], f"disagreements not explained in samples/README.md: {unexplained}"
    assert agreement >= 0.90, f"{total - len(wrong)} of {total} checks agree: {wrong}"


def test_expected_findings_cover_every_sample_and_every_key():
    checker = _checker()
    spec = checker.expected()
    rules = spec.pop("checked_rules")
    samples = sorted(p.stem for p in (ROOT / "samples").glob("*.wav"))
    assert sorted(spec) == samples
    for name, want in spec.items():
        assert set(want["stages"]) == set(checker.STAGES), name
        assert want["complaint"] is None or set(want["complaint"]) == set(checker.STEPS), name
        assert set(want["violations"]) <= set(rules), name
        assert want["modality"] in (*checker.MODALITIES, "none"), name
