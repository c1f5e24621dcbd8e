#!/usr/bin/env python3
"""Validate the extra turn-labelled training set and print label counts.

Usage:
    python3 check.py [--blind-calls DIR]

DIR is the first blind call set the blind_* files come from (default:
../blind-calls next to this folder). Standard library only. Exit status 1 on
any error. Adapted from ../turn-labels/check.py.

Checks, for every blind_<id>.jsonl here:
  - one JSON object per transcript line, in order, with exactly the keys
    call, turn, role, lang, text, labels;
  - call == file stem, turn == 0-based line index, role and text equal to the
    transcript line (text is what follows the "role: " prefix), lang equal to
    the call's lang in labels.jsonl;
  - labels: a list of distinct names from the role's label set;
  - agreement with the call labels in labels.jsonl: a stage or complaint step
    that is true for the call is on at least one agent turn, one that is false
    (or a step of a call with complaint null) is on none; likewise a conduct
    violation (blame_colleague, blame_customer, competitor_bashing,
    slang_jargon) listed in the call's violations is on at least one agent
    turn, and one not listed is on none;
  - every call in labels.jsonl has a file.
For extra_id.jsonl and extra_en.jsonl (synthetic single turns, no transcript):
  - the same keys; call == file stem; turn == running 0-based index; role agent
    or caller; lang == the file's language; text a non-empty single-line string;
    labels a list of distinct names from the role's label set;
  - no text repeated within a file, and none of 3 or more words copied verbatim
    (ignoring case and punctuation) from a blind-call transcript or from
    ../turn-labels (a bare "Oke." / "Okay." is allowed to recur);
  - minimum sizes per language: 30 agent turns per agent label, 60 unlabelled
    agent turns, 30 caller turns per caller label, 40 unlabelled caller turns
    (agent labels here: the stages and complaint steps; the conduct labels are
    allowed but have no minimum).
For conduct_extra.jsonl (synthetic single agent turns for the conduct labels):
  - the same keys; call == "conduct_extra"; turn == running 0-based index;
    role agent; lang id or en; text as above; labels from the agent label set;
  - no text repeated, and none of 3 or more words copied verbatim (ignoring
    case and punctuation) from a blind-call transcript, ../turn-labels, the
    extra_* files or ../conduct/utterances.yaml (the regex-rule test items);
  - minimum sizes per language: 30 turns per conduct label and 60 hard
    negatives with an empty label list.
For complaint_extra.jsonl (synthetic single caller and agent turns for
raises_complaint, acknowledge and clarify):
  - the same keys; call == "complaint_extra"; turn == running 0-based index;
    role agent or caller; lang id or en, and not contradicted by the text
    (a count of common Indonesian and English words); text as above; labels a
    list of distinct names from the role's label set;
  - no text repeated (ignoring case and punctuation), and none of 3 or more
    words copied verbatim from a blind-call transcript, ../turn-labels, the
    extra_* files, conduct_extra.jsonl or ../conduct/utterances.yaml;
  - minimum sizes per language: 150 caller turns with raises_complaint, of
    which >= 25% in raw-ASR style; 100 caller turns without it, 60 of them with
    an empty label list; 30 agent turns each with acknowledge and clarify; 35
    agent turns with an empty label list.
No other *.jsonl files may be here.
"""

