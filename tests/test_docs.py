"""Every command has help text and a README section (sqlite-utils' test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from callscan.cli.app import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group, prefix: str = "callscan"):
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}"
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            yield from _commands(cmd, full)
        else:
            yield full, cmd


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_there_are_commands():
    names = [n for n, _ in COMMANDS]
    assert "callscan transcribe" in names and "callscan models install" in names


def test_every_command_has_help_and_a_readme_section():
    for name, cmd in COMMANDS:
        assert (cmd.help or "").strip(), f"{name} has no help text"
        assert f"### `{name}" in README, f"README has no section for {name}"


def test_every_option_has_help():
    for name, cmd in COMMANDS:
        for param in cmd.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"{name} {param.opts[0]} has no help"


def test_readme_synopses_are_generated_from_the_cli():
    """The CLI reference quotes each command's synopsis as scripts/cli_reference.py makes it
    (regenerate with `.venv/bin/python scripts/cli_reference.py --update`)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    assert spec is not None and spec.loader is not None
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    for name, cmd in ref.commands(typer.main.get_command(app)):
        block = f"### `{name}`\n\n```\n{ref.wrapped(name, cmd)}\n```\n"
        assert block in README, f"README's synopsis of {name} is out of date"
