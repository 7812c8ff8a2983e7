"""The command line: help for every command, one-line Dutch usage errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlmonitor.cli import build_parser, main

COMMANDS = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_commands_have_help(name):
    assert COMMANDS[name].description or COMMANDS[name].format_help()
    action = next(a for a in build_parser()._subparsers._group_actions[0]._choices_actions
                  if a.dest == name)
    assert action.help, f"{name} is missing its help"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlmonitor.cli", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("args, expected", [
    (["template", "--gemeente", "Amsterdam", "--periode", "2021-Q3", "-o", "x.xlsx"],
     "Onbekende gemeente 'Amsterdam'"),
    (["template", "--gemeente", "Huizen", "--periode", "2021-Q5", "-o", "x.xlsx"],
     "Ongeldige periode '2021-Q5'"),
    (["consolidate", "map-die-niet-bestaat", "-o", "m.xlsx"], "bestaat niet"),
    (["validate", "nergens.xlsx"], "Bestand 'nergens.xlsx' bestaat niet"),
    (["consolidate", "inbox"], "Ongeldige invoer"),
    (["onzin"], "Ongeldige invoer"),
    (["consolidate", ".", "-o", "m.xlsx", "--peilperiode", "2021-Q7"],
     "Ongeldige peilperiode '2021-Q7'"),
    (["--programma", "geen.xlsx", "validate", "x.xlsx"], "Programmabestand geen.xlsx bestaat niet"),
])
def test_bad_input_is_one_dutch_line_and_exit_2(tmp_path, args, expected):
    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", *args], capture_output=True,
                            text=True, check=False, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "OPDRACHT" in capsys.readouterr().out


def test_help_is_dutch():
    result = run("--help")
    assert result.returncode == 0
    assert "Controleert de kwartaalwerkmappen" in result.stdout


def test_version_names_the_package():
    from xlmonitor import __version__

    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"xlmonitor {__version__}"
