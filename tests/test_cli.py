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


def test_validate_and_consolidate_json_speak_the_masters_words(demo_inbox, tmp_path):
    """One vocabulary: a finding in validate --json has the columns of tblBevindingen (lower
    case), and consolidate --json counts those same grouped findings."""
    import json

    import openpyxl

    files = sorted(str(p) for p in demo_inbox.iterdir() if p.suffix == ".xlsx")
    validated = run("validate", "--json", *files)
    findings = json.loads(validated.stdout)
    assert findings and all(set(f) == {"bestand", "blad", "cel", "cellen", "code", "ernst",
                                       "melding", "detail"} for f in findings)
    master = tmp_path / "master.xlsx"
    done = run("consolidate", str(demo_inbox), "-o", str(master), "--json")
    summary = json.loads(done.stdout)
    english = {"file", "sheet", "cell", "severity", "message", "files", "status_counts"}
    assert not english & set(summary)
    rows = list(openpyxl.load_workbook(master, read_only=True)["Validatie"].iter_rows(
        min_row=6, values_only=True))
    shown = [r for r in rows if r[0]]
    assert summary["bevindingen"] == len(shown)
    assert summary["fouten"] == sum(r[4] == "fout" for r in shown)
    assert {u["status"] for u in summary["telt_niet_mee"]} <= {
        "afgekeurd", "vervangen", "dubbel", "vergrendeld", "in aanvoer", "overgeslagen"}