import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["call", "turn", "role", "lang", "text", "labels"]
STAGES = ["contact", "needs", "presentation", "objection", "closing"]
STEPS = ["acknowledge", "clarify", "resolve", "recheck"]
# Conduct violations judged on agent turns (repeated_apology and excluded_greeting
# are call-level only and are not turn labels).
VIOLATIONS = ["blame_colleague", "blame_customer", "competitor_bashing", "slang_jargon"]
AGENT_LABELS = STAGES + STEPS + VIOLATIONS
CALLER_LABELS = ["raises_objection", "raises_complaint"]
ROLE_LABELS = {"agent": AGENT_LABELS, "caller": CALLER_LABELS}
EXTRA = {"extra_id": "id", "extra_en": "en"}
EXTRA_MIN_LABELS = STAGES + STEPS
MIN_AGENT_LABEL, MIN_AGENT_NONE, MIN_CALLER_LABEL, MIN_CALLER_NONE = 30, 60, 30, 40
CONDUCT = "conduct_extra"
# a second file of conduct turns (conduct2_extra.md): the same checks; its rows are labelled for
# the four conduct labels only (the training script uses them for those labels alone)
CONDUCT2 = "conduct2_extra"
CONDUCT_LANGS = ["id", "en"]
MIN_CONDUCT_LABEL, MIN_CONDUCT_NONE = 30, 60
COMPLAINT = "complaint_extra"
COMPLAINT_LANGS = ["id", "en"]
MIN_COMPLAINT_POS, MIN_COMPLAINT_ASR_SHARE = 150, 0.25
MIN_COMPLAINT_CALLER_NEG, MIN_COMPLAINT_CALLER_EMPTY = 100, 60
MIN_COMPLAINT_STEP, MIN_COMPLAINT_AGENT_EMPTY = 30, 35
# Words that mark a turn as Indonesian or English, for the lang check of complaint_extra:
# a row is rejected when the other language's words outnumber its own.
LANG_HINTS = {
    "id": set(
        "saya aku nggak gak tidak yang di ke dari kok sudah udah belum ya mbak mas pak bu kak "
        "ini itu dan tapi padahal sama untuk buat atau apa berapa mau bisa lagi juga aja deh "
        "dong sih banget kalau kenapa gimana tolong mohon maaf makasih boleh jadi iya betul "
        "baik ada nya kami kalian".split()
    ),
    "en": set(
        "the and my you is it to of was have i've it's that what for but not on your with me "
        "an in this at be are do did can could been has there i'm don't you're we just".split()
    ),
}
GROUPS = [
    "blind-id",
    "blind-en",
    "extra-id",
    "extra-en",
    "conduct-id",
    "conduct-en",
    "complaint-id",
    "complaint-en",
]


def blind_calls_dir(argv):
    if "--blind-calls" in argv:
        i = argv.index("--blind-calls")
        if i + 1 >= len(argv):
            sys.exit("--blind-calls needs a directory")
        return argv[i + 1]
    return os.path.normpath(os.path.join(HERE, "..", "blind-calls"))


def read_transcript(path):
    turns = []
    with open(path, encoding="utf-8") as fh:
        for line in fh.read().splitlines():
            role, sep, text = line.partition(": ")
            turns.append((role, text) if sep else (None, line))
    return turns


def norm(text):
    return " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())


def is_asr(text):
    return text == text.lower() and not re.search(r"[.,?!;:]", text)


def check_labels(obj, where, role, err):
    labs = obj["labels"]
    if not isinstance(labs, list) or len(set(map(str, labs))) != len(labs):
        err(f"{where}: labels must be a list of distinct names")
        return None
    good = []
    for lab in labs:
        if lab in ROLE_LABELS[role]:
            good.append(lab)
        else:
            err(f"{where}: label {lab!r} not allowed on a {role} turn")
    return good


def check_keys(obj, where, err):
    if not isinstance(obj, dict) or list(obj) != KEYS:
        got = list(obj) if isinstance(obj, dict) else type(obj).__name__
        err(f"{where}: keys must be {KEYS}, got {got}")
        return False
    return True


def count(stats, group, role, labs, text):
    stats["rows"][group][role] += 1
    if is_asr(text):
        stats["asr"][group] += 1
    if not labs:
        stats["labels"]["(none) " + role][group] += 1
    for lab in labs:
        stats["labels"][lab][group] += 1


