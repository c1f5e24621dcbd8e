"""Print the synopsis of every callscan command from its own --help definitions.

The README's CLI reference quotes these synopses; tests/test_docs.py checks that every
option of every command appears in that command's README section, so the two cannot drift.
Run: .venv/bin/python scripts/cli_reference.py (print) or ... --update (rewrite the README blocks)
"""

from __future__ import annotations

import typer.main

from callscan.cli.app import app


def commands(group, prefix: str = "callscan"):
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        if hasattr(cmd, "commands"):
            yield from commands(cmd, full)
        else:
            yield full, cmd


def synopsis(name: str, cmd) -> str:
    ctx = cmd.make_context(cmd.name, [], resilient_parsing=True)
    parts = [name]
    for p in cmd.params:
        if p.param_type_name == "argument":
            parts.append(p.name.upper() + ("..." if p.nargs == -1 else ""))
    for p in cmd.params:
        if p.param_type_name != "option" or p.name == "help":
            continue
        flag = max(p.opts, key=len)
        if p.is_flag:
            parts.append(f"[{flag}]")
        else:
            shown = str(p.display_type(ctx)).strip("<>")
            metavar = shown if "|" in shown else p.name.upper()
            parts.append(f"[{flag} {metavar}]")
    return " ".join(parts)


def wrapped(name: str, cmd, width: int = 96) -> str:
    """The synopsis wrapped for the README: continuation lines indented under the arguments."""
    import textwrap

    line = synopsis(name, cmd)
    head = " ".join(p for p in line.split(" [")[0:1])
    indent = " " * (len(name) + 1)
    words, out = line[len(head) :].strip(), head
    chunks = ["[" + c if not c.startswith("[") else c for c in words.split(" [") if c]
    lines = [out]
    for c in chunks:
        if len(lines[-1]) + 1 + len(c) > width:
            lines.append(indent + c)
        else:
            lines[-1] += " " + c
    return textwrap.dedent("\n".join(lines))


def update_readme(path: str = "README.md") -> None:
    """Replace each command section's synopsis block in the README with the generated one."""
    import re

    text = open(path, encoding="utf-8").read()
    for name, cmd in commands(typer.main.get_command(app)):
        header = f"### `{name}`\n\n"
        i = text.index(header) + len(header)
        block = f"```\n{wrapped(name, cmd)}\n```\n"
        if text.startswith("```", i):
            j = text.index("```\n", i + 3) + 4
            text = text[:i] + block + text[j:]
        else:
            text = text[:i] + block + "\n" + text[i:]
        text = re.sub(r"\n{3,}", "\n\n", text)
    open(path, "w", encoding="utf-8").write(text)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--update"]:
        update_readme()
    else:
        for name, cmd in commands(typer.main.get_command(app)):
            print(f"### `{name}`\n\n```\n{wrapped(name, cmd)}\n```\n")
