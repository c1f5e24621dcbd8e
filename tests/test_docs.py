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
