"""Every Dutch text a user sees comes from a catalogue: findings from ``messages.csv`` (which a
region or municipality can reword, and then that wording is what users read), everything
else from ``texts.csv``, argparse's own English included."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import xlmonitor
from xlmonitor.cli import build_parser
from xlmonitor.texts import texts

PACKAGE = Path(xlmonitor.__file__).resolve().parent
REJECTED = "Monitor_Eemnes_2021-Q2_v1.xlsx"   # negatief-getal and geen-geheel-getal


def used_keys() -> set[str]:
    """Keys passed as a literal to ``text(…)`` anywhere in the package."""
    keys = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "text" and \
                    node.args:
                options = [node.args[0]]
                while any(isinstance(o, ast.IfExp) for o in options):  # "a" if … else "b"
                    options = [part for o in options for part in (
                        [o.body, o.orelse] if isinstance(o, ast.IfExp) else [o])]
                keys |= {o.value for o in options if isinstance(o, ast.Constant)}
    return keys


def test_every_text_used_is_in_the_catalogue_and_every_text_there_is_used():
    catalogue = {key for key in texts() if not key.startswith("argparse:")}
    used = used_keys()
    assert used - catalogue == set()
    dynamic = {key for key in catalogue if key.startswith("via.")}  # text("via." + via)
    assert catalogue - used - dynamic == set()


def test_argparse_messages_in_the_catalogue_are_argparse_s_own():
    import argparse
    import inspect

    source = inspect.getsource(argparse)
    for key in texts():
        if key.startswith("argparse:"):
            assert repr(key.removeprefix("argparse:")) in source, key


def english(text: str) -> list[str]:
    return re.findall(r"usage:|positional arguments|options:|show this help|"
                      r"the following arguments|invalid choice|unrecognized", text)


@pytest.mark.parametrize("command", [[], ["consolidate"], ["validate"], ["export"],
                                     ["watch"], ["schedule"], ["template"], ["demo"]])
def test_help_is_dutch_throughout(command):
    parser = build_parser()
    if command:
        parser = parser._subparsers._group_actions[0].choices[command[0]]
    shown = parser.format_help()
    assert english(shown) == [], shown
    assert shown.startswith("gebruik: xlmonitor") and "\nopties:\n" in shown
    assert "toon deze hulp en stop" in shown


@pytest.mark.parametrize(("args", "said"), [
    (["validate"], "deze argumenten ontbreken: BESTAND"),
    (["verwerk"], "argument OPDRACHT: ongeldige keuze: 'verwerk'"),
    (["export", "m.xlsx", "--dpi", "veel"], "argument --dpi: ongeldige waarde: 'veel'"),
    (["demo", "a", "b"], "onbekende argumenten: b"),
])
def test_usage_errors_are_one_dutch_line(args, said):
    done = subprocess.run([sys.executable, "-m", "xlmonitor.cli", *args], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"xlmonitor: Ongeldige invoer: {said}")
    assert done.stderr.endswith(". Zie 'xlmonitor --help'.\n")
    assert len(done.stderr.splitlines()) == 1


# -- a region's own wording of findings ---------------------------------------------------------

REWORDED = ("code,melding\n"
            "negatief-getal,\"In {cell} staat {value}: een aantal kan niet negatief zijn. "
            "Bel het regioteam.\"\n")


@pytest.fixture
def share(tmp_path, demo_inbox) -> Path:
    (tmp_path / "inbox").mkdir()
    shutil.copy2(demo_inbox / REJECTED, tmp_path / "inbox" / REJECTED)
    (tmp_path / "meldingen.csv").write_text(REWORDED, "utf-8")
    return tmp_path


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlmonitor.cli", *args], capture_output=True,
                          text=True, check=False, cwd=cwd, env={**os.environ, **(env or {})})


def validatie(master: Path) -> list[str]:
    sheet = openpyxl.load_workbook(master)["Validatie"]
    return [row[5] for row in sheet.iter_rows(values_only=True) if row[3] == "negatief-getal"]


def test_the_override_named_in_xlmonitor_toml_is_what_the_master_shows(share):
    (share / "xlmonitor.toml").write_text('inbox = "inbox"\nmeldingen = "meldingen.csv"\n'
                                          'cache = true\ntaken = 2\n', "utf-8")
    done = cli("consolidate", "-o", "master.xlsx", cwd=share)
    assert done.returncode == 1, done.stderr
    [message] = validatie(share / "master.xlsx")
    assert message.startswith("In D10 (blad Invoer) staat -2: een aantal kan niet negatief ")
    # The cache keeps rendered findings: without the override a re-run says the shipped text.
    (share / "xlmonitor.toml").write_text('inbox = "inbox"\ncache = true\n', "utf-8")
    assert cli("consolidate", "-o", "master.xlsx", cwd=share).returncode == 1
    [message] = validatie(share / "master.xlsx")
    assert message.endswith("is negatief; vul een aantal in (0 of meer).")


def test_validate_and_the_feedback_copy_use_the_override(share):
    done = cli("--meldingen", "meldingen.csv", "validate", f"inbox/{REJECTED}",
               "--feedback", "terug", cwd=share)
    assert "  - [fout] In D10 (blad Invoer) staat -2: een aantal kan niet negatief zijn. " \
           "Bel het regioteam." in done.stdout.splitlines()
    copy = next((share / "terug").glob("*.controle.xlsx"))
    shown = [c for row in openpyxl.load_workbook(copy)["Controle"].iter_rows(values_only=True)
             for c in row if isinstance(c, str) and "Bel het regioteam" in c]
    assert shown
    by_environment = cli("validate", f"inbox/{REJECTED}", cwd=share,
                         env={"XLMONITOR_MELDINGEN": str(share / "meldingen.csv")})
    assert "Bel het regioteam." in by_environment.stdout


@pytest.mark.parametrize(("row", "said"), [
    ("negatief-getal,waarschuwing,,Mag wel.", "de ernst van 'negatief-getal' is 'fout'"),
    ("negatief-gtal,,,Tikfout.", "Onbekende code 'negatief-gtal'"),
    ("negatief-getal,,,Cel {cell}: {aantal}.", "gebruikt aantal, dat xlmonitor"),
])
def test_an_override_that_cannot_work_is_refused_in_dutch(share, row, said):
    (share / "meldingen.csv").write_text("code,ernst,titel,melding\n" + row + "\n", "utf-8")
    done = cli("--meldingen", "meldingen.csv", "validate", f"inbox/{REJECTED}", cwd=share)
    assert done.returncode == 2 and said in done.stderr and "regel 2" in done.stderr
    assert len(done.stderr.splitlines()) == 1


#: Modules whose every user-facing text comes from a catalogue (the rest: see the report of
#: issue 18; programme and intake messages are being reworded under issue 14).
CATALOGUED = ["cli.py", "findings.py", "texts.py", "run/schedule.py", "run/settings.py",
              "run/masterfile.py", "run/summary.py", "excel/button.py"]
DEVELOPER_ERRORS = {"TypeError", "ValueError", "KeyError", "AssertionError",
                    "NotImplementedError", "RuntimeError"}


def literal_texts(path: Path) -> list[str]:
    """Where ``path`` raises an xlmonitor error or prints with a written-out text."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        call = node.exc if isinstance(node, ast.Raise) else node
        if not isinstance(call, ast.Call) or not call.args:
            continue
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        raised = isinstance(node, ast.Raise) and name.endswith("Error") and \
            name not in DEVELOPER_ERRORS
        printed = name in ("print", "echo", "alert") and isinstance(node, ast.Call)
        first = call.args[0]
        if (raised or printed) and words(first):
            found.append(f"{path.name}:{node.lineno}")
    return found


def words(node: ast.expr) -> bool:
    """Whether a literal holds words (not only placeholders, punctuation and our name; the
    test hook's ``xlmonitor-test: pauze`` line is for tests only)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        written = node.value
    elif isinstance(node, ast.JoinedStr):
        written = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    else:
        return False
    written = written.replace("xlmonitor-test: pauze", "").replace("xlmonitor", "")
    return re.search(r"[A-Za-z]{3,}", written) is not None


@pytest.mark.parametrize("module", CATALOGUED)
def test_no_text_is_written_out_in_catalogued_modules(module):
    assert literal_texts(PACKAGE / module) == []