def check_blind(cid, row, src, stats, err):  # noqa: C901  (one check per field, in order)
    group = "blind-" + row["lang"]
    transcript = read_transcript(os.path.join(src, cid + ".txt"))
    with open(os.path.join(HERE, cid + ".jsonl"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if len(lines) != len(transcript):
        err(f"{cid}: {len(lines)} rows for {len(transcript)} transcript turns")
    seen = set()
    for i, line in enumerate(lines):
        where = f"{cid}.jsonl:{i + 1}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"{where}: not JSON ({exc})")
            continue
        if not check_keys(obj, where, err):
            continue
        if obj["call"] != cid:
            err(f"{where}: call {obj['call']!r} != {cid!r}")
        if obj["turn"] != i:
            err(f"{where}: turn {obj['turn']!r} != {i}")
        if obj["lang"] != row["lang"]:
            err(f"{where}: lang {obj['lang']!r} != {row['lang']!r}")
        role = obj["role"]
        if role not in ROLE_LABELS:
            err(f"{where}: role {role!r}")
            continue
        if i < len(transcript):
            t_role, t_text = transcript[i]
            if role != t_role:
                err(f"{where}: role {role!r} != transcript {t_role!r}")
            if obj["text"] != t_text:
                err(f"{where}: text differs from the transcript line")
        labs = check_labels(obj, where, role, err)
        if labs is None:
            continue
        count(stats, group, role, labs, obj["text"])
        if role == "agent":
            seen.update(labs)
    complaint = row["complaint"] or {}
    for name in STAGES:
        if row["stages"][name] != (name in seen):
            where = "on" if name in seen else "on no"
            err(f"{cid}: stage {name} is {row['stages'][name]} for the call but {where} agent turn")
    for name in STEPS:
        want = bool(complaint.get(name, False))
        if want != (name in seen):
            state = want if row["complaint"] else "null"
            where = "on" if name in seen else "on no"
            err(f"{cid}: complaint step {name} is {state} for the call but {where} agent turn")
    for name in VIOLATIONS:
        want = name in row["violations"]
        if want != (name in seen):
            where = "on" if name in seen else "on no"
            err(f"{cid}: violation {name} is {want} for the call but {where} agent turn")


def single_turns(name, langs, roles, err):
    """The rows of ``name``.jsonl (a file of independent single turns) that pass the checks
    every such file shares: JSON, the keys, ``call`` == ``name``, a running ``turn`` index,
    ``lang`` in ``langs``, ``role`` in ``roles``, a single-line text. Yields ``(where, obj)``."""
    path = os.path.join(HERE, name + ".jsonl")
    if not os.path.isfile(path):
        err(f"{name}: no {name}.jsonl")
        return
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        where = f"{name}.jsonl:{i + 1}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"{where}: not JSON ({exc})")
            continue
        if not check_keys(obj, where, err):
            continue
        if obj["call"] != name:
            err(f"{where}: call {obj['call']!r} != {name!r}")
        if obj["turn"] != i:
            err(f"{where}: turn {obj['turn']!r} != {i}")
        if obj["lang"] not in langs:
            err(f"{where}: lang {obj['lang']!r} not in {langs}")
            continue
        if obj["role"] not in roles:
            err(f"{where}: role {obj['role']!r}, want one of {roles}")
            continue
        text = obj["text"]
        if not isinstance(text, str) or not text.strip() or "\n" in text or text != text.strip():
            err(f"{where}: text must be a non-empty single-line string without outer spaces")
            continue
        yield where, obj


def check_extra(cid, lang, known, stats, err):
    group = "extra-" + lang
    texts = collections.Counter()
    per = collections.Counter()
    for where, obj in single_turns(cid, (lang,), tuple(ROLE_LABELS), err):
        role, text = obj["role"], obj["text"]
        texts[text] += 1
        if norm(text) in known and len(text.split()) >= 3:
            err(f"{where}: text copied from {known[norm(text)]}: {text!r}")
        labs = check_labels(obj, where, role, err)
        if labs is None:
            continue
        count(stats, group, role, labs, text)
        stats["words"][group].append(len(text.split()))
        for lab in labs or ["(none)"]:
            per[(role, lab)] += 1
    for text, n in texts.items():
        if n > 1:
            err(f"{cid}: text repeated {n} times: {text!r}")
    for lab in EXTRA_MIN_LABELS:
        if per[("agent", lab)] < MIN_AGENT_LABEL:
            err(f"{cid}: {per[('agent', lab)]} agent turns with {lab}, want >= {MIN_AGENT_LABEL}")
    for lab in CALLER_LABELS:
        if per[("caller", lab)] < MIN_CALLER_LABEL:
            err(
                f"{cid}: {per[('caller', lab)]} caller turns with {lab}, want >= {MIN_CALLER_LABEL}"
            )
    if per[("agent", "(none)")] < MIN_AGENT_NONE:
        err(f"{cid}: {per[('agent', '(none)')]} unlabelled agent turns, want >= {MIN_AGENT_NONE}")
    if per[("caller", "(none)")] < MIN_CALLER_NONE:
        err(
            f"{cid}: {per[('caller', '(none)')]} unlabelled caller turns, want >= {MIN_CALLER_NONE}"
        )


def check_conduct(known, stats, err, CONDUCT=CONDUCT):
    texts = collections.Counter()
    per = collections.Counter()
    for where, obj in single_turns(CONDUCT, CONDUCT_LANGS, ("agent",), err):
        lang, text = obj["lang"], obj["text"]
        texts[text] += 1
        if norm(text) in known and len(text.split()) >= 3:
            err(f"{where}: text copied from {known[norm(text)]}: {text!r}")
        labs = check_labels(obj, where, "agent", err)
        if labs is None:
            continue
        group = "conduct-" + lang
        count(stats, group, "agent", labs, text)
        stats["words"][group].append(len(text.split()))
        if not labs:
            per[(lang, "(empty)")] += 1
        elif not set(labs) & set(VIOLATIONS):
            stats["conduct_other"][group] += 1
        for lab in labs:
            per[(lang, lab)] += 1
    for text, n in texts.items():
        if n > 1:
            err(f"{CONDUCT}: text repeated {n} times: {text!r}")
    for lang in CONDUCT_LANGS:
        for lab in VIOLATIONS:
            if per[(lang, lab)] < MIN_CONDUCT_LABEL:
                err(
                    f"{CONDUCT}: {per[(lang, lab)]} {lang} turns with {lab}, want >= {MIN_CONDUCT_LABEL}"
                )
        if per[(lang, "(empty)")] < MIN_CONDUCT_NONE:
            err(
                f"{CONDUCT}: {per[(lang, '(empty)')]} {lang} turns with an empty label list, "
                f"want >= {MIN_CONDUCT_NONE}"
            )


def lang_score(text):
    words = norm(text).split()
    return {lang: sum(w in hints for w in words) for lang, hints in LANG_HINTS.items()}


def check_complaint(known, stats, err):
    texts = collections.Counter()
    per = collections.Counter()
    for where, obj in single_turns(COMPLAINT, COMPLAINT_LANGS, tuple(ROLE_LABELS), err):
        lang, role, text = obj["lang"], obj["role"], obj["text"]
        score = lang_score(text)
        other = "en" if lang == "id" else "id"
        if score[other] > score[lang]:
            err(f"{where}: lang {lang!r} but the text reads as {other!r}: {text!r}")
        texts[norm(text)] += 1
        if norm(text) in known and len(text.split()) >= 3:
            err(f"{where}: text copied from {known[norm(text)]}: {text!r}")
        labs = check_labels(obj, where, role, err)
        if labs is None:
            continue
        group = "complaint-" + lang
        count(stats, group, role, labs, text)
        stats["words"][group].append(len(text.split()))
        if not labs:
            per[(lang, role, "(empty)")] += 1
        for lab in labs:
            per[(lang, role, lab)] += 1
        if role == "caller" and "raises_complaint" not in labs:
            per[(lang, "caller", "(no complaint)")] += 1
        if role == "caller" and "raises_complaint" in labs and is_asr(text):
            per[(lang, "caller", "raises_complaint asr")] += 1
        if role == "agent" and {"acknowledge", "clarify"} <= set(labs):
            per[(lang, "agent", "acknowledge+clarify")] += 1
        if role == "caller" and set(labs) == {"raises_objection", "raises_complaint"}:
            per[(lang, "caller", "both")] += 1
    for norm_text, n in texts.items():
        if n > 1:
            err(
                f"{COMPLAINT}: text repeated {n} times (ignoring case and punctuation): {norm_text!r}"
            )
    for lang in COMPLAINT_LANGS:
        pos = per[(lang, "caller", "raises_complaint")]
        asr = per[(lang, "caller", "raises_complaint asr")]
        wants = [
            (pos, MIN_COMPLAINT_POS, "caller turns with raises_complaint"),
            (
                per[(lang, "caller", "(no complaint)")],
                MIN_COMPLAINT_CALLER_NEG,
                "caller turns without raises_complaint",
            ),
            (
                per[(lang, "caller", "(empty)")],
                MIN_COMPLAINT_CALLER_EMPTY,
                "caller turns with an empty label list",
            ),
            (
                per[(lang, "agent", "acknowledge")],
                MIN_COMPLAINT_STEP,
                "agent turns with acknowledge",
            ),
            (per[(lang, "agent", "clarify")], MIN_COMPLAINT_STEP, "agent turns with clarify"),
            (
                per[(lang, "agent", "(empty)")],
                MIN_COMPLAINT_AGENT_EMPTY,
                "agent turns with an empty label list",
            ),
        ]
        for got, want, what in wants:
            if got < want:
                err(f"{COMPLAINT}: {got} {lang} {what}, want >= {want}")
        if pos and asr / pos < MIN_COMPLAINT_ASR_SHARE:
            err(
                f"{COMPLAINT}: {asr}/{pos} {lang} raises_complaint turns in raw-ASR style, "
                f"want >= {MIN_COMPLAINT_ASR_SHARE:.0%}"
            )
    stats["complaint"] = per


def complaint_known_texts(known):
    """conduct_known_texts(known) plus the conduct_extra turns."""
    return conduct_known_texts(known, [CONDUCT])


def conduct_known_texts(known, more=()):
    """known plus the extra_* turns (and those of the files ``more``) and the items of
    ../conduct/utterances.yaml."""
    known = dict(known)
    for cid in [*EXTRA, *more]:
        path = os.path.join(HERE, cid + ".jsonl")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                for line in filter(str.strip, fh):
                    try:
                        known.setdefault(norm(json.loads(line)["text"]), cid + ".jsonl")
                    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                        pass
    path = os.path.normpath(os.path.join(HERE, "..", "conduct", "utterances.yaml"))
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r'\s*-\s+"(.*)"\s*$', line)
                if not m:
                    continue
                for part in m.group(1).split("\\n"):
                    part = re.sub(r"^(agent|caller):\s*", "", part)
                    known.setdefault(norm(part), "conduct/utterances.yaml")
    known.pop("", None)
    return known


def known_texts(src, rows):
    """Normalised turn texts of the blind transcripts and of ../turn-labels."""
    known = {}
    for cid in rows:
        path = os.path.join(src, cid + ".txt")
        if os.path.isfile(path):
            for _, text in read_transcript(path):
                known.setdefault(norm(text), cid + ".txt")
    dev = os.path.normpath(os.path.join(HERE, "..", "turn-labels"))
    if os.path.isdir(dev):
        for name in sorted(os.listdir(dev)):
            if name.endswith(".jsonl"):
                with open(os.path.join(dev, name), encoding="utf-8") as fh:
                    for line in filter(str.strip, fh):
                        known.setdefault(norm(json.loads(line)["text"]), "turn-labels/" + name)
    known.pop("", None)
    return known


def print_counts(stats):
    rows = stats["rows"]
    total = {g: sum(rows[g].values()) for g in GROUPS}
    print(
        f"turn-labels-extra: {stats['calls']} blind calls + {len(EXTRA) + 2} extra files, "
        f"{sum(total.values())} turns ("
        f"{sum(rows[g]['agent'] for g in GROUPS)} agent, {sum(rows[g]['caller'] for g in GROUPS)} caller)"
    )
    print(f"{'label (turns)':26}" + "".join(f"{g:>13}" for g in GROUPS) + f"{'ALL':>8}")
    print(
        f"{'turns':26}" + "".join(f"{total[g]:>13}" for g in GROUPS) + f"{sum(total.values()):>8}"
    )
    names = (
        [("agent " + lab, lab) for lab in AGENT_LABELS]
        + [("agent (none)", "(none) agent")]
        + [("caller " + lab, lab) for lab in CALLER_LABELS]
        + [("caller (none)", "(none) caller")]
    )
    for shown, key in names:
        c = stats["labels"][key]
        print(f"{shown:26}" + "".join(f"{c[g]:>13}" for g in GROUPS) + f"{sum(c.values()):>8}")
    a = stats["asr"]
    print(
        f"{'raw-ASR-style turns':26}"
        + "".join(f"{a[g]:>13}" for g in GROUPS)
        + f"{sum(a.values()):>8}"
    )
    for g in ["extra-id", "extra-en", "conduct-id", "conduct-en", "complaint-id", "complaint-en"]:
        w = stats["words"][g]
        if w:
            print(
                f"{g}: {len(w)} turns, {min(w)}-{max(w)} words (median {sorted(w)[len(w) // 2]}), "
                f"raw-ASR style {a[g] / len(w):.0%}"
            )
    for g in ["conduct-id", "conduct-en"]:
        n = stats["rows"][g]["agent"]
        if n:
            pos = n - stats["labels"]["(none) agent"][g] - stats["conduct_other"][g]
            print(
                f"{g}: {pos} with a conduct label, {stats['labels']['(none) agent'][g]} hard negatives "
                f"with an empty label list, {stats['conduct_other'][g]} hard negatives with other labels only"
            )
    per = stats.get("complaint")
    for lang in COMPLAINT_LANGS if per else []:
        g = "complaint-" + lang
        pos = per[(lang, "caller", "raises_complaint")]
        asr = per[(lang, "caller", "raises_complaint asr")]
        both = per[(lang, "caller", "both")]
        print(
            f"{g}: caller {stats['rows'][g]['caller']}: raises_complaint {pos} (raw-ASR {asr}, "
            f"{asr / pos if pos else 0:.0%}; {both} also raises_objection), without it "
            f"{per[(lang, 'caller', '(no complaint)')]} "
            f"({per[(lang, 'caller', 'raises_objection')] - both} raises_objection, "
            f"{per[(lang, 'caller', '(empty)')]} empty)"
        )
        print(
            f"{g}: agent {stats['rows'][g]['agent']}: acknowledge {per[(lang, 'agent', 'acknowledge')]}, "
            f"clarify {per[(lang, 'agent', 'clarify')]} ({per[(lang, 'agent', 'acknowledge+clarify')]} both), "
            f"needs {per[(lang, 'agent', 'needs')]}, empty {per[(lang, 'agent', '(empty)')]}"
        )


def main(argv):
    src = blind_calls_dir(argv)
    labels_path = os.path.join(src, "labels.jsonl")
    if not os.path.isfile(labels_path):
        print(f"blind-call labels not found: {labels_path} (use --blind-calls DIR)")
        return 1
    with open(labels_path, encoding="utf-8") as fh:
        rows = {r["id"]: r for r in map(json.loads, filter(str.strip, fh))}

    errors = []
    err = errors.append
    present = {f[: -len(".jsonl")] for f in os.listdir(HERE) if f.endswith(".jsonl")}
    for cid in sorted(set(rows) - present):
        err(f"{cid}: no {cid}.jsonl")
    for cid in sorted(present - set(rows) - set(EXTRA) - {CONDUCT, CONDUCT2, COMPLAINT}):
        err(
            f"{cid}.jsonl: neither a call in {labels_path} nor one of "
            f"{sorted(EXTRA) + [CONDUCT, CONDUCT2, COMPLAINT]}"
        )

    stats = {
        "calls": 0,
        "rows": collections.defaultdict(collections.Counter),
        "labels": collections.defaultdict(collections.Counter),
        "asr": collections.Counter(),
        "words": collections.defaultdict(list),
        "conduct_other": collections.Counter(),
    }
    for cid in sorted(set(rows) & present):
        stats["calls"] += 1
        check_blind(cid, rows[cid], src, stats, err)
    known = known_texts(src, rows)
    for cid, lang in EXTRA.items():
        check_extra(cid, lang, known, stats, err)
    check_conduct(conduct_known_texts(known), stats, err)
    check_conduct(conduct_known_texts(known, [CONDUCT, COMPLAINT]), stats, err, CONDUCT2)
    check_complaint(complaint_known_texts(known), stats, err)

    print_counts(stats)
    if errors:
        for e in errors:
            print("ERROR:", e)
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    print(
        "OK: keys, roles, texts, label names, agreement with the blind-call labels, extra-turn, "
        "conduct-turn and complaint-turn sizes all valid."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
